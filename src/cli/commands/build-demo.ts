import { resolve } from 'node:path';
import { optionalInt } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

export const buildDemo: CliCommand = {
  name: 'build-demo',
  usage: `  build-demo [--out DIR] [--steps N] [--resume]
                                            train the bundled demo (model + SAEs) from scratch (npm run build:demo)`,
  check(values) {
    optionalInt(values.steps, '--steps');
  },
  async run({ api, values }) {
    const stop = api.on('log', (l) => process.stderr.write(`${l.message}\n`));
    const manifest = await api.demo
      .build({ out: values.out ? resolve(values.out) : undefined, resume: values.resume, steps: optionalInt(values.steps, '--steps') })
      .finally(stop);
    printJson(manifest);
  },
};

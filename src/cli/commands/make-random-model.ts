import { resolve } from 'node:path';
import { oneOf, optionalInt, requireOptions } from '../args';
import type { CliCommand } from '../command';
import { printJson, printModel, progressPrinter } from '../print';

const ARCHS = ['gemma2', 'llama', 'mistral', 'qwen2'] as const;
const DTYPES = ['f32', 'bf16', 'f16'] as const;

export const makeRandomModel: CliCommand = {
  name: 'make-random-model',
  usage: `  make-random-model --arch gemma2 --preset gemma-2-2b|tiny --dtype bf16|f32|f16 --out DIR [--seed N]
                                            a config-correct model folder with deterministic random weights`,
  check(values) {
    requireOptions(values, 'make-random-model', ['arch', 'preset', 'dtype', 'out']);
    oneOf(values.arch, '--arch', ARCHS);
    oneOf(values.dtype, '--dtype', DTYPES);
    optionalInt(values.seed, '--seed');
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    const made = await api.model
      .makeRandom({
        arch: oneOf(values.arch, '--arch', ARCHS)!,
        preset: values.preset!,
        dtype: oneOf(values.dtype, '--dtype', DTYPES)!,
        out: resolve(values.out!),
        seed: optionalInt(values.seed, '--seed'),
      })
      .finally(done);
    if (values.json) {
      printJson(made);
      return;
    }
    console.log(`wrote ${made.path}`);
    printModel(made.info);
  },
};

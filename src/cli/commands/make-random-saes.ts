import { resolve } from 'node:path';
import { layerList, oneOf, optionalInt, requireOptions } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

const ARCHITECTURES = ['jumprelu', 'standard', 'topk'] as const;

export const makeRandomSaes: CliCommand = {
  name: 'make-random-saes',
  usage: `  make-random-saes --model DIR --width N --out DIR [--layers all|0,5] [--architecture jumprelu|standard|topk] [--seed N]
                                            random SAEs with thresholds calibrated to a realistic L0`,
  check(values) {
    requireOptions(values, 'make-random-saes', ['model', 'width', 'out']);
    optionalInt(values.width, '--width');
    optionalInt(values.seed, '--seed');
    layerList(values.layers);
    oneOf(values.architecture, '--architecture', ARCHITECTURES);
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    const made = await api.sae
      .makeRandom({
        model: resolve(values.model!),
        width: optionalInt(values.width, '--width')!,
        out: resolve(values.out!),
        layers: layerList(values.layers),
        architecture: oneOf(values.architecture, '--architecture', ARCHITECTURES),
        seed: optionalInt(values.seed, '--seed'),
      })
      .finally(done);
    if (values.json) {
      printJson(made);
      return;
    }
    console.log(`wrote ${made.saes.length} ${made.saes[0]?.architecture ?? ''} SAEs of width ${made.saes[0]?.dSae ?? ''} to ${made.outDir}`);
    console.log(`average L0 on the calibration sample: ${Object.entries(made.l0).map(([L, v]) => `L${L} ${v}`).join(', ')}`);
  },
};

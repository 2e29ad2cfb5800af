import { resolve } from 'node:path';
import { requireOptions } from '../args';
import type { CliCommand } from '../command';
import { printJson, printModel } from '../print';

export const model: CliCommand = {
  name: 'model',
  usage: `  model --model DIR                         a local model folder: architecture, layers, parameters, dtype, memory`,
  check(values) {
    requireOptions(values, 'model', ['model']);
  },
  async run({ api, values }) {
    const info = await api.model.inspect({ path: resolve(values.model!) });
    if (values.json) printJson(info);
    else printModel(info);
  },
};

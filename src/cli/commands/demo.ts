import { resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { CliCommand } from '../command';
import { printAnalysisExport, progressPrinter } from '../print';

export const demo: CliCommand = {
  name: 'demo',
  usage: `  demo [--out DIR]                          the main job: the disparity analysis of the ten paper languages on the
                                            bundled demo model and SAEs; writes a report and prints where`,
  async run({ api, values }) {
    const info = await api.demo.info({});
    if (!info.ok) throw new ApiError('WEIGHTS_NOT_FOUND', info.problem ?? 'the bundled demo is missing; rebuild it with `npm run build:demo`');
    const out = resolve(values.out ?? 'linguascope-report');
    const done = progressPrinter(api);
    const result = await api.analysis
      .export({ model: info.model, saes: info.saes, languages: info.languages, corpus: 'udhr', limit: info.limit, settings: info.settings, outDir: out })
      .finally(done);
    if (!values.json) console.log(`bundled demo (${info.dir}); ${info.settingsReason}`);
    printAnalysisExport(result, values.json);
  },
};

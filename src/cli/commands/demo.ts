import { resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { UsageError } from '../args';
import type { CliCommand } from '../command';
import { printStudy, studyProgress } from '../study-print';

export const demo: CliCommand = {
  name: 'demo',
  usage: `  demo [--out DIR]                          the main job: the whole study on the bundled demo model and SAEs —
                                            the gap of the ten paper languages, a LoRA fine-tune of the
                                            medium/low tier, re-measured and evaluated before/after; one report`,
  check(values) {
    // The demo's settings are the bundled recipe's: a flag of another command would be ignored.
    const other = Object.entries(values).find(([flag, v]) => v !== undefined && v !== false && !['out', 'json', 'db', 'help'].includes(flag));
    if (other) throw new UsageError(`demo takes only --out (and --json, --db); for other settings run \`linguascope study\` on the demo's model and SAEs (got --${other[0]})`);
  },
  async run({ api, values }) {
    const info = await api.demo.info({});
    if (!info.ok) throw new ApiError('WEIGHTS_NOT_FOUND', info.problem ?? 'the bundled demo is missing; rebuild it with `npm run build:demo`');
    const out = resolve(values.out ?? 'linguascope-report');
    const done = studyProgress(api);
    const result = await api.study
      .run({ model: info.model, saes: info.saes, languages: info.languages, corpus: 'udhr', limit: info.limit, analysis: info.settings, finetune: info.finetune, outDir: out })
      .finally(done);
    if (!values.json) console.log(`bundled demo (${info.dir}); ${info.settingsReason}`);
    printStudy(result, Boolean(values.json));
  },
};

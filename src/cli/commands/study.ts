import { resolve } from 'node:path';
import { REDUCTIONS } from '../../shared/finetune';
import { oneOf, optionalInt, requireOptions, splitList, UsageError } from '../args';
import type { CliCommand } from '../command';
import { printStudy, studyProgress } from '../study-print';
import { settingsFrom } from './finetune';

/** The flags `study` reads; any other flag of the shared option table (another command's, such as
 * --target for --targets) is refused rather than silently ignored. */
const FINETUNE_FLAGS = ['space', 'loss-reduction', 'direction', 'normalisation', 'loss-features', 'retention-weight', 'rank', 'alpha', 'rslora', 'modules', 'adapt-layers', 'loss-layers', 'lr', 'warmup', 'pairs', 'passes', 'held-out', 'batch', 'batch-tokens', 'max-tokens', 'seed', 'steps', 'eval-every', 'checkpoint-every', 'patience', 'watchdog'];
const STUDY_FLAGS = new Set(['model', 'saes', 'languages', 'targets', 'out', 'corpus', 'limit', 'reduction', 'choices', 'bootstrap', ...FINETUNE_FLAGS, 'json', 'db', 'help']);

export const study: CliCommand = {
  name: 'study',
  usage: `  study --model DIR --saes DIR --languages en,zh,..,hi --out DIR [--targets mr,ml,hi] [--reduction mean|max]
          [--corpus udhr|FILE.tsv] [--limit N] [--choices N] [--bootstrap N] [+ any finetune setting]
                                            the whole study in DIR: measure every language, fine-tune the targets
                                            (default the medium/low tier), re-measure the held-out segments,
                                            evaluate before/after on a continuation task cut from them, correlate`,
  check(values) {
    const other = Object.entries(values).find(([flag, v]) => v !== undefined && v !== false && !STUDY_FLAGS.has(flag));
    if (other) throw new UsageError(`study does not take --${other[0]}${other[0] === 'target' ? ' (did you mean --targets?)' : ''}`);
    requireOptions(values, 'study', ['model', 'saes', 'languages', 'out']);
    splitList(values.languages, '--languages');
    if (values.targets !== undefined) splitList(values.targets, '--targets');
    settingsFrom(values);
    oneOf(values.reduction, '--reduction', REDUCTIONS);
    optionalInt(values.limit, '--limit');
    optionalInt(values.choices, '--choices');
    optionalInt(values.bootstrap, '--bootstrap');
  },
  async run({ api, values }) {
    const done = studyProgress(api);
    const reduction = oneOf(values.reduction, '--reduction', REDUCTIONS);
    const choices = optionalInt(values.choices, '--choices');
    const result = await api.study
      .run({
        model: resolve(values.model!),
        saes: resolve(values.saes!),
        languages: splitList(values.languages, '--languages'),
        ...(values.targets !== undefined ? { targets: splitList(values.targets, '--targets') } : {}),
        corpus: values.corpus === undefined || values.corpus === 'udhr' ? 'udhr' : resolve(values.corpus),
        limit: optionalInt(values.limit, '--limit'),
        ...(reduction ? { analysis: { reduction } } : {}),
        finetune: settingsFrom(values),
        ...(choices !== undefined ? { task: { choices } } : {}),
        bootstrap: optionalInt(values.bootstrap, '--bootstrap'),
        outDir: resolve(values.out!),
      })
      .finally(done);
    printStudy(result, Boolean(values.json));
  },
};

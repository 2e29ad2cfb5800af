import { resolve } from 'node:path';
import { oneOf, optionalInt, requireOptions, splitList } from '../args';
import type { CliCommand } from '../command';
import { printAnalysisExport, progressPrinter } from '../print';

const REDUCTIONS = ['mean', 'max'] as const;
const FEATURE_SETS = ['english-active', 'all'] as const;

export const analyze: CliCommand = {
  name: 'analyze',
  usage: `  analyze --model DIR --saes DIR --languages en,zh,...,hi --out DIR [--corpus udhr|FILE.tsv] [--limit N]
          [--reduction mean|max] [--features english-active|all] [--bootstrap N] [--include-bos]
          [--top-features N] [--keep-features N] [--adapter DIR]
                                            the disparity analysis: summary.json, report.html, CSVs, SVG/PNG charts`,
  check(values) {
    requireOptions(values, 'analyze', ['model', 'saes', 'languages', 'out']);
    splitList(values.languages, '--languages');
    oneOf(values.reduction, '--reduction', REDUCTIONS);
    oneOf(values.features, '--features', FEATURE_SETS);
    for (const flag of ['limit', 'bootstrap', 'top-features', 'keep-features'] as const) optionalInt(values[flag], `--${flag}`);
  },
  async run({ api, values }) {
    const reduction = oneOf(values.reduction, '--reduction', REDUCTIONS);
    const features = oneOf(values.features, '--features', FEATURE_SETS);
    const bootstrap = optionalInt(values.bootstrap, '--bootstrap');
    const topFeatures = optionalInt(values['top-features'], '--top-features');
    const keepFeatures = optionalInt(values['keep-features'], '--keep-features');
    const done = progressPrinter(api);
    const result = await api.analysis
      .export({
        model: resolve(values.model!),
        saes: resolve(values.saes!),
        languages: splitList(values.languages, '--languages'),
        corpus: values.corpus === undefined || values.corpus === 'udhr' ? 'udhr' : resolve(values.corpus),
        limit: optionalInt(values.limit, '--limit'),
        settings: {
          ...(reduction ? { reduction } : {}),
          ...(features ? { features } : {}),
          ...(bootstrap !== undefined ? { bootstrap } : {}),
          ...(values['include-bos'] ? { includeBos: true } : {}),
          ...(topFeatures !== undefined ? { topFeatures } : {}),
          ...(keepFeatures !== undefined ? { keepFeatures } : {}),
        },
        outDir: resolve(values.out!),
        ...(values.adapter !== undefined ? { adapter: resolve(values.adapter) } : {}),
      })
      .finally(done);
    printAnalysisExport(result, values.json);
  },
};

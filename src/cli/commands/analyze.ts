import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { oneOf, optionalInt, optionalNumber, requireOptions, splitList } from '../args';
import type { CliCommand } from '../command';
import { printAnalysisExport, progressPrinter } from '../print';

const REDUCTIONS = ['mean', 'max'] as const;
const FEATURE_SETS = ['english-active', 'all'] as const;
const PRECISIONS = ['exact', 'fast'] as const;
const GATE_NUMBERS = [
  ['gate-max-mean-diff', 'gateMaxMeanDiff'],
  ['gate-max-gap-diff', 'gateMaxGapDiff'],
  ['gate-min-overlap', 'gateMinTopOverlap'],
] as const;

export const analyze: CliCommand = {
  name: 'analyze',
  usage: `  analyze --model DIR --saes DIR --languages en,zh,...,hi --out DIR [--corpus udhr|FILE.tsv] [--limit N]
          [--reduction mean|max] [--features english-active|all] [--bootstrap N] [--include-bos]
          [--top-features N] [--keep-features N] [--adapter DIR] [--phrases FILE.json]
          [--precision exact|fast] [--gate-segments N] [--gate-max-mean-diff X] [--gate-max-gap-diff X] [--gate-min-overlap X]
                                            the disparity analysis: summary.json, report.html, CSVs, SVG/PNG charts;
                                            --phrases (the phrases.json of \`dataset translate\`): each feature also
                                            measured on its own phrases (per_feature.csv); --precision fast: int8
                                            projections, after a fidelity gate on a sample run in both precisions`,
  check(values) {
    requireOptions(values, 'analyze', ['model', 'saes', 'languages', 'out']);
    splitList(values.languages, '--languages');
    oneOf(values.reduction, '--reduction', REDUCTIONS);
    oneOf(values.features, '--features', FEATURE_SETS);
    for (const flag of ['limit', 'bootstrap', 'top-features', 'keep-features', 'gate-segments'] as const) optionalInt(values[flag], `--${flag}`);
    oneOf(values.precision, '--precision', PRECISIONS);
    for (const [flag] of GATE_NUMBERS) optionalNumber(values[flag], `--${flag}`);
  },
  async run({ api, values }) {
    const reduction = oneOf(values.reduction, '--reduction', REDUCTIONS);
    const features = oneOf(values.features, '--features', FEATURE_SETS);
    const bootstrap = optionalInt(values.bootstrap, '--bootstrap');
    const topFeatures = optionalInt(values['top-features'], '--top-features');
    const keepFeatures = optionalInt(values['keep-features'], '--keep-features');
    const precision = oneOf(values.precision, '--precision', PRECISIONS);
    const gateSegments = optionalInt(values['gate-segments'], '--gate-segments');
    const gate: Record<string, number> = {};
    for (const [flag, key] of GATE_NUMBERS) {
      const v = optionalNumber(values[flag], `--${flag}`);
      if (v !== undefined) gate[key] = v;
    }
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
          ...(precision ? { precision } : {}),
          ...(gateSegments !== undefined ? { gateSegments } : {}),
          ...gate,
        },
        outDir: resolve(values.out!),
        ...(values.adapter !== undefined ? { adapter: resolve(values.adapter) } : {}),
        ...(values.phrases !== undefined ? { phrases: resolve(values.phrases) } : {}),
      })
      .finally(done);
    printAnalysisExport(result, values.json);
    if (values.json) return;
    const s = result.summary;
    if (s.precision_gate) {
      const g = s.precision_gate;
      console.log(`fidelity gate (fast vs exact, ${g.segments} segments): mean activation ${g.max_mean_rel_diff} relative (≤ ${g.thresholds.max_mean_rel_diff}), gap ${g.max_gap_diff_points ?? 'n/a'} points (≤ ${g.thresholds.max_gap_diff_points}), top-${g.top_k} overlap ${g.min_top_overlap} (≥ ${g.thresholds.min_top_overlap}): passed`);
    }
    if (s.per_feature && s.per_feature_phrases) {
      console.log(`per feature (${s.per_feature_phrases.file}): ${s.per_feature.length} features on their own phrases; per_feature.csv`);
      console.log('layer feature segs  gap %   ' + s.languages.map((l) => l.code.padStart(8)).join(''));
      for (const f of s.per_feature.slice(0, 20)) {
        const cell = (v: number | null) => (v === null ? 'n/a' : String(Number(v.toPrecision(4))));
        console.log(`${String(f.layer).padStart(5)} ${String(f.feature).padStart(7)} ${String(f.segments).padStart(5)} ${cell(f.gap_percent).padStart(6)}   ` + s.languages.map((l) => cell(f.mean_activation[l.code] ?? null).padStart(8)).join(''));
      }
      if (s.per_feature.length > 20) console.log(`… ${s.per_feature.length - 20} more in per_feature.csv`);
      for (const w of s.per_feature_phrases.warnings.slice(0, 5)) console.log(`warning: ${w}`);
    } else if (values.corpus !== undefined && values.corpus !== 'udhr' && existsSync(join(dirname(resolve(values.corpus)), 'phrases.json'))) {
      // Not read unasked (see AnalysisRequest.phrases); said, so a user does not miss it.
      console.log(`note: ${join(dirname(resolve(values.corpus)), 'phrases.json')} lies beside the corpus; add --phrases with it to measure each feature on its own phrases`);
    }
  },
};

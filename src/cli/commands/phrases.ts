import { resolve } from 'node:path';
import { MAXIMUM_SOURCES, THRESHOLD_RULES, type NeuronpediaPhrasesResult } from '../../shared/neuronpedia';
import { oneOf, optionalInt, optionalNumber, parseIntList, requireOptions, splitList, UsageError, type CliValues } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

/** `--window 16,4`: tokens before and after the peak. */
function parseWindow(value: string | undefined): { before: number; after: number } | undefined {
  if (value === undefined) return undefined;
  const parts = parseIntList(value, '--window');
  if (parts.length !== 2) throw new UsageError('--window needs two numbers: tokens before and after the peak, e.g. --window 16,4');
  return { before: parts[0], after: parts[1] };
}

function selection(values: CliValues) {
  const ways = [values.features !== undefined, values.search !== undefined, values['from-run'] !== undefined].filter(Boolean).length;
  if (ways !== 1) throw new UsageError('phrases neuronpedia needs exactly one of --features 1,2,3, --search TEXT or --from-run RUN_ID --top N');
  if (values['from-run'] !== undefined && values.top === undefined) throw new UsageError('--from-run needs --top N (how many of the run\'s top features)');
  if (values.top !== undefined && values['from-run'] === undefined) throw new UsageError('--top goes with --from-run RUN_ID');
  if (values.features !== undefined) return { features: parseIntList(values.features, '--features') };
  if (values.search !== undefined) return { search: values.search };
  return { fromRun: { runId: optionalInt(values['from-run'], '--from-run')!, top: optionalInt(values.top, '--top')! } };
}

function printResult(r: NeuronpediaPhrasesResult): void {
  console.log(`${r.phrases} phrases from ${r.features.length} features of ${r.modelId}/${r.sourceId} → ${r.out}`);
  console.log(`rule: ${r.settings.thresholdRule} >= ${r.settings.threshold} × ${r.settings.maximum}; window ${r.settings.before} before, ${r.settings.after} after; tokenizer ${r.tokenizer.source}`);
  for (const f of r.features) {
    const dropped = Object.entries(f.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`);
    const about = f.explanations[0] !== undefined ? ` — ${f.explanations[0].slice(0, 80)}` : '';
    console.log(`  feature ${f.feature}: ${f.phrases} phrases from ${f.passing} of ${f.records} records (maximum ${f.maximum ?? 'none'})${dropped.length ? `; dropped ${dropped.join(', ')}` : ''}${about}`);
  }
  for (const w of r.warnings) console.log(`warning: ${w}`);
}

export const phrases: CliCommand = {
  name: 'phrases',
  usage: `  phrases neuronpedia (--export DIR | --api FILE,...) --source SOURCE_ID [--model-id ID]
          (--features 1,2,3 | --search TEXT [--limit N] | --from-run RUN_ID --top N)
          [--threshold 0.8] [--rule record-max|token] [--maximum maxActApprox|recomputed] [--window 16,4]
          --tokenizer DIR [--sae PATH] --out FILE.jsonl
                                            English phrases per feature from a downloaded Neuronpedia export
                                            (examples at >= threshold of the feature's maximum, cut around the
                                            peak token, detokenised with the model's tokenizer), one JSON line each`,
  check(values, rest) {
    if (rest[0] !== 'neuronpedia') throw new UsageError('phrases needs a source: phrases neuronpedia --export DIR --source 20-gemmascope-res-16k …');
    requireOptions(values, 'phrases neuronpedia', ['source', 'tokenizer', 'out']);
    if ((values.export === undefined) === (values.api === undefined)) throw new UsageError('phrases neuronpedia needs exactly one of --export DIR or --api FILE,...');
    selection(values);
    oneOf(values.rule, '--rule', THRESHOLD_RULES);
    oneOf(values.maximum, '--maximum', MAXIMUM_SOURCES);
    const t = optionalNumber(values.threshold, '--threshold');
    if (t !== undefined && !(t > 0 && t <= 1)) throw new UsageError('--threshold is a fraction of the maximum in (0, 1], e.g. 0.8');
    parseWindow(values.window);
    optionalInt(values.limit, '--limit');
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    // 'bundled:gemma' names the Gemma tokenizer shipped with LinguaScope; anything else is a path.
    const tokenizer = values.tokenizer === 'bundled:gemma' ? values.tokenizer : resolve(values.tokenizer!);
    const result = await api.phrases
      .neuronpedia({
        ...(values.export !== undefined ? { export: resolve(values.export) } : { api: splitList(values.api, '--api').map((f) => resolve(f)) }),
        source: values.source!,
        ...(values['model-id'] !== undefined ? { modelId: values['model-id'] } : {}),
        ...selection(values),
        ...(values.limit !== undefined ? { limit: optionalInt(values.limit, '--limit') } : {}),
        ...(values.threshold !== undefined ? { threshold: optionalNumber(values.threshold, '--threshold') } : {}),
        ...(values.rule !== undefined ? { thresholdRule: oneOf(values.rule, '--rule', THRESHOLD_RULES) } : {}),
        ...(values.maximum !== undefined ? { maximum: oneOf(values.maximum, '--maximum', MAXIMUM_SOURCES) } : {}),
        ...(values.window !== undefined ? { window: parseWindow(values.window) } : {}),
        tokenizer,
        ...(values.sae !== undefined ? { sae: resolve(values.sae) } : {}),
        out: resolve(values.out!),
      })
      .finally(done);
    if (values.json) printJson(result);
    else printResult(result);
  },
};

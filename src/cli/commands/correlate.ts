import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CORRELATION_MEASURES, CORRELATION_METRICS, EVAL_TASKS, type CorrelationResult, type CorrelationStat } from '../../shared/eval';
import { oneOf, optionalInt, requireOptions } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

const stat = (s: CorrelationStat) => (s.value === null ? 'n/a' : `${s.value.toFixed(3)}${s.ci ? ` [${s.ci[0].toFixed(3)}, ${s.ci[1].toFixed(3)}]` : ''}`);

function printCorrelation(r: CorrelationResult): void {
  console.log(`${r.measure} (${r.formulas.measure}) against ${r.formulas.accuracy}`);
  console.log(`analysis: ${r.analysis.source} (${r.analysis.segments} segments, ${r.analysis.reduction}); evaluation: ${r.eval.source}`);
  console.log(`languages: ${r.points.map((p) => `${p.language} ${(100 * p.accuracy).toFixed(1)} %`).join(', ')}`);
  for (const l of r.left_out) console.log(`left out: ${l.language} (${l.why})`);
  for (const w of r.warnings) console.log(`warning: ${w}`);
  console.log(['layer', 'n', 'Pearson r [95 % CI]', 'Spearman rho [95 % CI]', 'note'].join('\t'));
  for (const l of r.per_layer) {
    const note = [l.pearson.reason, l.spearman.reason].filter((x, i, a): x is string => !!x && a.indexOf(x) === i).join('; ');
    console.log([l.layer, l.n, stat(l.pearson), stat(l.spearman), note].join('\t'));
  }
  console.log(`intervals: ${r.formulas.interval}`);
  if (r.formulas.note) console.log(`note: ${r.formulas.note}`);
  if (r.outDir) console.log(`files: ${join(r.outDir, 'correlation.csv')}, points.csv, correlation.svg, scatter-layer-<L>.svg`);
}

/** A folder or file that exists is a path; otherwise a whole number is a stored run's id. */
function analysisSource(value: string): { path: string } | { runId: number } {
  if (!existsSync(value) && /^\d+$/.test(value)) return { runId: Number(value) };
  return { path: resolve(value) };
}

export const correlate: CliCommand = {
  name: 'correlate',
  usage: `  correlate --analysis DIR|RUN_ID --eval DIR [--task arc|hellaswag|mmlu|mc] [--metric acc|acc_norm]
          [--measure deficit|gap|mean_activation] [--adapted] [--bootstrap N] [--seed N] [--out DIR]
                                            per layer, across languages: the disparity measure of an analysis
                                            (report folder or stored run) against an evaluation's accuracy
                                            (Pearson r, Spearman rho, bootstrap intervals over languages)`,
  check(values) {
    requireOptions(values, 'correlate', ['analysis', 'eval']);
    oneOf(values.task, '--task', EVAL_TASKS);
    oneOf(values.metric, '--metric', CORRELATION_METRICS);
    oneOf(values.measure, '--measure', CORRELATION_MEASURES);
    for (const flag of ['bootstrap', 'seed'] as const) optionalInt(values[flag], `--${flag}`);
  },
  async run({ api, values }) {
    const result = await api.eval.correlate({
      analysis: analysisSource(values.analysis!),
      eval: { path: resolve(values.eval!) },
      ...(values.task !== undefined ? { task: oneOf(values.task, '--task', EVAL_TASKS) } : {}),
      ...(values.metric !== undefined ? { metric: oneOf(values.metric, '--metric', CORRELATION_METRICS) } : {}),
      ...(values.measure !== undefined ? { measure: oneOf(values.measure, '--measure', CORRELATION_MEASURES) } : {}),
      ...(values.adapted ? { model: 'adapted' as const } : {}),
      ...(values.bootstrap !== undefined ? { bootstrap: optionalInt(values.bootstrap, '--bootstrap') } : {}),
      ...(values.seed !== undefined ? { seed: optionalInt(values.seed, '--seed') } : {}),
      ...(values.out !== undefined ? { outDir: resolve(values.out) } : {}),
    });
    if (values.json) printJson(result);
    else printCorrelation(result);
  },
};

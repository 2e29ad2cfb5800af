// What the correlation panel shows of an eval.correlate answer: the per-layer table's cells and the
// scatter's points, and which stored runs can be correlated. Plain functions over the backend's
// result: r, ρ and their intervals are the backend's, only formatted here; accuracy is scaled to %.
import type { RunListItem } from '../../../../shared/dto';
import type { Input } from '../../../../shared/contract';
import type { CorrelationMeasure, CorrelationResult, CorrelationStat, EvalResult } from '../../../../shared/eval';

/** A coefficient with three decimals. */
export const coefficient = (v: number): string => v.toFixed(3);

/** "0.412 [-0.310, 0.880]"; an undefined coefficient or a missing interval says why. */
export function statText(s: CorrelationStat): string {
  if (s.value === null) return `undefined (${s.reason ?? 'no reason given'})`;
  if (s.ci) return `${coefficient(s.value)} [${coefficient(s.ci[0])}, ${coefficient(s.ci[1])}]`;
  return `${coefficient(s.value)} (no interval${s.reason ? `: ${s.reason}` : ''})`;
}

export interface CorrelationRow {
  layer: number;
  n: number;
  pearson: string;
  spearman: string;
}

/** One row per layer of the analysis, in its order. */
export function correlationRows(result: CorrelationResult): CorrelationRow[] {
  return result.per_layer.map((l) => ({ layer: l.layer, n: l.n, pearson: statText(l.pearson), spearman: statText(l.spearman) }));
}

/** A scatter point: the measure at the layer (x) against accuracy in percent (y). */
export interface ScatterRow {
  language: string;
  tier: string;
  measure: number;
  accuracy: number;
  items: number;
}

export const SCATTER_COLUMNS = ['language', 'tier', 'measure', 'accuracy', 'items'] as const;

/** The languages with a measure at `layer` (a layer of the result), each at (measure, 100·accuracy). */
export function scatterRows(result: CorrelationResult, layer: number): ScatterRow[] {
  const i = result.layers.indexOf(layer);
  if (i < 0) return [];
  return result.points.flatMap((p) => {
    const m = p.measure[i];
    return m === null || m === undefined ? [] : [{ language: p.language, tier: p.tier, measure: m, accuracy: 100 * p.accuracy, items: p.items }];
  });
}

export const MEASURE_AXIS: Record<CorrelationMeasure, string> = {
  deficit: 'deficit vs English (%)',
  gap: 'gap vs high-resource tier (%)',
  mean_activation: 'mean activation',
};

/** A stored analysis in the run history (the history also lists other kinds of run). */
export type AnalysisRun = Extract<RunListItem, { kind: 'analysis' }>;

/** The stored runs an evaluation can be correlated with: analyses that can be opened. */
export function analysisRuns(runs: readonly RunListItem[]): AnalysisRun[] {
  return runs.filter((r): r is AnalysisRun => r.kind === 'analysis' && !r.problem);
}

/** "#12 demo run: en, hi, es · 4 layers · 3 segments · 2026-11-30 09:12". */
export function runLabel(r: AnalysisRun): string {
  const when = r.finishedAt.slice(0, 16).replace('T', ' ');
  return `#${r.id} ${r.name}: ${r.languages.join(', ')} · ${r.layers.length} layers · ${r.segments} segments · ${when}`;
}

/** The plain small-sample note shown with every correlation (the backend's warnings follow it). */
export function smallSampleNote(result: CorrelationResult): string {
  const n = Math.max(0, ...result.per_layer.map((l) => l.n));
  return `A correlation across ${n} language${n === 1 ? '' : 's'}: even the study's ten languages are a small n, so one language can move r and ρ a lot. Read the intervals, not the point values.`;
}

type InlineEval = Extract<Input<'eval.correlate'>['eval'], { result: unknown }>['result'];

/** The evaluation as eval.correlate takes it inline. The contract checks only the fields the
 * correlation reads and lets the others pass, so its type has an index signature an interface
 * lacks; the value is the backend's own EvalResult, unchanged. */
export const inlineEval = (result: EvalResult): InlineEval => result as unknown as InlineEval;

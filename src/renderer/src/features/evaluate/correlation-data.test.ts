// The correlation panel's cells and scatter points: the backend's coefficients formatted (never
// recomputed), an undefined coefficient or a missing interval said with the backend's reason, a
// language without a measure at the chosen layer left off the scatter (not drawn at 0), and only
// stored analyses that can be opened offered from the run history.
import { describe, expect, it } from 'vitest';
import type { RunListItem } from '../../../../shared/dto';
import type { CorrelationResult, CorrelationStat } from '../../../../shared/eval';
import { analysisRuns, correlationRows, runLabel, scatterRows, smallSampleNote, statText } from './correlation-data';

const stat = (value: number | null, ci: [number, number] | null, reason: string | null = null): CorrelationStat => ({ value, ci, reason, undefined_resamples: 0 });

function result(): CorrelationResult {
  return {
    measure: 'deficit',
    metric: 'acc',
    task: 'arc',
    model: 'base',
    analysis: { source: 'run 3', model: '/m', adapter: null, segments: 10, reduction: 'mean' },
    eval: { source: 'inline', model: '/m', adapter: null, preset: 'lm-eval-okapi' },
    layers: [2, 5],
    points: [
      { language: 'en', tier: 'reference', accuracy: 0.5, items: 40, measure: [0, 0] },
      { language: 'hi', tier: 'medium-low', accuracy: 0.25, items: 40, measure: [12.5, null] },
      { language: 'es', tier: 'high', accuracy: 0.4, items: 38, measure: [3, -1.25] },
    ],
    per_layer: [
      { layer: 2, n: 3, languages: ['en', 'hi', 'es'], pearson: stat(-0.98765, null, 'fewer than 4 languages'), spearman: stat(-1, null, 'fewer than 4 languages') },
      { layer: 5, n: 2, languages: ['en', 'es'], pearson: stat(null, null, 'a constant input'), spearman: stat(0.5, [-0.2, 0.91234]) },
    ],
    left_out: [],
    bootstrap: { resamples: 1000, seed: 0, unit: 'languages' },
    warnings: [],
    formulas: {},
    outDir: null,
    files: [],
  };
}

describe('correlation panel data', () => {
  it('formats each coefficient with its interval, or says why there is none', () => {
    expect(statText(stat(0.41234, [-0.3104, 0.88]))).toBe('0.412 [-0.310, 0.880]');
    expect(statText(stat(-0.98765, null, 'fewer than 4 languages'))).toBe('-0.988 (no interval: fewer than 4 languages)');
    expect(statText(stat(1, null))).toBe('1.000 (no interval)');
    expect(statText(stat(null, null, 'a constant input'))).toBe('undefined (a constant input)');
  });

  it('gives one row per layer in the analysis order with n', () => {
    expect(correlationRows(result())).toEqual([
      { layer: 2, n: 3, pearson: '-0.988 (no interval: fewer than 4 languages)', spearman: '-1.000 (no interval: fewer than 4 languages)' },
      { layer: 5, n: 2, pearson: 'undefined (a constant input)', spearman: '0.500 [-0.200, 0.912]' },
    ]);
  });

  it('plots the measure at the chosen layer against accuracy in percent; a missing measure is left off, an unknown layer plots nothing', () => {
    expect(scatterRows(result(), 2)).toEqual([
      { language: 'en', tier: 'reference', measure: 0, accuracy: 50, items: 40 },
      { language: 'hi', tier: 'medium-low', measure: 12.5, accuracy: 25, items: 40 },
      { language: 'es', tier: 'high', measure: 3, accuracy: 40, items: 38 },
    ]);
    expect(scatterRows(result(), 5).map((p) => [p.language, p.measure])).toEqual([
      ['en', 0],
      ['es', -1.25],
    ]);
    expect(scatterRows(result(), 7)).toEqual([]);
  });

  it('states the largest n in the small-sample note', () => {
    expect(smallSampleNote(result())).toMatch(/^A correlation across 3 languages: even the study's ten languages are a small n/);
  });

  it('offers only stored analyses that can be opened (other kinds and damaged rows are left out)', () => {
    const analysis = (id: number, problem: string | null = null) =>
      ({ id, kind: 'analysis', method: 'analysis.run', name: `run ${id}`, startedAt: '2026-11-30T09:00:00.000Z', finishedAt: '2026-11-30T09:01:02.000Z', seconds: 62, model: '/m', languages: ['en', 'hi'], layers: [0, 1], segments: 3, corpus: 'udhr', settings: {}, gapRange: null, outDir: null, summarySha256: 'a'.repeat(64), problem }) as unknown as RunListItem;
    const other = { ...analysis(9), kind: 'evaluation', method: 'eval.run' } as unknown as RunListItem;
    const runs = analysisRuns([analysis(1), other, analysis(2, 'the stored summary is damaged')]);
    expect(runs.map((r) => r.id)).toEqual([1]);
    expect(runLabel(runs[0])).toBe('#1 run 1: en, hi · 2 layers · 3 segments · 2026-11-30 09:01');
  });
});

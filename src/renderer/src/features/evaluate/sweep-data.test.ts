// The sweep comparison's cells and chart rows: one row per grid point in the backend's order,
// figures with their intervals as sweep.csv rounds them, a figure the backend could not give said as
// n/a (never drawn at 0), accuracy changes in percentage points, and the charts' points only where
// both coordinates exist.
import { describe, expect, it } from 'vitest';
import type { SweepPointResult, SweepResult } from '../../../../shared/eval';
import { accuracyKeysOf, figure, gainAccuracyRows, gainRetentionRows, sweepRows, targetsOf } from './sweep-data';

function point(i: number, over: Partial<SweepPointResult> = {}): SweepPointResult {
  return {
    name: `alpha-${i}_layers-0+1_sae-codes`,
    alpha: i,
    adaptLayers: [0, 1, 2],
    lossLayers: null,
    space: 'sae-codes',
    dir: `/sweep/p${i}`,
    status: 'ran',
    outcome: 'completed',
    steps: 2,
    seconds: 1,
    resolvedLossLayers: [0, 1],
    gain_percent: { hi: { value: 10 + i, ci: [1, 20.125] }, ml: { value: null, ci: null } },
    mean_gain_percent: 10 + i,
    retention_percent: { value: 99.5, ci: [98, 101] },
    retention_cosine: 0.999,
    accuracy: [
      { task: 'mc', language: 'hi', n: 4, metric: 'acc', before: 0.25, after: 0.5, difference: 0.25, ci: [0, 0.5] },
      { task: 'mc', language: 'hi', n: 4, metric: 'acc_norm', before: 0.25, after: 0.25, difference: 0, ci: null },
      { task: 'mc', language: 'en', n: 5, metric: 'acc', before: 0.6, after: 0.4, difference: -0.2, ci: null },
    ],
    evalDir: `/sweep/p${i}/eval`,
    ...over,
  };
}

const sweep = (points: SweepPointResult[]): SweepResult => ({ outDir: '/sweep', points, base: {}, evalData: '/data', files: [], seconds: 3 });

describe('sweep comparison data', () => {
  it('formats a figure with its interval, scaled, or n/a', () => {
    expect(figure(12.345, [3, 20.5])).toBe('12.35 [3.00, 20.50]');
    expect(figure(0.25, [0, 0.5], 100)).toBe('25.00 [0.00, 50.00]');
    expect(figure(null)).toBe('n/a');
    expect(figure(NaN)).toBe('n/a');
  });

  it('gives one row per point with gains per target, mean gain, retention and Δ acc per task/language', () => {
    const r = sweep([point(0.5), point(2, { status: 'done before', mean_gain_percent: null, retention_percent: { value: null, ci: null }, accuracy: [] })]);
    expect(targetsOf(r)).toEqual(['hi', 'ml']);
    expect(accuracyKeysOf(r)).toEqual(['mc/hi', 'mc/en']);
    expect(sweepRows(r)).toEqual([
      { label: '#1', name: 'alpha-0.5_layers-0+1_sae-codes', alpha: 0.5, layers: '0..2', space: 'sae-codes', status: 'ran', outcome: 'completed', steps: 2, gains: ['10.50 [1.00, 20.13]', 'n/a'], meanGain: '10.50', retention: '99.50 [98.00, 101.00]', accuracy: ['+25.00 [0.00, 50.00]', '-20.00'] },
      { label: '#2', name: 'alpha-2_layers-0+1_sae-codes', alpha: 2, layers: '0..2', space: 'sae-codes', status: 'done before', outcome: 'completed', steps: 2, gains: ['12.00 [1.00, 20.13]', 'n/a'], meanGain: 'n/a', retention: 'n/a', accuracy: ['n/a', 'n/a'] },
    ]);
  });

  it('charts only points with both coordinates; accuracy against the same language\'s gain (acc only, targets only)', () => {
    const r = sweep([point(0.5), point(2, { mean_gain_percent: null })]);
    expect(gainRetentionRows(r)).toEqual([{ point: '#1', name: 'alpha-0.5_layers-0+1_sae-codes', alpha: 0.5, english_retention_percent: 99.5, mean_gain_percent: 10.5 }]);
    expect(gainAccuracyRows(r)).toEqual([
      { point: '#1', name: 'alpha-0.5_layers-0+1_sae-codes', task: 'mc', language: 'hi', activation_gain_percent: 10.5, accuracy_change_pp: 25 },
      { point: '#2', name: 'alpha-2_layers-0+1_sae-codes', task: 'mc', language: 'hi', activation_gain_percent: 12, accuracy_change_pp: 25 },
    ]);
  });
});

// Before/after rows pair the two analyses by layer number, never by position.
import { describe, expect, it } from 'vitest';
import type { DisparitySummary } from '../../../../shared/dto';
import { beforeAfterRows, gapBeforeAfter } from './results-data';

const summary = (layers: number[], mean: Record<string, number[]>, gap: (number | null)[], ci: ([number, number] | null)[]): DisparitySummary =>
  ({
    languages: Object.keys(mean).map((code) => ({ code, name: code, tier: code === 'en' ? 'reference' : 'medium-low' })),
    layers,
    mean_activation: mean,
    gap_percent: gap,
    gap_percent_ci: ci,
  }) as unknown as DisparitySummary;

describe('fine-tune results rows', () => {
  it('pairs mean activations and gaps by layer, null where the after analysis lacks the layer', () => {
    const before = summary([0, 2, 4], { en: [1, 2, 3], hi: [0.1, 0.2, 0.3] }, [10, 20, null], [[5, 15], null, null]);
    const after = summary([4, 0], { en: [3.3, 1.1], hi: [0.33, 0.11] }, [null, 8], [null, [4, 12]]);
    const { rows, columns } = beforeAfterRows(before, after);
    expect(columns).toEqual(['layer', 'en_before', 'en_after', 'hi_before', 'hi_after']);
    expect(rows).toEqual([
      { layer: 0, en_before: 1, en_after: 1.1, hi_before: 0.1, hi_after: 0.11 },
      { layer: 2, en_before: 2, en_after: null, hi_before: 0.2, hi_after: null },
      { layer: 4, en_before: 3, en_after: 3.3, hi_before: 0.3, hi_after: 0.33 },
    ]);
    expect(gapBeforeAfter(before, after)).toEqual([
      { layer: 0, before: 10, before_ci: [5, 15], after: 8, after_ci: [4, 12] },
      { layer: 2, before: 20, before_ci: null, after: null, after_ci: null },
      { layer: 4, before: null, before_ci: null, after: null, after_ci: null },
    ]);
  });
});

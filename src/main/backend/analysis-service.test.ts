// Batching of the extraction: length-sorted phrases split where padding would cost more than
// another batch, within the phrase and token budgets.
import { describe, expect, it } from 'vitest';
import { batchByLength } from './analysis-service';

const batches = (lengths: number[]) => batchByLength(lengths.map((_, i) => i), (i) => lengths[i]).map((b) => b.map((i) => lengths[i]));

describe('batchByLength', () => {
  it('keeps short phrases together and apart from long ones (a greedy fill would pad them)', () => {
    // One batch: 5 x 100 + 64 = 564 padded-token equivalents; split: 3 x 10 + 64 + 2 x 100 + 64 = 358.
    expect(batches([10, 10, 10, 100, 100])).toEqual([[10, 10, 10], [100, 100]]);
  });

  it('never exceeds 16 phrases or 2048 padded tokens; a phrase over the budget runs alone', () => {
    const lengths = [...Array(40).fill(5), ...Array(10).fill(300), 3000];
    const out = batches(lengths);
    for (const b of out) {
      expect(b.length).toBeLessThanOrEqual(16);
      if (b.length > 1) expect(b.length * Math.max(...b)).toBeLessThanOrEqual(2048);
    }
    expect(out.flat()).toEqual(lengths);
    expect(out.at(-1)).toEqual([3000]);
  });

  it('does not split equal lengths needlessly', () => {
    expect(batches(Array(16).fill(20))).toEqual([Array(16).fill(20)]);
    expect(batches([])).toEqual([]);
  });
});

// The scatter's axes: every point inside the frame with room around it, equal values still given
// a range, and tick labels that differ however close the points are.
import { describe, expect, it } from 'vitest';
import { mergedLabels, paddedDomain, tickDecimals } from './scatter-axes';

describe('scatter axes', () => {
  it('widens the range by 8 % of the span, a single value by 5 % of its size (1 at 0), and ignores non-numbers', () => {
    expect(paddedDomain([0, 50])).toEqual([-4, 54]);
    expect(paddedDomain([-0.858, -0.858])).toEqual([-0.858 - 0.0429, -0.858 + 0.0429]);
    // Values within 1 part in 10^4 of each other (a sweep's equal gains) are drawn as one value.
    const [lo, hi] = paddedDomain([-0.8584585, -0.8584590]);
    expect(lo).toBeCloseTo(-0.8584588 - 0.0429229, 6);
    expect(hi).toBeCloseTo(-0.8584588 + 0.0429229, 6);
    expect(tickDecimals([lo, hi])).toBe(2);
    // 2 parts in 10^4 apart: still a span of its own.
    const [a, b] = paddedDomain([100, 100.02]);
    expect(a).toBeCloseTo(99.9984, 9);
    expect(b).toBeCloseTo(100.0216, 9);
    expect(paddedDomain([0])).toEqual([-1, 1]);
    expect(paddedDomain([NaN, 2, Infinity, 4])).toEqual([2 - 0.16, 4 + 0.16]);
    expect(paddedDomain([])).toEqual([0, 1]);
  });

  it('gives enough decimals for ticks a fifth of the range apart to differ', () => {
    expect(tickDecimals([0, 60])).toBe(0);
    expect(tickDecimals([0, 1])).toBe(1);
    expect(tickDecimals([-0.9, -0.81])).toBe(2);
    expect(tickDecimals([99.99, 100.01])).toBe(3);
    expect(tickDecimals([1, 1 + 1e-12])).toBe(6);
    expect(tickDecimals([1, 1])).toBe(2);
    for (const domain of [[0, 60], [-0.9, -0.81], [99.99, 100.01]] as [number, number][]) {
      const d = tickDecimals(domain);
      const ticks = [0, 1, 2, 3, 4, 5].map((i) => (domain[0] + (i * (domain[1] - domain[0])) / 5).toFixed(d));
      expect(new Set(ticks).size, String(domain)).toBe(6);
    }
  });

  it('joins the labels of points drawn on top of each other on the first, and leaves apart points alone', () => {
    const points = [
      { label: '#1', x: 99.81, y: -0.78 },
      { label: '#2', x: 99.8101, y: -0.7801 },
      { label: '#3', x: 101, y: -0.78 },
      { label: '#4', x: 99.81, y: -0.7799 },
    ];
    expect(mergedLabels(points, [95, 105], [-0.82, -0.74])).toEqual(['#1,\u00a0#2,\u00a0#4', '', '#3', '']);
    expect(mergedLabels([{ label: 'en', x: 0, y: 50 }, { label: 'hi', x: 40, y: 60 }], [-4, 64], [0, 100])).toEqual(['en', 'hi']);
  });
});


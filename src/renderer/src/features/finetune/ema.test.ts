// The debiased EMA against values worked out by hand from its definition (not from the code):
// s_t = β s_{t-1} + (1-β) x_t, ŝ_t = s_t / (1 - β^t).
import { describe, expect, it } from 'vitest';
import { debiasedEma } from './ema';

describe('debiasedEma', () => {
  it('matches the definition worked by hand for β = 0.5', () => {
    // s1 = 0.5·2 = 1, ŝ1 = 1/0.5 = 2; s2 = 0.5 + 0.5·4 = 2.5, ŝ2 = 2.5/0.75 = 10/3;
    // s3 = 1.25 + 0.5·8 = 5.25, ŝ3 = 5.25/0.875 = 6.
    const out = debiasedEma([2, 4, 8], 0.5);
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[1]).toBeCloseTo(10 / 3, 12);
    expect(out[2]).toBeCloseTo(6, 12);
  });

  it('starts at the first point and keeps a constant series constant (the bias is removed)', () => {
    for (const beta of [0.1, 0.9, 0.99]) {
      const out = debiasedEma(Array(50).fill(3.25), beta);
      for (const v of out) expect(v).toBeCloseTo(3.25, 10);
    }
    // Without the correction the first point would be (1-β)·x: far from x for β near 1.
    expect(debiasedEma([7], 0.99)[0]).toBeCloseTo(7, 12);
  });

  it('is the raw series for β = 0 and a weighted mean of the points seen for any β', () => {
    expect(debiasedEma([1, -2, 5], 0)).toEqual([1, -2, 5]);
    const xs = [0.9, 0.8, 0.85, 0.5, 0.7];
    const out = debiasedEma(xs, 0.9);
    out.forEach((v, i) => {
      const seen = xs.slice(0, i + 1);
      expect(v!).toBeGreaterThanOrEqual(Math.min(...seen) - 1e-12);
      expect(v!).toBeLessThanOrEqual(Math.max(...seen) + 1e-12);
    });
  });

  it('skips missing and non-finite points without advancing t', () => {
    const out = debiasedEma([2, null, Number.NaN, 4, undefined, Infinity, 8], 0.5);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeNull();
    expect(out[4]).toBeNull();
    expect(out[5]).toBeNull();
    // The finite points give the same as [2, 4, 8].
    expect(out[0]).toBeCloseTo(2, 12);
    expect(out[3]).toBeCloseTo(10 / 3, 12);
    expect(out[6]).toBeCloseTo(6, 12);
  });

  it('refuses a smoothing factor outside [0, 1)', () => {
    for (const beta of [1, -0.1, 1.5, Number.NaN]) expect(() => debiasedEma([1], beta)).toThrow(/\[0, 1\)/);
  });
});

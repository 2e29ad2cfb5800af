// Pearson, Spearman and their ranks against scipy.stats (test/fixtures/correlation/cases.json,
// scripts/reference/make_correlation_fixtures.py); intervals, small n and undefined coefficients;
// the pairing of an analysis summary with an evaluation.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DisparitySummary } from '../../shared/dto';
import type { EvalResult } from '../../shared/eval';
import { averageRanks, correlate, correlationResult, measureOf, pearson, spearman } from './correlation';

interface Case {
  name: string;
  x: number[];
  y: number[];
  pearson: number | null;
  spearman: number | null;
  rank_x: number[];
  rank_y: number[];
}
const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../test/fixtures/correlation/cases.json'), 'utf8')) as { scipy: string; cases: Case[] };

describe('Pearson and Spearman against scipy.stats', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const close = (ours: number | null, theirs: number | null) => {
      if (theirs === null) expect(ours).toBeNull();
      else expect(Math.abs(ours! - theirs)).toBeLessThanOrEqual(1e-12);
    };
    close(pearson(c.x, c.y), c.pearson);
    close(spearman(c.x, c.y), c.spearman);
    expect(averageRanks(c.x)).toEqual(c.rank_x);
    expect(averageRanks(c.y)).toEqual(c.rank_y);
  });

  it('the fixture covers ties, a constant input and n < 4', () => {
    const names = fixture.cases.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['ties', 'constant-x', 'constant-y', 'n3', 'large-offset']));
    expect(fixture.cases.find((c) => c.name === 'ties')!.rank_x).toContain(1.5);
  });
});

describe('correlate: intervals over languages', () => {
  const ten = fixture.cases.find((c) => c.name === 'ten-languages')!;

  it('gives seeded intervals that hold the point estimate and repeat for a seed', () => {
    const a = correlate(ten.x, ten.y, 2000, 3);
    const b = correlate(ten.x, ten.y, 2000, 3);
    const c = correlate(ten.x, ten.y, 2000, 4);
    expect(a).toEqual(b);
    expect(a.pearson.ci).not.toEqual(c.pearson.ci);
    for (const s of [a.pearson, a.spearman]) {
      expect(s.ci![0]).toBeLessThanOrEqual(s.value!);
      expect(s.ci![1]).toBeGreaterThanOrEqual(s.value!);
      expect(s.ci![1]).toBeLessThanOrEqual(1);
      expect(s.reason).toBeNull();
    }
  });

  it('n < 4: the coefficient but no interval, and why', () => {
    const n3 = fixture.cases.find((c) => c.name === 'n3')!;
    const out = correlate(n3.x, n3.y, 1000, 0);
    expect(out.pearson.value).toBeCloseTo(n3.pearson!, 12);
    expect(out.pearson.ci).toBeNull();
    expect(out.pearson.reason).toMatch(/3 languages are too few to resample/);
    expect(correlate([1], [0.5], 1000, 0).pearson).toMatchObject({ value: null, ci: null, reason: expect.stringMatching(/only 1 language/) });
    expect(correlate([], [], 1000, 0).spearman).toMatchObject({ value: null, reason: expect.stringMatching(/only 0 languages/) });
  });

  it('a constant input: undefined (null) with the reason, never NaN or 0', () => {
    const out = correlate([2, 2, 2, 2, 2], [0.1, 0.2, 0.3, 0.4, 0.5], 500, 0, 'deficit');
    expect(out.pearson).toMatchObject({ value: null, ci: null, reason: expect.stringMatching(/deficit is the same for every language/) });
    expect(correlate([1, 2, 3, 4], [0.3, 0.3, 0.3, 0.3], 500, 0).spearman.reason).toMatch(/accuracy is the same/);
  });

  it('resamples that repeat one language are counted and left out; too many of them: no interval', () => {
    const out = correlate([1, 2, 3, 4], [0.1, 0.3, 0.2, 0.4], 1000, 1);
    expect(out.pearson.undefined_resamples).toBeGreaterThan(0);
    // Two distinct values among 4: most resamples of a pair are constant in one of them.
    const sparse = correlate([0, 0, 0, 1], [0.1, 0.1, 0.1, 0.9], 1000, 1);
    expect(sparse.pearson.value).toBe(1);
    expect(sparse.pearson.ci).toBeNull();
    expect(sparse.pearson.reason).toMatch(/resamples repeated a single value/);
  });
});

// A summary and an evaluation as the services write them, cut to what the pairing reads.
function summary(tiers: Record<string, 'reference' | 'high' | 'medium-low'>, m: Record<string, (number | null)[]>): DisparitySummary {
  const codes = Object.keys(tiers);
  const en = m.en;
  return {
    languages: codes.map((code) => ({ code, name: code, tier: tiers[code] })),
    layers: [3, 7],
    segments: 20,
    mean_activation: m,
    deficit_vs_en: Object.fromEntries(codes.map((c) => [c, m[c].map((v, i) => (v === null || en[i] === null ? null : (100 * (en[i]! - v)) / en[i]!))])),
    model: { path: '/models/x' },
    settings: { reduction: 'mean' },
  } as unknown as DisparitySummary;
}
function evalResult(acc: Record<string, number>, task: 'arc' | 'mc' = 'arc', after = false): EvalResult {
  return {
    model: '/models/x',
    adapter: after ? '/a' : null,
    preset: 'lm-eval-okapi',
    results: Object.entries(acc).map(([language, a]) => ({ task, language, n: 50, before: { acc: a, acc_stderr: 0, acc_norm: a + 0.01, acc_norm_stderr: 0 }, ...(after ? { after: { acc: a + 0.05, acc_stderr: 0, acc_norm: a, acc_norm_stderr: 0 } } : {}) })),
  } as unknown as EvalResult;
}
const base = { metric: 'acc' as const, measure: 'deficit' as const, model: 'base' as const, bootstrap: 200, seed: 0, analysisSource: 'a', evalSource: 'e' };

describe('correlationResult: pairing an analysis with an evaluation', () => {
  const tiers = { en: 'reference', fr: 'high', hi: 'medium-low', ml: 'medium-low', mr: 'medium-low' } as const;
  const m = { en: [1, 2], fr: [0.9, 1.8], hi: [0.5, 1.2], ml: [0.4, null], mr: [0.6, 1.0] };

  it('pairs the languages present in both, per layer, and lists the rest', () => {
    const r = correlationResult({ ...base, summary: summary(tiers, m), evalResult: evalResult({ en: 0.6, fr: 0.5, hi: 0.3, ml: 0.25, zh: 0.4 }) });
    expect(r.points.map((p) => p.language)).toEqual(['en', 'fr', 'hi', 'ml']);
    expect(r.left_out).toEqual([
      { language: 'mr', why: 'no arc accuracy in the evaluation' },
      { language: 'zh', why: 'not in the analysis' },
    ]);
    expect(r.per_layer.map((l) => l.n)).toEqual([4, 3]);
    expect(r.per_layer[1].languages).toEqual(['en', 'fr', 'hi']);
    expect(r.per_layer[1].pearson.ci).toBeNull();
    expect(r.warnings.join(' ')).toMatch(/n = 3 to 4 languages \(per layer\): below 4 no interval/);
    // The deficit is linear in m at one layer: r flips sign against the mean activation's.
    const mean = correlationResult({ ...base, measure: 'mean_activation', summary: summary(tiers, m), evalResult: evalResult({ en: 0.6, fr: 0.5, hi: 0.3, ml: 0.25 }) });
    expect(mean.per_layer[0].pearson.value).toBeCloseTo(-r.per_layer[0].pearson.value!, 12);
  });

  it('ten languages: the small-n warning says so', () => {
    const codes = ['en', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'];
    const t = Object.fromEntries(codes.map((c, i) => [c, i === 0 ? 'reference' : i < 4 ? 'high' : 'medium-low'])) as Record<string, 'reference'>;
    const mm = Object.fromEntries(codes.map((c, i) => [c, [1 - i / 20, 2 - i / 7]]));
    const r = correlationResult({ ...base, summary: summary(t, mm), evalResult: evalResult(Object.fromEntries(codes.map((c, i) => [c, 0.5 - ((i * 7) % 10) / 50]))) });
    expect(r.warnings[0]).toMatch(/^n = 10 languages is a small sample/);
    expect(r.per_layer.every((l) => l.pearson.ci !== null)).toBe(true);
  });

  it('gap per language is taken against the high-resource mean', () => {
    const g = measureOf(summary(tiers, m), 'gap', 'hi');
    expect(g[0]).toBeCloseTo((100 * (0.9 - 0.5)) / 0.9, 12);
    expect(measureOf(summary(tiers, m), 'gap', 'ml')[1]).toBeNull();
  });

  it.each([
    ['several tasks and none chosen', { evalResult: { ...evalResult({ en: 0.5 }), results: [...evalResult({ en: 0.5 }).results, ...evalResult({ en: 0.5 }, 'mc').results] } }, 'task', /several tasks \(arc, mc\)/],
    ['a task the evaluation lacks', { task: 'mmlu' as const }, 'task', /no mmlu results/],
    ['the adapted model without an adapter', { model: 'adapted' as const }, 'model', /no scores with an adapter/],
    ['gap with no high-resource language', { measure: 'gap' as const, summary: summary({ en: 'reference', hi: 'medium-low' }, { en: [1, 1], hi: [0.5, 0.5] }) }, 'measure', /no high-resource language/],
    ['no language in common', { evalResult: evalResult({ zh: 0.5 }) }, 'languages', /share no language/],
    ['an evaluation without results', { evalResult: { ...evalResult({}), results: [] } }, 'eval', /no scored task/],
  ])('refuses %s (INVALID_ARGUMENT naming the setting)', (_name, over, setting, message) => {
    const input = { ...base, summary: summary(tiers, m), evalResult: evalResult({ en: 0.6, hi: 0.3 }), ...over };
    expect(() => correlationResult(input as Parameters<typeof correlationResult>[0])).toThrow(message);
    try {
      correlationResult(input as Parameters<typeof correlationResult>[0]);
    } catch (error) {
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
    }
  });

  it('the adapted model: the accuracy after', () => {
    const r = correlationResult({ ...base, model: 'adapted', summary: summary(tiers, m), evalResult: evalResult({ en: 0.6, hi: 0.3 }, 'arc', true) });
    expect(r.points.map((p) => p.accuracy)).toEqual([0.65, 0.35]);
  });
});

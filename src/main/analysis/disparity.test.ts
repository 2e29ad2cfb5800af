// The disparity formulas on a hand-made example whose figures are worked out by hand below.
import { describe, expect, it } from 'vitest';
import type { PhraseSummary } from '../sae/extract';
import { cacheRow, exactValues, type CachedSummary } from '../store/sae-cache-repo';
import { analyzeDisparity, DEFAULT_DISPARITY, gapReason, type DisparityInput } from './disparity';
import { topFeatureCandidates } from './top-features';

const S = (features: number[], mean: number[], max: number[] = mean, fid: Partial<PhraseSummary['fidelity']> = {}): PhraseSummary => ({
  features: Uint32Array.from(features),
  mean: Float32Array.from(mean),
  max: Float32Array.from(max),
  fidelity: { sse: 1, sumSq: 10, cos: 1.8, l0: 6, sumNormSq: 8, count: 2, ...fid },
});

// Languages: en (reference), es (high), hi (medium-low); two segments; one layer; d_sae = 4.
//   segment 0: en {0: 2, 1: 4}          es {0: 2, 1: 2}        hi {1: 1, 3: 5}
//   segment 1: en {2: 3}                 es {2: 3}              hi {2: 1.5}
// english-active phrase activations (mean over F_en):
//   s0: en (2+4)/2 = 3, es (2+2)/2 = 2, hi (0+1)/2 = 0.5;  s1: en 3, es 3, hi 1.5
// m: en 3, es 2.5, hi 1;  gap = 100 (2.5 - 1) / 2.5 = 60;  deficit: es 100 (3-2.5)/3 = 16.667, hi 66.667
// all features (/4): s0 en 1.5 es 1 hi 1.5; s1 en .75 es .75 hi .375 -> m en 1.125 es .875 hi .9375
const phrases: PhraseSummary[][] = [
  [S([0, 1], [2, 4], [3, 6]), S([2], [3])],
  [S([0, 1], [2, 2]), S([2], [3])],
  [S([1, 3], [1, 5], [2, 9], { sse: 6 }), S([2], [1.5], [1.5], { sse: 6 })],
];
// The rows the cache holds: English rows keep their active set, the others are summed over it.
// `exact`: the features whose exact values the service's second pass added.
const rows = (keep: number, exact: number[] = [0, 1, 2, 3]): CachedSummary[][] => {
  const en = phrases[0].map((p) => cacheRow(p, null, keep, 4));
  return phrases.map((ps, L) => (L === 0 ? en : ps.map((p, s) => cacheRow(p, en[s].active, keep, 4)))).map((r, L) => r.map((row, s) => ({ ...row, exact: exactValues(phrases[L][s], exact) })));
};
const table = rows(DEFAULT_DISPARITY.keepFeatures);
const input = (settings = {}): DisparityInput => ({
  languages: [
    { code: 'en', name: 'English', tier: 'reference' },
    { code: 'es', name: 'Spanish', tier: 'high' },
    { code: 'hi', name: 'Hindi', tier: 'medium-low' },
  ],
  layers: [7],
  dSae: [4],
  segments: [{ key: 's0', text: { en: 'a', es: 'b', hi: 'c' } }, { key: 's1', text: { en: 'd', es: 'e', hi: 'f' } }],
  summary: (L, s) => table[L][s],
  settings: { ...DEFAULT_DISPARITY, bootstrap: 500, ...settings },
});

describe('analyzeDisparity', () => {
  it('english-active features: language means, tier gap, deficits', () => {
    const r = analyzeDisparity(input());
    expect(r.mean_activation).toEqual({ en: [3], es: [2.5], hi: [1] });
    expect(r.gap_percent).toEqual([60]);
    expect(r.deficit_vs_en.es[0]).toBeCloseTo(16.6667, 3);
    expect(r.deficit_vs_en.hi[0]).toBeCloseTo(66.6667, 3);
    expect(r.deficit_vs_en.en).toEqual([0]);
  });

  it('all features and max reduction are named settings', () => {
    expect(analyzeDisparity(input({ features: 'all' })).mean_activation).toEqual({ en: [1.125], es: [0.875], hi: [0.9375] });
    // max: s0 en (3+6)/2 = 4.5, hi (0 + 2)/2 = 1; s1 as mean. -> en 3.75, hi 1.25
    const max = analyzeDisparity(input({ reduction: 'max' }));
    expect(max.mean_activation.en).toEqual([3.75]);
    expect(max.mean_activation.hi).toEqual([1.25]);
    expect(max.formulas.phrase_feature_activation).toContain('max over the phrase');
  });

  it('paired bootstrap: deterministic for a seed, intervals bracket the resampled figures', () => {
    const a = analyzeDisparity(input());
    const b = analyzeDisparity(input());
    expect(a.mean_activation_ci).toEqual(b.mean_activation_ci);
    // Two segments: a resample takes s0 twice, s1 twice, or one of each.
    const [lo, hi] = a.mean_activation_ci.es[0]!;
    expect(lo).toBe(2);
    expect(hi).toBe(3);
    const [glo, ghi] = a.gap_percent_ci[0]!;
    // gap over s0 only: 100 (2 - .5)/2 = 75; s1 only: 100 (3 - 1.5)/3 = 50.
    expect(glo).toBe(50);
    expect(ghi).toBe(75);
  });

  it('fidelity per language and the warning when a language is reconstructed much worse', () => {
    const r = analyzeDisparity(input());
    // en: EV = 1 - (1+1) / ((10 - 8/2) * 2) = 1 - 2/12; hi: 1 - 12/12 = 0
    expect(r.fidelity.en.explained_variance[0]).toBeCloseTo(1 - 2 / 12, 6);
    expect(r.fidelity.hi.explained_variance[0]).toBe(0);
    expect(r.fidelity.en.l0).toEqual([3]);
    expect(r.fidelity.en.cosine).toEqual([0.9]);
    expect(r.fidelity.hi.nmse).toEqual([0.6]);
    expect(r.fidelity_warnings.map((w) => w.language)).toEqual(['hi']);
  });

  it('the most disparate features, with their best English phrases in every language', () => {
    const r = analyzeDisparity(input({ topFeatures: 2 }));
    // en means: f0 1, f1 2, f2 1.5; hi means: f1 .5, f3 2.5, f2 .75 -> differences f1 1.5, f0 1, f2 .75
    expect(r.top_features.map((t) => [t.feature, t.difference])).toEqual([[1, 1.5], [0, 1]]);
    expect(r.top_features[0].phrases[0]).toMatchObject({ segment: 's0', values: { en: 4, es: 2, hi: 1 }, text: { hi: 'c' } });
  });

  it('keeping one feature per phrase changes no figure: the top features are ranked on exact values', () => {
    const full = analyzeDisparity(input());
    const kept = rows(1, []);
    // hi s0 keeps f3 (largest by mean and by max), drops f1 (mean 1, max 2): the cut records both.
    expect(Array.from(kept[2][0].features)).toEqual([3]);
    expect(kept[2][0].cut).toEqual({ mean: 1, max: 2 });
    expect(kept[2][0].reference).toEqual({ mean: 1, max: 2, count: 2 });
    // Without exact values the lists are refused, never read as 0: en s0 keeps only f1, so f0's
    // English value there (2) is only bounded.
    expect(() => analyzeDisparity({ ...input({ keepFeatures: 1 }), summary: (L, s) => kept[L][s] })).toThrow(/no exact value cached for/);
    // With the candidates' exact values (what the service's second pass adds) every figure is the
    // full one; the candidates are every English-active feature that can reach the top 10.
    const candidates = topFeatureCandidates({ en: 0, low: [2], segments: 2, dSae: 4, reduction: 'mean', top: 10, row: (L, s) => kept[L][s] });
    expect(candidates).toEqual([0, 1, 2]);
    const filled = rows(1, candidates);
    const r = analyzeDisparity({ ...input({ keepFeatures: 1 }), summary: (L, s) => filled[L][s] });
    expect(r.mean_activation).toEqual(full.mean_activation);
    expect(r.gap_percent).toEqual(full.gap_percent);
    expect(r.mean_activation_ci).toEqual(full.mean_activation_ci);
    expect(r.top_features).toEqual(full.top_features);
    // f1's Hindi value on s0 (1) was left out of its row: it is shown exactly, not as 0.
    expect(r.top_features[0]).toMatchObject({ feature: 1, en: 2, medium_low: 0.5 });
    expect(r.top_features[0].phrases[0].values).toEqual({ en: 4, es: 2, hi: 1 });
    expect(analyzeDisparity({ ...input({ features: 'all', keepFeatures: 1 }), summary: (L, s) => filled[L][s] }).mean_activation).toEqual(
      analyzeDisparity(input({ features: 'all' })).mean_activation,
    );
    expect(r.formulas.top_features).toContain('1 strongest features');
  });

  it('says why the gap is missing: no high-resource language, no medium/low one, or M_high 0', () => {
    const langs = input().languages;
    const only = (tiers: string[]) => {
      const keep = langs.map((l, i) => (tiers.includes(l.tier) ? i : -1)).filter((i) => i >= 0);
      return analyzeDisparity({ ...input(), languages: keep.map((i) => langs[i]), summary: (L, s) => table[keep[L]][s] });
    };
    const noHigh = only(['reference', 'medium-low']);
    expect(noHigh.gap_percent).toEqual([null]);
    expect(noHigh.gap_reason).toMatch(/no high-resource language was chosen/);
    expect(noHigh.top_features.length).toBeGreaterThan(0);
    const noLow = only(['reference', 'high']);
    expect(noLow.gap_percent).toEqual([null]);
    expect(noLow.gap_reason).toMatch(/no medium\/low-resource language was chosen.*top disparate features need/);
    expect(noLow.top_features).toEqual([]);
    expect(only(['reference']).gap_reason).toMatch(/no high-resource and no medium\/low-resource language was chosen \(English is the reference, not a tier member\); add one of each/);
    expect(analyzeDisparity(input()).gap_reason).toBeNull();
    expect(gapReason(1, 1, [3, 5, 7], [1, null, null])).toMatch(/^No gap at layers 5, 7: the high-resource mean activation M_high is 0/);
  });
});

// The top-feature ranking against a brute-force ranking over every feature's full values, on
// random phrases whose cache rows keep only a few features: the candidates chosen from the rows'
// bounds always contain the exact top k, and the values listed are the exact ones.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../shared/random';
import type { PhraseSummary } from '../sae/extract';
import { cacheRow, exactValues, type CachedSummary } from '../store/sae-cache-repo';
import { ExactSums } from './exact-sums';
import { rankTopFeatures, topFeatureCandidates, TopFeatureSums } from './top-features';

const fid = { sse: 1, sumSq: 2, cos: 1, l0: 1, sumNormSq: 1, count: 1 };

/** A random phrase over d features: each active with probability `density`; some values tied. */
function randomPhrase(rand: () => number, d: number, density: number, boost: Float32Array): PhraseSummary {
  const features: number[] = [];
  for (let f = 0; f < d; f++) if (rand() < density) features.push(f);
  const tie = rand() < 0.2;
  const mean = Float32Array.from(features, (f) => (tie ? 0.5 : rand() * boost[f] + 1e-3));
  const max = Float32Array.from(mean, (m) => m * (1 + rand() * 3));
  return { features: Uint32Array.from(features), mean, max, fidelity: fid };
}

const round = (v: number) => Number(v.toPrecision(6));

describe('top features from bounded cache rows', () => {
  it.each(['mean', 'max'] as const)('equal a brute-force ranking of the full values (%s, 300 random cases)', (reduction) => {
    for (let trial = 0; trial < 300; trial++) {
      const rand = mulberry32(trial + (reduction === 'max' ? 10_000 : 0));
      const d = 8 + Math.floor(rand() * 120);
      const nS = 1 + Math.floor(rand() * 6);
      const keep = 1 + Math.floor(rand() * 6);
      const top = 1 + Math.floor(rand() * 12);
      // Languages: en (reference), es (high), hi and ml (medium/low); some features English-heavy.
      const codes = ['en', 'es', 'hi', 'ml'];
      const low = [2, 3];
      const boosts = codes.map((_, L) => Float32Array.from({ length: d }, () => (L === 0 && rand() < 0.2 ? 8 : 1 + rand())));
      const phrases = codes.map((_, L) => Array.from({ length: nS }, () => randomPhrase(rand, d, 0.1 + rand() * 0.6, boosts[L])));
      const enRows = phrases[0].map((p) => cacheRow(p, null, keep, d));
      const table: CachedSummary[][] = phrases.map((ps, L) => (L === 0 ? enRows : ps.map((p, s) => cacheRow(p, enRows[s].active, keep, d))));
      const layer = { en: 0, low, segments: nS, dSae: d, reduction, top, row: (L: number, s: number) => table[L][s] };
      const candidates = topFeatureCandidates(layer);
      // What the service's second pass does: the candidates' exact values into every row.
      const filled = table.map((r, L) => r.map((row, s) => ({ ...row, exact: exactValues(phrases[L][s], candidates) })));
      const segments = Array.from({ length: nS }, (_, s) => ({ key: `s${s}`, text: Object.fromEntries(codes.map((c) => [c, `${c}${s}`])) }));
      const got = rankTopFeatures({ ...layer, row: (L, s) => filled[L][s] }, candidates, 3, codes.map((code) => ({ code })), segments, round);

      // Brute force over every feature active on some English phrase, from the full summaries.
      const value = (L: number, s: number, f: number) => {
        const p = phrases[L][s];
        const j = p.features.indexOf(f);
        return j < 0 ? 0 : p[reduction][j];
      };
      const ranked = [...Array(d).keys()]
        .filter((f) => phrases[0].some((p) => p.features.includes(f)))
        .map((f) => {
          let e = 0;
          let lo = 0;
          for (let s = 0; s < nS; s++) {
            e += value(0, s, f);
            for (const L of low) lo += value(L, s, f);
          }
          e /= nS;
          lo /= nS * low.length;
          return { f, e, lo, diff: e - lo };
        })
        .sort((p, q) => q.diff - p.diff || p.f - q.f)
        .slice(0, top);
      const context = `trial ${trial}: d ${d}, ${nS} segments, keep ${keep}, top ${top}`;
      expect(got.map((t) => t.feature), context).toEqual(ranked.map((r) => r.f));
      got.forEach((t, i) => {
        expect(t.en, context).toBe(round(ranked[i].e));
        expect(t.medium_low, context).toBe(round(ranked[i].lo));
        for (const ph of t.phrases) {
          const s = Number(ph.segment.slice(1));
          codes.forEach((c, L) => expect(ph.values[c], context).toBe(round(value(L, s, t.feature))));
        }
      });
    }
  }, 60_000);

  it('never reads a value it does not have: a row without the exact value is refused', () => {
    const p: PhraseSummary = { features: Uint32Array.from([0, 1, 2]), mean: Float32Array.from([3, 2, 1]), max: Float32Array.from([3, 2, 1]), fidelity: fid };
    const en = cacheRow(p, null, 1, 3);
    const hi = cacheRow(p, en.active, 1, 3);
    const layer = { en: 0, low: [1], segments: 1, dSae: 3, reduction: 'mean' as const, top: 3, row: (L: number) => (L === 0 ? en : hi) };
    const candidates = topFeatureCandidates(layer);
    expect(candidates).toEqual([0, 1, 2]);
    const seg = [{ key: 'a', text: { en: 'x', hi: 'y' } }];
    expect(() => rankTopFeatures(layer, candidates, 0, [{ code: 'en' }, { code: 'hi' }], seg, round)).toThrow(/feature 0 at layer 0 has no exact value cached for en segment a/);
  });

  it.each(['mean', 'max'] as const)('exact sums over every feature rank like the brute force, in any order of phrases (%s)', (reduction) => {
    for (let trial = 0; trial < 100; trial++) {
      const rand = mulberry32(5000 + trial);
      const d = 8 + Math.floor(rand() * 200);
      const nS = 1 + Math.floor(rand() * 8);
      const top = 1 + Math.floor(rand() * 12);
      const boosts = [0, 1, 2].map((L) => Float32Array.from({ length: d }, () => (L === 0 && rand() < 0.2 ? 8 : 1 + rand())));
      const phrases = [0, 1, 2].map((L) => Array.from({ length: nS }, () => randomPhrase(rand, d, 0.05 + rand() * 0.8, boosts[L])));
      const order = phrases.flatMap((ps, L) => ps.map((p) => ({ L, p })));
      const rankings: number[][] = [];
      for (let shuffle = 0; shuffle < 3; shuffle++) {
        const sums = new TopFeatureSums(d);
        for (const { L, p } of [...order].sort(() => rand() - 0.5)) sums.add(L === 0, p, reduction);
        rankings.push(sums.top(top, nS, 2 * nS));
      }
      const value = (p: PhraseSummary, f: number) => {
        const j = p.features.indexOf(f);
        return j < 0 ? 0 : p[reduction][j];
      };
      const brute = [...Array(d).keys()]
        .filter((f) => phrases[0].some((p) => value(p, f) > 0))
        .map((f) => ({ f, d: phrases[0].reduce((t, p) => t + value(p, f), 0) / nS - (phrases[1].reduce((t, p) => t + value(p, f), 0) + phrases[2].reduce((t, p) => t + value(p, f), 0)) / (2 * nS) }))
        .sort((p, q) => q.d - p.d || p.f - q.f)
        .slice(0, top)
        .map((x) => x.f)
        .sort((a, b) => a - b);
      for (const r of rankings) expect(r, `trial ${trial}`).toEqual(brute);
    }
  }, 60_000);

  it('exact sums are the same bits whatever the order, across magnitudes', () => {
    const rand = mulberry32(77);
    const values = Array.from({ length: 5000 }, () => Math.fround(2 ** (rand() * 60 - 45) * (1 + rand())));
    const totals = new Set<number>();
    for (let t = 0; t < 5; t++) {
      const sums = new ExactSums(1);
      for (const v of [...values].sort(() => rand() - 0.5)) sums.add(0, v);
      totals.add(sums.total(0));
    }
    expect(totals.size).toBe(1);
    // A plain float64 sum in different orders differs in the last bits (what the bands avoid).
    const plain = new Set([0, 1, 2, 3, 4].map(() => [...values].sort(() => rand() - 0.5).reduce((a, b) => a + b, 0)));
    expect(plain.size).toBeGreaterThan(1);
    const exact = values.reduce((a, b) => a + b, 0);
    expect(Math.abs([...totals][0] - exact) / exact).toBeLessThan(1e-12);
  });
});

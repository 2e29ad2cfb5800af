// The most disparate features of one layer, ranked on exact values.
//
// diff(f) = E(f) − Lo(f), E(f) = mean over segments s of a(en, s, f), Lo(f) = mean over the
// medium/low-resource languages L and segments s of a(L, s, f). A cache row holds a(L, s, f)
// exactly only for some features (see `featureValue`); for the others it gives bounds (a float16
// value ± its rounding, or 0..cut). Ranking in two steps:
// 1. candidates: every feature active on some English phrase whose upper bound of diff reaches
//    τ = the k-th largest lower bound of diff. A feature left out has diff < τ ≤ the k-th largest
//    exact diff among the candidates, so the exact top k lies among the candidates;
// 2. the caller makes every candidate's value exact in every row (a second pass over the phrases
//    whose rows cannot tell it, cached), and `rankTopFeatures` ranks the candidates on exact
//    values summed in float64 in one fixed order (segments, then languages): the same figures
//    whichever run or batch computed a row.
// With thousands of features active per phrase (a 16k SAE) the bounds rule out few features, so
// the analysis service ranks with `TopFeatureSums` instead: exact sums over every feature, fed by
// the full summaries while they are extracted; only the top k then need exact values per row.
import type { TopFeature } from '../../shared/dto';
import type { PhraseSummary } from '../sae/extract';
import { featureValue, type CachedSummary } from '../store/sae-cache-repo';
import { ExactSums } from './exact-sums';

export interface LayerRows {
  /** Index of English and of the medium/low-resource languages. */
  en: number;
  low: number[];
  segments: number;
  dSae: number;
  reduction: 'mean' | 'max';
  /** How many features to list. */
  top: number;
  row(language: number, segment: number): CachedSummary;
}

/** The features whose exact values decide the top `top` (ascending). */
export function topFeatureCandidates(r: LayerRows): number[] {
  const { en, low, segments: nS, dSae, reduction } = r;
  if (low.length === 0 || nS === 0 || r.top <= 0) return [];
  const pick = (v: { mean: [number, number]; max: [number, number] }) => v[reduction];
  // English sums of lower and upper bounds over the features each English row has active.
  const enLo = new Float64Array(dSae);
  const enHi = new Float64Array(dSae);
  const universe = new Uint8Array(dSae);
  for (let s = 0; s < nS; s++) {
    const row = r.row(en, s);
    if (!row.active) throw new Error('an English cache row has no active-set bitmap');
    for (let byte = 0; byte < row.active.length; byte++) {
      for (let bits: number = row.active[byte]; bits; bits &= bits - 1) {
        const f = byte * 8 + Math.log2(bits & -bits);
        const [lo, hi] = pick(featureValue(row, f));
        universe[f] = 1;
        enLo[f] += lo;
        enHi[f] += hi;
      }
    }
  }
  // Medium/low sums: a row bounds every feature it does not list by [0, cut], so the cut is added
  // to all features at once and replaced by the listed features' bounds.
  let cutTotal = 0;
  const lowLo = new Float64Array(dSae);
  const lowHiDelta = new Float64Array(dSae);
  for (const L of low) {
    for (let s = 0; s < nS; s++) {
      const row = r.row(L, s);
      const allKept = row.cut.mean === 0 && row.cut.max === 0;
      const cut = allKept ? 0 : row.cut[reduction];
      cutTotal += cut;
      const listed = new Set([...row.features, ...(row.exact?.features ?? [])]);
      for (const f of listed) {
        if (!universe[f]) continue;
        const [lo, hi] = pick(featureValue(row, f));
        lowLo[f] += lo;
        lowHiDelta[f] += hi - cut;
      }
    }
  }
  const nLow = nS * low.length;
  const lower: number[] = [];
  const upper = new Float64Array(dSae);
  const members: number[] = [];
  for (let f = 0; f < dSae; f++) {
    if (!universe[f]) continue;
    members.push(f);
    lower.push(enLo[f] / nS - (cutTotal + lowHiDelta[f]) / nLow);
    upper[f] = enHi[f] / nS - lowLo[f] / nLow;
  }
  if (members.length === 0) return [];
  const k = Math.min(r.top, members.length);
  const tau = [...lower].sort((a, b) => b - a)[k - 1];
  // A float64 rounding margin, so a bound equal to τ in exact arithmetic is never left out.
  const slack = 1e-9 * (Math.abs(tau) + 1);
  return members.filter((f) => upper[f] >= tau - slack);
}

/** The top `top` of `candidates` on exact values, each with its 3 best English segments and every
 * language's exact value there. Throws if a row cannot tell a candidate's value exactly (the
 * caller fills them first): a value is never read as 0 or a bound. */
export function rankTopFeatures(
  r: LayerRows,
  candidates: readonly number[],
  layer: number,
  languages: readonly { code: string }[],
  segments: readonly { key: string; text: Record<string, string> }[],
  round: (v: number) => number | null,
): TopFeature[] {
  const { en, low, segments: nS, reduction } = r;
  const value = (L: number, s: number, f: number): number => {
    const v = featureValue(r.row(L, s), f);
    if (!v.exact) throw new Error(`feature ${f} at layer ${layer} has no exact value cached for ${languages[L].code} segment ${segments[s].key}`);
    return v[reduction][0];
  };
  const scored = candidates.map((f) => {
    let e = 0;
    let lo = 0;
    for (let s = 0; s < nS; s++) {
      e += value(en, s, f);
      for (const L of low) lo += value(L, s, f);
    }
    e /= nS;
    lo /= nS * low.length;
    return { f, e, lo, d: e - lo };
  });
  scored.sort((p, q) => q.d - p.d || p.f - q.f);
  return scored.slice(0, r.top).map(({ f, e, lo, d }) => {
    const best = Array.from({ length: nS }, (_, s) => ({ s, v: value(en, s, f) }))
      .sort((p, q) => q.v - p.v || p.s - q.s)
      .slice(0, 3);
    return {
      layer,
      feature: f,
      en: round(e)!,
      medium_low: round(lo)!,
      difference: round(d)!,
      phrases: best.map(({ s }) => ({
        segment: segments[s].key,
        values: Object.fromEntries(languages.map((lang, L) => [lang.code, round(value(L, s, f))!])),
        text: segments[s].text,
      })),
    };
  });
}

/**
 * Exact sums of a(L, s, f) over English and over the medium/low-resource phrases for every
 * feature of one layer, fed with each phrase's full summary as it is extracted (in any order,
 * batch or pass: `ExactSums`). The ranking that needs no bounds.
 */
export class TopFeatureSums {
  readonly en: ExactSums;
  readonly low: ExactSums;

  constructor(readonly dSae: number) {
    this.en = new ExactSums(dSae);
    this.low = new ExactSums(dSae);
  }

  add(english: boolean, s: PhraseSummary, reduction: 'mean' | 'max'): void {
    const target = english ? this.en : this.low;
    const values = s[reduction];
    for (let j = 0; j < s.features.length; j++) target.add(s.features[j], values[j]);
  }

  /** The `top` features with the largest E − Lo among those active on some English phrase
   * (ties: lower feature first); `segments` and `lowPhrases` are the phrase counts summed. */
  top(top: number, segments: number, lowPhrases: number): number[] {
    const scored: { f: number; d: number }[] = [];
    for (let f = 0; f < this.dSae; f++) {
      const e = this.en.total(f);
      if (e > 0) scored.push({ f, d: e / segments - this.low.total(f) / lowPhrases });
    }
    return scored
      .sort((p, q) => q.d - p.d || p.f - q.f)
      .slice(0, top)
      .map((x) => x.f)
      .sort((a, b) => a - b);
  }
}

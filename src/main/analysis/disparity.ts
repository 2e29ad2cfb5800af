// The disparity analysis: from per-(language, segment, layer) sparse SAE summaries of aligned
// parallel text to per-language mean activations, tier gaps, deficits against English, bootstrap
// confidence intervals, the most disparate features, and SAE fidelity per language.
// Defaults follow ../shared/paper-facts.md; every alternative is a named setting, recorded with
// the results and printed with the formulas.
import type { DisparitySettings, DisparitySummary, FidelityWarning, TopFeature } from '../../shared/dto';
import { mulberry32 } from '../../shared/random';
import type { CachedSummary } from '../store/sae-cache-repo';
import { rankTopFeatures, topFeatureCandidates } from './top-features';

export const DEFAULT_DISPARITY: DisparitySettings = {
  reduction: 'mean',
  features: 'english-active',
  includeBos: false,
  bootstrap: 1000,
  seed: 1,
  fidelityWarnDrop: 0.1,
  topFeatures: 10,
  keepFeatures: 128,
};

export function disparityFormulas(s: DisparitySettings): Record<string, string> {
  const reduce = s.reduction === 'mean' ? 'mean over the phrase\'s tokens' : 'max over the phrase\'s tokens';
  return {
    phrase_feature_activation: `a(L, s, l, f) = ${reduce} (BOS ${s.includeBos ? 'included' : 'excluded'}) of the SAE activation of feature f at layer l on segment s in language L`,
    phrase_activation:
      s.features === 'english-active'
        ? 'a(L, s, l) = mean over f in F_en(s, l) of a(L, s, l, f); F_en(s, l) = features active (> 0) on the English version of segment s; segments with empty F_en are skipped (exact sums over every feature, in float64)'
        : 'a(L, s, l) = (1 / d_sae) * sum over all features f of a(L, s, l, f) (exact sums over every feature, in float64)',
    mean_activation: 'm(L, l) = mean over aligned segments s of a(L, s, l)',
    tier_mean: 'M_tier(l) = mean over the tier\'s languages L of m(L, l)',
    gap_percent: 'gap(l) = 100 * (M_high(l) - M_medium-low(l)) / M_high(l)',
    deficit_vs_en: 'deficit(L, l) = 100 * (m(en, l) - m(L, l)) / m(en, l)',
    confidence_interval: `95 % percentile bootstrap over segments (${s.bootstrap} resamples, seed ${s.seed}; the same resample for every language)`,
    explained_variance: 'EV(L, l) = 1 - sum ||x - x_hat||^2 / sum over phrases (sum ||x||^2 - ||sum x||^2 / n): variance around each phrase\'s mean token, over counted tokens',
    nmse: 'NMSE(L, l) = sum ||x - x_hat||^2 / sum ||x||^2',
    l0: 'L0(L, l) = mean over counted tokens of the number of active features',
    cosine: 'cos(L, l) = mean over counted tokens of cos(x, x_hat)',
    fidelity_warning: `warn when EV(L, l) < EV(en, l) - ${s.fidelityWarnDrop}`,
    top_features: `per layer, the ${s.topFeatures} features with the largest (mean over segments of a(en, s, l, f)) - (mean over medium-low languages and segments of a(L, s, l, f)), among the features active on some English phrase; ranked on exact sums over every feature of every phrase (float32 values as extracted, summed in float64 in bands that make the sum independent of the order); every listed value is exact (float32, cached per row for the listed features; the cache's float16 lists of the ${s.keepFeatures} strongest features by mean and by max per phrase and layer are never read as values)`,
  };
}

export interface DisparityInput {
  languages: { code: string; name: string; tier: 'reference' | 'high' | 'medium-low' }[];
  layers: number[];
  dSae: number[];
  segments: { key: string; text: Record<string, string> }[];
  /** Summary of language (index), segment (index), layer (index). */
  summary(language: number, segment: number, layer: number): CachedSummary;
  /** Per layer, a set known to hold the top features (ranked by exact sums over every feature);
   * without it the candidates come from the rows' bounds. Their values must be exact in the rows. */
  topFeatureSets?: number[][];
  settings: DisparitySettings;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const round = (v: number, digits = 6) => (Number.isFinite(v) ? Number(v.toPrecision(digits)) : null);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Why some or all of gap_percent is null, in words a user can act on; null when every layer has
 * a gap. English is the reference, not a member of the high-resource tier. */
export function gapReason(highCount: number, lowCount: number, layers: readonly number[], gap: readonly (number | null)[]): string | null {
  const missing = [highCount === 0 ? 'high-resource' : null, lowCount === 0 ? 'medium/low-resource' : null].filter((t) => t !== null);
  if (missing.length) {
    return `No gap: it compares the high-resource tier with the medium/low-resource tier, and no ${missing.join(' and no ')} language was chosen (English is the reference, not a tier member); add one${missing.length > 1 ? ' of each' : ''}${lowCount === 0 ? ' (the top disparate features need a medium/low-resource language too)' : ''}.`;
  }
  const undefinedAt = layers.filter((_, i) => gap[i] === null);
  if (undefinedAt.length === 0) return null;
  return `No gap at layer${undefinedAt.length > 1 ? 's' : ''} ${undefinedAt.join(', ')}: the high-resource mean activation M_high is 0 or undefined there (no feature active on the English phrases, or none on the high-resource ones).`;
}

export function analyzeDisparity(input: DisparityInput): Omit<DisparitySummary, 'model' | 'saes' | 'cache' | 'corpus'> {
  const { languages, layers, segments, settings: s } = input;
  const en = languages.findIndex((l) => l.code === 'en');
  if (en < 0) throw new Error('the analysis needs English (en) as the reference language');
  const nL = languages.length;
  const nS = segments.length;
  /** The chosen reduction's member of a {mean, max} pair (a row's lists, sums or cut). */
  const values = <T>(pair: { mean: T; max: T }): T => (s.reduction === 'mean' ? pair.mean : pair.max);

  const mean_activation: Record<string, (number | null)[]> = {};
  const mean_activation_ci: Record<string, ([number, number] | null)[]> = {};
  const deficit_vs_en: Record<string, (number | null)[]> = {};
  const gap_percent: (number | null)[] = [];
  const gap_percent_ci: ([number, number] | null)[] = [];
  const fidelity: DisparitySummary['fidelity'] = {};
  const fidelity_warnings: FidelityWarning[] = [];
  const top_features: TopFeature[] = [];
  for (const l of languages) {
    mean_activation[l.code] = [];
    mean_activation_ci[l.code] = [];
    deficit_vs_en[l.code] = [];
    fidelity[l.code] = { explained_variance: [], nmse: [], l0: [], cosine: [] };
  }
  const high = languages.map((l, i) => (l.tier === 'high' ? i : -1)).filter((i) => i >= 0);
  const low = languages.map((l, i) => (l.tier === 'medium-low' ? i : -1)).filter((i) => i >= 0);

  layers.forEach((_, li) => {
    const dSae = input.dSae[li];
    // a[L][s]: phrase activation, NaN when undefined (English activates nothing on s).
    const a: Float64Array[] = languages.map(() => new Float64Array(nS));
    for (let si = 0; si < nS; si++) {
      const enActive = input.summary(en, si, li).total.active;
      for (let L = 0; L < nL; L++) {
        const row = input.summary(L, si, li);
        if (s.features === 'all') a[L][si] = values(row.total) / dSae;
        else if (enActive === 0) a[L][si] = NaN;
        else a[L][si] = values(row.reference) / row.reference.count;
      }
    }
    const languageMean = (L: number, idx: ArrayLike<number>) => {
      let total = 0;
      let n = 0;
      for (let i = 0; i < idx.length; i++) {
        const v = a[L][idx[i]];
        if (!Number.isNaN(v)) {
          total += v;
          n++;
        }
      }
      return n ? total / n : NaN;
    };
    const gapOf = (m: number[]) => {
      const h = mean(high.map((L) => m[L]));
      const lo = mean(low.map((L) => m[L]));
      return h !== 0 && Number.isFinite(h) && Number.isFinite(lo) ? (100 * (h - lo)) / h : NaN;
    };
    const all = Uint32Array.from({ length: nS }, (_, i) => i);
    const m = languages.map((_, L) => languageMean(L, all));
    const gap = gapOf(m);
    // Paired bootstrap over segments.
    const rand = mulberry32(s.seed + li * 7919);
    const bootM: number[][] = languages.map(() => []);
    const bootGap: number[] = [];
    const idx = new Uint32Array(nS);
    for (let b = 0; b < s.bootstrap && nS > 0; b++) {
      for (let i = 0; i < nS; i++) idx[i] = Math.floor(rand() * nS);
      const mb = languages.map((_, L) => languageMean(L, idx));
      mb.forEach((v, L) => bootM[L].push(v));
      const g = gapOf(mb);
      if (Number.isFinite(g)) bootGap.push(g);
    }
    const ci = (xs: number[]): [number, number] | null => {
      const sorted = xs.filter(Number.isFinite).sort((p, q) => p - q);
      return sorted.length ? [round(percentile(sorted, 0.025))!, round(percentile(sorted, 0.975))!] : null;
    };
    languages.forEach((lang, L) => {
      mean_activation[lang.code].push(round(m[L]));
      mean_activation_ci[lang.code].push(ci(bootM[L]));
      deficit_vs_en[lang.code].push(round(m[en] ? (100 * (m[en] - m[L])) / m[en] : NaN));
    });
    gap_percent.push(round(gap));
    gap_percent_ci.push(ci(bootGap));

    // Fidelity per language.
    const ev: number[] = [];
    languages.forEach((lang, L) => {
      let sse = 0;
      let sumSq = 0;
      let centred = 0;
      let cos = 0;
      let l0 = 0;
      let count = 0;
      for (let si = 0; si < nS; si++) {
        const f = input.summary(L, si, li).fidelity;
        sse += f.sse;
        sumSq += f.sumSq;
        centred += f.count > 0 ? f.sumSq - f.sumNormSq / f.count : 0;
        cos += f.cos;
        l0 += f.l0;
        count += f.count;
      }
      ev[L] = centred > 0 ? 1 - sse / centred : NaN;
      const fid = fidelity[lang.code];
      fid.explained_variance.push(round(ev[L]));
      fid.nmse.push(round(sumSq > 0 ? sse / sumSq : NaN));
      fid.l0.push(round(count ? l0 / count : NaN));
      fid.cosine.push(round(count ? cos / count : NaN));
    });
    languages.forEach((lang, L) => {
      if (L !== en && Number.isFinite(ev[L]) && Number.isFinite(ev[en]) && ev[L] < ev[en] - s.fidelityWarnDrop) {
        fidelity_warnings.push({
          language: lang.code,
          layer: layers[li],
          explained_variance: round(ev[L])!,
          explained_variance_en: round(ev[en])!,
          message: `The SAE at layer ${layers[li]} reconstructs ${lang.name} much worse than English (explained variance ${ev[L].toFixed(3)} vs ${ev[en].toFixed(3)}): read its ${lang.code} activations with care.`,
        });
      }
    });

    // The most disparate features: English mean minus the medium/low-resource mean, ranked on
    // exact values (see top-features.ts).
    if (low.length && s.topFeatures > 0) {
      const layerRows = { en, low, segments: nS, dSae, reduction: s.reduction, top: s.topFeatures, row: (L: number, si: number) => input.summary(L, si, li) };
      top_features.push(...rankTopFeatures(layerRows, input.topFeatureSets?.[li] ?? topFeatureCandidates(layerRows), layers[li], languages, segments, round));
    }
  });

  return {
    languages: languages.map(({ code, name, tier }) => ({ code, name, tier })),
    layers,
    segments: nS,
    mean_activation,
    mean_activation_ci,
    gap_percent,
    gap_percent_ci,
    gap_reason: gapReason(high.length, low.length, layers, gap_percent),
    deficit_vs_en,
    fidelity,
    fidelity_warnings,
    top_features,
    settings: s,
    formulas: disparityFormulas(s),
  };
}

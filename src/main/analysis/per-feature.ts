// The paper's per-feature mean activation: each SAE feature measured on the phrases selected for
// it (Neuronpedia phrases at >= 80 % of its maximum, translated), beside the corpus-wide figures.
// The same reduction, tiers and formulas as disparity.ts, restricted to one feature and its own
// segments: no active-set average, since the feature is fixed.
import type { DisparitySettings, PerFeatureFigure, Tier } from '../../shared/dto';
import type { FeaturePlan } from './feature-phrases';

export function perFeatureFormulas(s: DisparitySettings): Record<string, string> {
  const reduce = s.reduction === 'mean' ? 'mean' : 'max';
  return {
    per_feature_activation: `a_f(L, s) = ${reduce} over the tokens of segment s in language L (BOS ${s.includeBos ? 'included' : 'excluded'}) of the activation of feature f in the SAE of the layer its Neuronpedia source names (exact float32 value)`,
    per_feature_mean: 'm_f(L) = mean over S_f of a_f(L, s); S_f = the segments phrases.json lists for f that the analysis kept',
    per_feature_deficit: 'deficit_f(L) = 100 * (m_f(en) - m_f(L)) / m_f(en)',
    per_feature_gap: 'gap_f = 100 * (M_f,high - M_f,medium-low) / M_f,high; M_f,tier = mean over the tier\'s languages L of m_f(L)',
  };
}

const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(6)) : null);
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * `value(L, s, sae, f)`: a_f(L, s), the exact reduced activation of feature f on the analysis's
 * segment s (index) in language L (index) under the run's SAE `sae` (index).
 */
export function perFeatureFigures(plans: readonly FeaturePlan[], languages: readonly { code: string; tier: Tier }[], value: (language: number, segment: number, sae: number, feature: number) => number): PerFeatureFigure[] {
  const en = languages.findIndex((l) => l.code === 'en');
  if (en < 0) throw new Error('per-feature figures need English (en) as the reference language');
  const high = languages.flatMap((l, i) => (l.tier === 'high' ? [i] : []));
  const low = languages.flatMap((l, i) => (l.tier === 'medium-low' ? [i] : []));
  return plans.map((p) => {
    // m[L] = m_f(L), summed in float64 over the feature's segments.
    const m = languages.map((_, L) => mean(p.segments.map((s) => value(L, s, p.sae, p.feature))));
    const h = mean(high.map((L) => m[L]));
    const lo = mean(low.map((L) => m[L]));
    return {
      layer: p.layer,
      hook: p.hook,
      feature: p.feature,
      source: p.source,
      segments: p.segments.length,
      segments_dropped: p.dropped,
      mean_activation: Object.fromEntries(languages.map((l, L) => [l.code, round(m[L])])),
      deficit_vs_en: Object.fromEntries(languages.map((l, L) => [l.code, round(m[en] !== 0 ? (100 * (m[en] - m[L])) / m[en] : NaN)])),
      gap_percent: round(h !== 0 && Number.isFinite(h) && Number.isFinite(lo) ? (100 * (h - lo)) / h : NaN),
    };
  });
}

// What an analysis found, in the words the Results step opens with: the gap's range over layers,
// the languages furthest below English, the fidelity warnings, and why the reduction over tokens
// was the one used. Pure: read from the summary alone (and the bundled demo's stated reason).
import type { DemoInfo, DisparitySummary, Tier } from './dto';

export interface LayerValue {
  layer: number;
  value: number;
}

export interface AffectedLanguage {
  code: string;
  name: string;
  tier: Tier;
  /** Mean over the layers where it is defined of deficit(L, l) (%). */
  meanDeficit: number;
  /** The layer where the deficit is largest. */
  worst: LayerValue;
  layers: number;
}

export interface Findings {
  /** Smallest and largest gap (%) over the layers that have one; null when no layer has. */
  gap: { min: LayerValue; max: LayerValue; defined: number; total: number; ciAboveZero: number } | null;
  /** Why some or every layer has no gap; null when every layer has one. */
  gapReason: string | null;
  /** Languages below English on average over layers, largest deficit first (at most `top`). */
  affected: AffectedLanguage[];
  /** How many languages were compared with English at all (a deficit defined somewhere). */
  compared: number;
  fidelity: { count: number; languages: string[]; layers: number[] };
  reduction: { setting: DisparitySummary['settings']['reduction']; reason: string; from: 'demo' | 'formula' };
}

const NO_GAP = 'The gap needs at least one high-resource and one medium/low-resource language.';

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

const layerValue = ({ layer, value }: LayerValue): LayerValue => ({ layer, value });

const samePath = (a: string, b: string) => a.replace(/[\\/]+$/, '') === b.replace(/[\\/]+$/, '');

/** `demo`: the bundled demo's info, whose stated reason applies when this run is on the demo model
 * with the demo's reduction. */
export function findings(summary: DisparitySummary, demo?: Pick<DemoInfo, 'model' | 'settings' | 'settingsReason'> | null, top = 3): Findings {
  const gaps = summary.layers.flatMap((layer, i) => (finite(summary.gap_percent[i]) ? [{ layer, value: summary.gap_percent[i]!, ci: summary.gap_percent_ci[i] }] : []));
  const gap = gaps.length
    ? {
        min: layerValue(gaps.reduce((a, b) => (b.value < a.value ? b : a))),
        max: layerValue(gaps.reduce((a, b) => (b.value > a.value ? b : a))),
        defined: gaps.length,
        total: summary.layers.length,
        ciAboveZero: gaps.filter((g) => g.ci && g.ci[0] > 0).length,
      }
    : null;
  const gapReason = gaps.length === summary.layers.length ? null : (summary.gap_reason ?? NO_GAP);

  const compared = summary.languages
    .filter((l) => l.code !== 'en')
    .flatMap((l) => {
      const values = summary.layers.flatMap((layer, i) => {
        const v = summary.deficit_vs_en[l.code]?.[i];
        return finite(v) ? [{ layer, value: v }] : [];
      });
      if (!values.length) return [];
      return [
        {
          code: l.code,
          name: l.name,
          tier: l.tier,
          meanDeficit: values.reduce((s, v) => s + v.value, 0) / values.length,
          worst: values.reduce((a, b) => (b.value > a.value ? b : a)),
          layers: values.length,
        },
      ];
    });
  const affected = compared
    .filter((a) => a.meanDeficit > 0)
    .sort((a, b) => b.meanDeficit - a.meanDeficit || a.code.localeCompare(b.code))
    .slice(0, top);

  const names = new Map(summary.languages.map((l) => [l.code, l.name]));
  const warned = summary.fidelity_warnings;
  const fidelity = {
    count: warned.length,
    languages: [...new Set(warned.map((w) => w.language))].map((c) => names.get(c) ?? c),
    layers: [...new Set(warned.map((w) => w.layer))].sort((a, b) => a - b),
  };

  const s = summary.settings;
  const onDemo = !!demo && samePath(summary.model.path, demo.model) && (demo.settings.reduction ?? 'mean') === s.reduction;
  const reduction = onDemo
    ? { setting: s.reduction, reason: demo!.settingsReason, from: 'demo' as const }
    : {
        setting: s.reduction,
        reason: `${s.reduction === 'mean' ? 'the default' : 'set for this run'}; ${summary.formulas.phrase_feature_activation ?? `${s.reduction} over the phrase's tokens`}`,
        from: 'formula' as const,
      };
  return { gap, gapReason, affected, compared: compared.length, fidelity, reduction };
}

// Rows for the Results step's charts and CSV exports, built from a DisparitySummary.
import type { DisparitySummary, Tier } from '../../../../shared/dto';
import { fidelityRows as sharedFidelityRows } from '../../../../shared/summary-rows';
import type { LegendGroup } from '../../../../shared/chart-parts';
import { languageStyles, type LanguageStyle } from '../../../../shared/palette';
import { TIER_LABELS } from '../../../../shared/tiers';
import { readableTextOn } from '../../components/contrast';

export type Row = Record<string, string | number | null>;

/** Each language's hue from the shared palette (the exported files use the same), its tier as the
 * dash, and a darker text colour of the same hue for labels. */
export function lineStyles(languages: DisparitySummary['languages']): Record<string, LanguageStyle> {
  return Object.fromEntries(languageStyles(languages));
}

/** Tiers as legends list them, whatever order the languages were chosen in. */
export const TIER_ORDER: readonly Tier[] = ['reference', 'high', 'medium-low'];

/** The legend drawn into an exported chart: one row per tier, each language in its line style. */
export function languageLegend(languages: DisparitySummary['languages']): LegendGroup[] {
  const styles = lineStyles(languages);
  return TIER_ORDER.filter((tier) => languages.some((l) => l.tier === tier)).map((tier) => ({
    heading: TIER_LABELS[tier],
    items: languages.filter((l) => l.tier === tier).map((l) => ({ label: `${l.name} (${l.code})`, ...styles[l.code] })),
  }));
}

/** One row per layer: each language's mean activation and its 95 % CI bounds (CSV), and the
 * error-bar extents recharts wants ([value - low, high - value]) under `${code}__err`. */
export function meanActivationRows(s: DisparitySummary): { rows: Row[]; columns: string[]; errors: Record<string, [number, number] | null>[] } {
  const columns = ['layer', ...s.languages.flatMap((l) => [l.code, `${l.code}_ci_low`, `${l.code}_ci_high`])];
  const errors: Record<string, [number, number] | null>[] = [];
  const rows = s.layers.map((layer, i) => {
    const row: Row = { layer };
    const err: Record<string, [number, number] | null> = {};
    for (const l of s.languages) {
      const v = s.mean_activation[l.code]?.[i] ?? null;
      const ci = s.mean_activation_ci[l.code]?.[i] ?? null;
      row[l.code] = v;
      row[`${l.code}_ci_low`] = ci?.[0] ?? null;
      row[`${l.code}_ci_high`] = ci?.[1] ?? null;
      err[l.code] = v !== null && ci ? [Math.max(0, v - ci[0]), Math.max(0, ci[1] - v)] : null;
    }
    errors.push(err);
    return row;
  });
  return { rows, columns, errors };
}

export function gapRows(s: DisparitySummary): Row[] {
  return s.layers.map((layer, i) => ({
    layer,
    gap_percent: s.gap_percent[i],
    ci_low: s.gap_percent_ci[i]?.[0] ?? null,
    ci_high: s.gap_percent_ci[i]?.[1] ?? null,
  }));
}

export const layerColumn = (layer: number) => `layer_${layer}`;

/** One row per language: deficit vs English at each layer (`layer_L`). */
export function deficitRows(s: DisparitySummary): Row[] {
  return s.languages.map((l) => {
    const row: Row = { language: l.code, name: l.name, tier: l.tier };
    s.layers.forEach((layer, i) => (row[layerColumn(layer)] = s.deficit_vs_en[l.code]?.[i] ?? null));
    return row;
  });
}

export const FIDELITY_METRICS = ['explained_variance', 'nmse', 'l0', 'cosine'] as const;
export type FidelityMetric = (typeof FIDELITY_METRICS)[number];

/** Long format: one row per language and layer, every fidelity metric, and whether it warns. */
export function fidelityRows(s: DisparitySummary): Row[] {
  const warned = warningIndex(s);
  return sharedFidelityRows(s).map((row) => ({ ...row, warning: warned.get(`${row.language}|${row.layer}`) ?? '' }));
}

/** `${language}|${layer}` → the warning's message. */
export function warningIndex(s: DisparitySummary): Map<string, string> {
  return new Map(s.fidelity_warnings.map((w) => [`${w.language}|${w.layer}`, w.message]));
}

/** One row per layer, each language's value of one fidelity metric (for the chart). */
export function fidelityChartRows(s: DisparitySummary, metric: FidelityMetric): Row[] {
  return s.layers.map((layer, i) => {
    const row: Row = { layer };
    for (const l of s.languages) row[l.code] = s.fidelity[l.code]?.[metric][i] ?? null;
    return row;
  });
}

export function topFeatureRows(s: DisparitySummary): Row[] {
  return s.top_features.map((f) => ({ layer: f.layer, feature: f.feature, en: f.en, medium_low: f.medium_low, difference: f.difference }));
}

function mix(a: [number, number, number], b: [number, number, number], t: number): string {
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

const WHITE: [number, number, number] = [255, 255, 255];
const ORANGE: [number, number, number] = [234, 88, 12];
const BLUE: [number, number, number] = [37, 99, 235];

/** Diverging fill: a deficit (the language activates less than English) in orange, a surplus in
 * blue, white at 0, full colour at ±max. */
export function divergingFill(value: number | null, max: number): string {
  if (value === null || !Number.isFinite(value)) return '#e5e7eb';
  if (max <= 0) return 'rgb(255, 255, 255)';
  const t = Math.min(1, Math.abs(value) / max);
  return mix(WHITE, value >= 0 ? ORANGE : BLUE, t);
}

/** Black or white, whichever contrasts more with the cell's fill (always >= 4.5:1; a fixed
 * threshold put white on mid-orange cells at 2.3:1). */
export function textOn(value: number | null, max: number): string {
  return readableTextOn(divergingFill(value, max));
}

/** Token shading for the drill-down: the value's share of the largest value. */
export function tokenShade(value: number, max: number): string {
  if (!(max > 0) || !(value > 0)) return 'transparent';
  return `rgba(234, 88, 12, ${Math.min(1, value / max).toFixed(3)})`;
}

export function num(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return Math.abs(value) >= 1000 ? value.toFixed(0) : Number(value.toPrecision(digits)).toString();
}

export function pct(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(1)} %`;
}

/** A domain that includes 0 and the values, on round ticks (about five). */
export function niceTicks(values: readonly number[], count = 5): number[] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(0, ...finite);
  const hi = Math.max(0, ...finite);
  if (lo === hi) return [0, 1];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= Math.ceil(hi / step) * step + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** A readable character (or word piece) of a phrase and the tokens it was cut into. */
export interface TokenGroup {
  text: string;
  /** Token positions in the phrase. */
  positions: number[];
  /** The feature's largest activation over the group's tokens. */
  value: number;
}

/**
 * Tokens grouped into readable text: byte pieces of a character (tokens whose text is '' until the
 * token that completes it) join that token, and the group shows the largest activation of its
 * pieces, so a feature firing on a leading byte is not lost. Pieces left unfinished at the end
 * form a group shown as U+FFFD.
 */
export function tokenGroups(tokens: readonly { text: string }[], values: readonly number[]): TokenGroup[] {
  const groups: TokenGroup[] = [];
  let pending: number[] = [];
  const close = (text: string) => {
    groups.push({ text, positions: pending, value: Math.max(0, ...pending.map((i) => values[i] ?? 0)) });
    pending = [];
  };
  tokens.forEach((t, i) => {
    pending.push(i);
    if (t.text !== '') close(t.text);
  });
  if (pending.length) close('\uFFFD');
  return groups;
}

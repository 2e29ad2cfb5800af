// Two stored runs side by side: per-layer gap and mean activation of both (for overlaid lines),
// their differences, and every setting and input with those that differ marked.
import type { AnalysisRunRecord } from '../../../../shared/dto';

export interface SettingRow {
  name: string;
  a: string;
  b: string;
  differs: boolean;
}

export interface LayerDifference {
  layer: number;
  /** `gap` or a language code (its mean activation). */
  series: string;
  a: number | null;
  b: number | null;
  /** b - a; null where either is missing. */
  delta: number | null;
}

const show = (v: unknown): string => (Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '—' : String(v));

/** Settings first, then the inputs (what was measured, by content fingerprint). */
export function settingRows(a: AnalysisRunRecord, b: AnalysisRunRecord): SettingRow[] {
  const rows: [string, unknown, unknown][] = [
    ...(Object.keys({ ...a.summary.settings, ...b.summary.settings }) as (keyof AnalysisRunRecord['settings'])[]).map(
      (k): [string, unknown, unknown] => [k, a.summary.settings[k], b.summary.settings[k]],
    ),
    ['segment limit', a.request.limit ?? 'all', b.request.limit ?? 'all'],
    ['segments', a.summary.segments, b.summary.segments],
    ['languages', a.summary.languages.map((l) => l.code), b.summary.languages.map((l) => l.code)],
    ['tiers', a.summary.languages.map((l) => `${l.code}:${l.tier}`), b.summary.languages.map((l) => `${l.code}:${l.tier}`)],
    ['layers', a.summary.layers, b.summary.layers],
    ['corpus', a.summary.corpus.source, b.summary.corpus.source],
    ['model', a.summary.model.path, b.summary.model.path],
    ['model fingerprint', a.fingerprints.model.slice(0, 16), b.fingerprints.model.slice(0, 16)],
    ['SAE fingerprints', a.fingerprints.saes.map((s) => `${s.layer}:${s.fingerprint.slice(0, 8)}`), b.fingerprints.saes.map((s) => `${s.layer}:${s.fingerprint.slice(0, 8)}`)],
  ];
  return rows.map(([name, x, y]) => ({ name, a: show(x), b: show(y), differs: show(x) !== show(y) }));
}

/** Layers of either run, ascending. */
export function unionLayers(a: AnalysisRunRecord, b: AnalysisRunRecord): number[] {
  return [...new Set([...a.summary.layers, ...b.summary.layers])].sort((x, y) => x - y);
}

/** Languages of either run, in run A's order then B's new ones. */
export function unionLanguages(a: AnalysisRunRecord, b: AnalysisRunRecord): string[] {
  return [...new Set([...a.summary.languages.map((l) => l.code), ...b.summary.languages.map((l) => l.code)])];
}

function at(run: AnalysisRunRecord, layer: number, values: (number | null)[] | undefined): number | null {
  const i = run.summary.layers.indexOf(layer);
  const v = i < 0 || !values ? null : values[i];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Per layer: the gap, then each language's mean activation, in both runs. */
export function differences(a: AnalysisRunRecord, b: AnalysisRunRecord): LayerDifference[] {
  const out: LayerDifference[] = [];
  for (const layer of unionLayers(a, b)) {
    const row = (series: string, x: number | null, y: number | null) => out.push({ layer, series, a: x, b: y, delta: x !== null && y !== null ? y - x : null });
    row('gap', at(a, layer, a.summary.gap_percent), at(b, layer, b.summary.gap_percent));
    for (const code of unionLanguages(a, b)) row(code, at(a, layer, a.summary.mean_activation[code]), at(b, layer, b.summary.mean_activation[code]));
  }
  return out;
}

/** One row per layer for recharts: `gap_a`, `gap_b`, `<code>_a`, `<code>_b`. */
export function chartRows(diffs: readonly LayerDifference[]): Record<string, number | null>[] {
  const rows = new Map<number, Record<string, number | null>>();
  for (const d of diffs) {
    const row = rows.get(d.layer) ?? { layer: d.layer };
    row[`${d.series}_a`] = d.a;
    row[`${d.series}_b`] = d.b;
    rows.set(d.layer, row);
  }
  return [...rows.values()];
}

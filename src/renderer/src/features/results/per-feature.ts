// Rows of the Results step's "Each feature on its own phrases" table and its CSV, read from the
// summary's per_feature (issue 15). Values are the backend's, passed through: nothing here
// recomputes a mean, a deficit or a gap.
import type { DisparitySummary, PerFeatureFigure } from '../../../../shared/dto';

/** One table row: a feature, and per language (the summary's order) its m_f(L) and deficit_f(L). */
export interface PerFeatureRow {
  key: string;
  layer: number;
  feature: number;
  source: string;
  segments: number;
  segments_dropped: number;
  languages: { code: string; mean_activation: number | null; deficit_vs_en: number | null }[];
  gap_percent: number | null;
}

export function perFeatureTableRows(s: DisparitySummary): PerFeatureRow[] {
  return (s.per_feature ?? []).map((f: PerFeatureFigure) => ({
    key: `${f.layer}:${f.feature}`,
    layer: f.layer,
    feature: f.feature,
    source: f.source,
    segments: f.segments,
    segments_dropped: f.segments_dropped,
    // A language the figure has no entry for reads null (shown "n/a"), never 0.
    languages: s.languages.map((l) => ({ code: l.code, mean_activation: f.mean_activation[l.code] ?? null, deficit_vs_en: f.deficit_vs_en[l.code] ?? null })),
    gap_percent: f.gap_percent,
  }));
}

/** The CSV is the exported report's per_feature.csv, built by the same function, so both files read alike. */
export { PER_FEATURE_COLUMNS as PER_FEATURE_CSV_COLUMNS, perFeatureRows as perFeatureCsvRows, type PerFeatureCsvRow } from '../../../../shared/summary-rows';

/** The sort key of a table column: `layer`, `feature`, `segments`, `gap`, `mean_<code>`, `deficit_<code>`. */
export function perFeatureSortValue(row: PerFeatureRow, column: string): number | null {
  if (column === 'layer' || column === 'feature' || column === 'segments') return row[column];
  if (column === 'gap') return row.gap_percent;
  const [kind, code] = column.split(/_(.*)/s);
  const cell = row.languages.find((l) => l.code === code);
  if (!cell) return null;
  return kind === 'mean' ? cell.mean_activation : kind === 'deficit' ? cell.deficit_vs_en : null;
}

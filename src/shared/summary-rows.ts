// Rows built from a DisparitySummary that both the report export (main) and the Results step
// (renderer) use.
import type { DisparitySummary } from './dto';

export const FIDELITY_COLUMNS = ['language', 'layer', 'explained_variance', 'nmse', 'l0', 'cosine'] as const;

export type FidelityRow = Record<(typeof FIDELITY_COLUMNS)[number], string | number | null>;

/** Long format: one row per language and layer, every fidelity metric. */
export function fidelityRows(summary: DisparitySummary): FidelityRow[] {
  return summary.languages.flatMap((l) =>
    summary.layers.map((layer, i) => {
      const f = summary.fidelity[l.code];
      return {
        language: l.code,
        layer,
        explained_variance: f?.explained_variance[i] ?? null,
        nmse: f?.nmse[i] ?? null,
        l0: f?.l0[i] ?? null,
        cosine: f?.cosine[i] ?? null,
      };
    }),
  );
}

/** The per_feature.csv columns (issue 15): the report's file and the Results step's CSV read alike. */
export const PER_FEATURE_COLUMNS = ['layer', 'feature', 'source', 'language', 'tier', 'segments', 'segments_dropped', 'mean_activation', 'deficit_vs_en', 'gap_percent'] as const;

export type PerFeatureCsvRow = Record<(typeof PER_FEATURE_COLUMNS)[number], string | number | null>;

/** One row per (feature, language) of the per-feature figures, values passed through (a language
 * a figure has no entry for reads null, never 0); none without phrases. */
export function perFeatureRows(summary: DisparitySummary): PerFeatureCsvRow[] {
  return (summary.per_feature ?? []).flatMap((f) =>
    summary.languages.map((l) => ({
      layer: f.layer,
      feature: f.feature,
      source: f.source,
      language: l.code,
      tier: l.tier,
      segments: f.segments,
      segments_dropped: f.segments_dropped,
      mean_activation: f.mean_activation[l.code] ?? null,
      deficit_vs_en: f.deficit_vs_en[l.code] ?? null,
      gap_percent: f.gap_percent,
    })),
  );
}

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

// Rows for the Fine-tune results' charts and CSV exports, from the disparity analyses of the
// held-out segments without and with the adapter.
import type { DisparitySummary } from '../../../../shared/dto';

export type Row = Record<string, number | null>;

/** Per layer, each language's mean activation before and after (`${code}_before`, `${code}_after`). */
export function beforeAfterRows(before: DisparitySummary, after: DisparitySummary): { rows: Row[]; columns: string[] } {
  const codes = before.languages.map((l) => l.code);
  const rows = before.layers.map((layer, i) => {
    const j = after.layers.indexOf(layer);
    const row: Row = { layer };
    for (const c of codes) {
      row[`${c}_before`] = before.mean_activation[c]?.[i] ?? null;
      row[`${c}_after`] = j >= 0 ? (after.mean_activation[c]?.[j] ?? null) : null;
    }
    return row;
  });
  return { rows, columns: ['layer', ...codes.flatMap((c) => [`${c}_before`, `${c}_after`])] };
}

export interface GapBeforeAfter {
  layer: number;
  before: number | null;
  before_ci: [number, number] | null;
  after: number | null;
  after_ci: [number, number] | null;
}

/** The gap per layer before and after with its intervals, matched by layer number (a layer the
 * second analysis lacks is null there, never another layer's figure). */
export function gapBeforeAfter(before: DisparitySummary, after: DisparitySummary): GapBeforeAfter[] {
  return before.layers.map((layer, i) => {
    const j = after.layers.indexOf(layer);
    return {
      layer,
      before: before.gap_percent[i] ?? null,
      before_ci: before.gap_percent_ci[i] ?? null,
      after: j >= 0 ? (after.gap_percent[j] ?? null) : null,
      after_ci: j >= 0 ? (after.gap_percent_ci[j] ?? null) : null,
    };
  });
}

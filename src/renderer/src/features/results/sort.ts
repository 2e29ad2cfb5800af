// Sorting the Results step's tables by a column: stable, missing values last in either direction,
// numbers as numbers and text by the user's locale.

export type SortDirection = 'ascending' | 'descending';

export interface SortState<K extends string = string> {
  key: K;
  direction: SortDirection;
}

export type SortValue = number | string | null | undefined;

/** Rows ordered by `value`; ties keep their order; null, undefined and NaN go last either way. */
export function sortRows<T>(rows: readonly T[], value: (row: T) => SortValue, direction: SortDirection): T[] {
  const sign = direction === 'ascending' ? 1 : -1;
  const missing = (v: SortValue) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));
  return rows
    .map((row, i) => ({ row, i, v: value(row) }))
    .sort((a, b) => {
      const ma = missing(a.v);
      const mb = missing(b.v);
      if (ma || mb) return ma === mb ? a.i - b.i : ma ? 1 : -1;
      const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
      return c === 0 ? a.i - b.i : sign * c;
    })
    .map((x) => x.row);
}

/** A click on a column's header: the same column flips direction; another starts descending for
 * values (largest first, what a reader looks for) and ascending for labels. */
export function nextSort<K extends string>(current: SortState<K> | null, key: K, numeric: boolean): SortState<K> {
  if (current?.key === key) return { key, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  return { key, direction: numeric ? 'descending' : 'ascending' };
}

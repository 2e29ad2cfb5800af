// A table header cell that sorts its table: a button (keyboard and screen-reader reachable) and
// aria-sort on the cell, so the current order is announced.
import { useState, type ReactNode } from 'react';
import { nextSort, sortRows, type SortState, type SortValue } from './sort';

export function SortHeader<K extends string>({
  column,
  numeric = true,
  sort,
  onSort,
  children,
}: {
  column: K;
  numeric?: boolean;
  sort: SortState<K> | null;
  onSort: (next: SortState<K>) => void;
  children: ReactNode;
}) {
  const active = sort?.key === column;
  return (
    <th aria-sort={active ? sort.direction : 'none'} data-column={column}>
      <button type="button" className="sort" onClick={() => onSort(nextSort(sort, column, numeric))}>
        {children}
        <span aria-hidden="true">{active ? (sort.direction === 'ascending' ? ' ▲' : ' ▼') : ' ↕'}</span>
      </button>
    </th>
  );
}

/** Rows in the order the user chose (their own order until a header is clicked). */
export function useSorted<T, K extends string>(rows: readonly T[], value: (row: T, key: K) => SortValue) {
  const [sort, setSort] = useState<SortState<K> | null>(null);
  const sorted = sort ? sortRows(rows, (r) => value(r, sort.key), sort.direction) : [...rows];
  return { sorted, sort, setSort };
}

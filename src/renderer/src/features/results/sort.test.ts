import { describe, expect, it } from 'vitest';
import { nextSort, sortRows } from './sort';

describe('table sorting', () => {
  const rows = [
    { id: 'a', v: 2 as number | null, name: 'layer 10' },
    { id: 'b', v: null, name: 'layer 2' },
    { id: 'c', v: -1, name: 'Layer 1' },
    { id: 'd', v: 2, name: 'layer 2' },
    { id: 'e', v: Number.NaN, name: 'ä' },
  ];

  it('sorts numbers as numbers, keeps ties in order and puts missing values last both ways', () => {
    expect(sortRows(rows, (r) => r.v, 'ascending').map((r) => r.id)).toEqual(['c', 'a', 'd', 'b', 'e']);
    expect(sortRows(rows, (r) => r.v, 'descending').map((r) => r.id)).toEqual(['a', 'd', 'c', 'b', 'e']);
  });

  it('sorts labels with numbers in them by their numbers', () => {
    expect(sortRows(rows.slice(0, 4), (r) => r.name, 'ascending').map((r) => r.id)).toEqual(['c', 'b', 'd', 'a']);
  });

  it('flips the direction on the same column and starts a new one by its kind', () => {
    expect(nextSort(null, 'gap', true)).toEqual({ key: 'gap', direction: 'descending' });
    expect(nextSort({ key: 'gap', direction: 'descending' }, 'gap', true)).toEqual({ key: 'gap', direction: 'ascending' });
    expect(nextSort({ key: 'gap', direction: 'ascending' }, 'layer', false)).toEqual({ key: 'layer', direction: 'ascending' });
  });
});

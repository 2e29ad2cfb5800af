import { describe, expect, it } from 'vitest';
import { toCsv } from './csv';

describe('toCsv', () => {
  it('quotes fields with commas, quotes and line breaks; prints numbers plainly', () => {
    const rows = [
      { a: 'plain', b: 1.5, c: 'x,y' },
      { a: 'say "hi"', b: Number.NaN, c: 'two\nlines' },
      { a: 'big', b: 1 / 3, c: '' },
    ];
    expect(toCsv(rows, ['a', 'b', 'c'])).toBe('a,b,c\nplain,1.5,"x,y"\n"say ""hi""",,"two\nlines"\nbig,0.33333333,\n');
  });
});

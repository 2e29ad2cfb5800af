import { describe, expect, it } from 'vitest';
import { progressSummary } from './progress-summary';

const at = (stage: string, done: number, total: number) => ({ jobId: 'j', stage, done, total });

describe('progressSummary', () => {
  it('says the stage and the quarter reached, 100 only when done', () => {
    expect(progressSummary(null)).toBe('starting');
    expect(progressSummary(at('extract', 0, 40))).toBe('extract: 0 %');
    expect(progressSummary(at('extract', 9, 40))).toBe('extract: 0 %');
    expect(progressSummary(at('extract', 10, 40))).toBe('extract: 25 %');
    expect(progressSummary(at('extract', 39, 40))).toBe('extract: 75 %');
    expect(progressSummary(at('extract', 40, 40))).toBe('extract: 100 %');
    expect(progressSummary(at('extract', 3, 3), true)).toBe('cancelling');
  });

  it('changes at most 5 times per stage over any number of ticks', () => {
    const said = new Set(Array.from({ length: 1001 }, (_, i) => progressSummary(at('tokenize', i, 1000))));
    expect([...said]).toEqual(['tokenize: 0 %', 'tokenize: 25 %', 'tokenize: 50 %', 'tokenize: 75 %', 'tokenize: 100 %']);
  });

  it('stays in 0..100 for totals of 0 and counts past the total', () => {
    expect(progressSummary(at('load', 0, 0))).toBe('load: 0 %');
    expect(progressSummary(at('load', 7, 5))).toBe('load: 100 %');
    expect(progressSummary(at('load', -1, 5))).toBe('load: 0 %');
  });
});

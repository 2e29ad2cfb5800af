// The token-string mapping, word boundaries, windows and the threshold rules on small hand-made
// records (the fixture test in backend/phrases-service.test.ts checks the whole path against an
// independent Python reference).
import { describe, expect, it } from 'vitest';
import type { ActivationRecord } from './records';
import { cutWindow, featureMaximum, recordPasses, recordWindows, DEFAULT_SELECTION } from './select';
import { isBoundary, pieceCandidates, resolveToken, type ResolvedToken, type VocabEntry } from './token-map';

const vocab = new Map<string, VocabEntry>(
  [['<bos>', 2, true], ['▁The', 10, false], ['▁cat', 11, false], ['s', 12, false], ['\n', 108, false], ['\n\n', 109, false], ['<0x0A>', 227, false], ['<0xE2>', 300, false], ['<0x80>', 301, false], ['ĠThe', 400, false], ['Ċ', 401, false], ['▁sat', 13, false], ['.', 14, false], ['▁on', 15, false]].map(
    ([p, id, special]) => [p as string, { id: id as number, special: special as boolean }],
  ),
);
const res = (tokens: string[]): ResolvedToken[] => tokens.map((t) => resolveToken(t, vocab) ?? { id: -1, piece: t, special: false });

describe('token strings back to ids', () => {
  it('lists the forms a string may stand for, literal first', () => {
    expect(pieceCandidates('▁the')).toEqual(['▁the']);
    expect(pieceCandidates('\\n')).toEqual(['\\n', '\n']);
    expect(pieceCandidates(' The')).toEqual([' The', 'ĠThe', '▁The']);
    expect(pieceCandidates('\n')).toEqual(['\n', 'Ċ', '<0x0A>']);
  });
  it.each([
    ['▁cat', 11, '▁cat'],
    ['<0x80>', 301, '<0x80>'],
    ['\\n', 108, '\n'],
    ['\\n\\n', 109, '\n\n'],
    [' The', 400, 'ĠThe'],
    ['<bos>', 2, '<bos>'],
  ])('%j → %i', (token, id, piece) => {
    expect(resolveToken(token, vocab)).toMatchObject({ id, piece });
  });
  it('maps nothing it cannot find (no guessing)', () => {
    expect(resolveToken('<|outofrange|>', vocab)).toBeNull();
    expect(resolveToken('▁dog', vocab)).toBeNull();
  });
  it('knows word starts and breaks', () => {
    const t = res(['<bos>', 's', '▁cat', 's', '\\n', 's', '<0xE2>', '<0x80>']);
    expect(t.map((_, i) => isBoundary(t, i))).toEqual([true, true, true, false, true, true, false, false]);
  });
});

const rec = (tokens: string[], values: number[], extra: Partial<ActivationRecord> = {}): ActivationRecord => {
  const maxValue = Math.max(...values);
  return { index: 1, tokens, values, maxValue, maxValueTokenIndex: values.indexOf(maxValue), binMin: -1, id: null, where: { file: 'f', label: 'f', line: 1 }, ...extra };
};

describe('windows', () => {
  it('cuts [peak - before, peak + after], starts at a word start and finishes the cut word', () => {
    const t = res(['<bos>', '▁The', '▁cat', 's', 's', '▁sat', '▁on', 's', 's', '.']);
    // Start 3 is inside "▁cat s s": it moves to the peak's word; the end (6) grows over "s s ." to 9.
    expect(cutWindow(t, 5, 2, 1)).toEqual([5, 9]);
    expect(cutWindow(t, 5, 4, 1)).toEqual([1, 9]);
  });
  it('never moves the start past the peak and grows the end by at most 8 tokens', () => {
    const t = res(['▁The', ...Array(20).fill('s')]);
    expect(cutWindow(t, 10, 3, 0)).toEqual([10, 18]);
  });
  it('does not start on a UTF-8 continuation byte', () => {
    const t = res(['▁The', '<0xE2>', '<0x80>', '<0x80>', '▁cat', '▁sat']);
    expect(cutWindow(t, 5, 3, 0)).toEqual([4, 5]);
  });
  it('may start at a line break (trimmed from the text later)', () => {
    const t = res(['▁The', 's', '\\n', 's', 's', '▁cat']);
    expect(cutWindow(t, 5, 4, 0)).toEqual([2, 5]);
  });
});

describe('the threshold rules', () => {
  const r = rec(['▁The', '▁cat', '▁sat', '▁on', '▁The', '▁cat', '▁sat', '▁on', '▁The', '▁cat'], [0, 10, 0, 0, 0, 0, 0, 8.5, 0, 0]);
  const tokens = res(r.tokens);
  it('record-max: one phrase around maxValueTokenIndex when maxValue >= threshold · maximum (equality passes)', () => {
    expect(recordPasses(r, 10, 'record-max')).toBe(true);
    expect(recordPasses(r, 10.000001, 'record-max')).toBe(false);
    const w = recordWindows(r, tokens, 8, { ...DEFAULT_SELECTION, before: 1, after: 1 });
    expect(w).toEqual([{ peak: 1, value: 10, start: 0, end: 2 }]);
  });
  it('token: every token at or above the bar, strongest first, unless inside a kept window', () => {
    const s = { ...DEFAULT_SELECTION, thresholdRule: 'token' as const, before: 1, after: 1 };
    expect(recordWindows(r, tokens, 8, s).map((w) => w.peak)).toEqual([1, 7]);
    expect(recordWindows(r, tokens, 9, s).map((w) => w.peak)).toEqual([1]);
    // A wide window covers the second peak: one phrase.
    expect(recordWindows(r, tokens, 8, { ...s, before: 8, after: 8 }).map((w) => w.peak)).toEqual([1]);
    expect(recordPasses(r, 8.5, 'token')).toBe(true);
    expect(recordPasses(r, 10.5, 'token')).toBe(false);
  });
  it('the maximum: maxActApprox as given, or recomputed over the records read', () => {
    const other = rec(['▁The'], [12.5]);
    expect(featureMaximum([r, other], 20, 'maxActApprox')).toBe(20);
    expect(featureMaximum([r, other], 20, 'recomputed')).toBe(12.5);
    expect(featureMaximum([], 20, 'recomputed')).toBeNull();
    expect(featureMaximum([r], null, 'maxActApprox')).toBeNull();
  });
  it('gives no phrase for a peak on a special token (BOS)', () => {
    const bos = rec(['<bos>', '▁The', '▁cat'], [50, 9, 1]);
    const t = res(bos.tokens);
    expect(recordWindows(bos, t, 8, DEFAULT_SELECTION)).toEqual([]);
    expect(recordWindows(bos, t, 8, { ...DEFAULT_SELECTION, thresholdRule: 'token' }).map((w) => w.peak)).toEqual([1]);
  });
});

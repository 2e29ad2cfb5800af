import { describe, expect, it } from 'vitest';
import { countCharacters, countWords, fertilityMetrics, sumCounts } from './fertility';

describe('fertility counting', () => {
  it.each([
    ['Hello, my dog is cute', 'en', 5],
    ['  spaces   and, punctuation!  ', 'en', 3],
    ['人人生而自由', 'zh', 4], // ICU's dictionary: 人人 / 生 / 而 / 自由
    ['मानव अधिकारों की', 'hi', 3],
    ['', 'en', 0],
  ])('counts words of %j (%s)', (text, lang, n) => expect(countWords(text, lang)).toBe(n));

  it.each([
    ['abc d', 4],
    ['नमस्ते', 3], // grapheme clusters न, म, स्ते: not 6 code points
    ['👩🏽‍🔬 a', 2],
    ['', 0],
  ])('counts characters (grapheme clusters, no whitespace) of %j', (text, n) => expect(countCharacters(text)).toBe(n));

  it('falls back to a root segmenter for a tag ICU rejects', () => {
    expect(countWords('one two', 'not_a_tag_at_all_really')).toBe(2);
  });
});

describe('fertilityMetrics', () => {
  it('computes ratios of sums, not means of ratios', () => {
    const m = fertilityMetrics(
      [
        { tokens: 10, words: 5, characters: 20 },
        { tokens: 2, words: 1, characters: 10 },
      ],
      6,
    );
    expect(m).toEqual({
      segments: 2,
      words: 6,
      characters: 30,
      tokens: 12,
      tokens_per_word: 2,
      tokens_per_char: 0.4,
      tokens_per_segment: 6,
      ratio_to_en: 2,
    });
  });

  it('returns NaN rather than Infinity for empty denominators', () => {
    const m = fertilityMetrics([{ tokens: 3, words: 0, characters: 0 }], 0);
    expect(m.tokens_per_word).toBeNaN();
    expect(m.ratio_to_en).toBeNaN();
  });

  it('sums counts', () => {
    expect(sumCounts([])).toEqual({ tokens: 0, words: 0, characters: 0 });
  });
});

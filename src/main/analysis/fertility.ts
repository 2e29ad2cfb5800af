// Tokenizer fertility: how many tokens a tokenizer spends on the same content in each language.
// Plain functions over counts; the formulas are returned with every result.
import type { FertilityRow } from '../../shared/dto';

export interface TextCounts {
  tokens: number;
  words: number;
  characters: number;
}

export const FERTILITY_FORMULAS: Record<string, string> = {
  tokens: 'number of token ids the tokenizer gives each paragraph, special tokens (BOS/EOS) excluded; each paragraph encoded on its own',
  words: 'Intl.Segmenter(lang, {granularity: "word"}) segments with isWordLike (Unicode UAX #29; dictionary-based for Han and Thai)',
  characters: 'extended grapheme clusters (Intl.Segmenter granularity "grapheme"), whitespace excluded',
  tokens_per_word: 'Σ tokens / Σ words over the aligned segments',
  tokens_per_char: 'Σ tokens / Σ characters over the aligned segments',
  tokens_per_segment: 'Σ tokens / number of aligned segments',
  ratio_to_en: 'Σ tokens(language) / Σ tokens(en) over the same aligned segments (tokenizer parity, 1.0 = as many as English)',
};

const wordSegmenters = new Map<string, Intl.Segmenter>();
const graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function wordSegmenter(locale: string): Intl.Segmenter {
  let segmenter = wordSegmenters.get(locale);
  if (!segmenter) {
    let tag = locale.replace(/_/g, '-');
    try {
      segmenter = new Intl.Segmenter(tag, { granularity: 'word' });
    } catch {
      tag = 'und';
      segmenter = new Intl.Segmenter(undefined, { granularity: 'word' });
    }
    wordSegmenters.set(locale, segmenter);
  }
  return segmenter;
}

export function countWords(text: string, locale: string): number {
  let n = 0;
  for (const s of wordSegmenter(locale).segment(text)) if (s.isWordLike) n++;
  return n;
}

export function countCharacters(text: string): number {
  let n = 0;
  for (const s of graphemeSegmenter.segment(text)) if (!/^\s+$/u.test(s.segment)) n++;
  return n;
}

export function sumCounts(counts: readonly TextCounts[]): TextCounts {
  const total = { tokens: 0, words: 0, characters: 0 };
  for (const c of counts) {
    total.tokens += c.tokens;
    total.words += c.words;
    total.characters += c.characters;
  }
  return total;
}

/** The numeric part of a fertility row (dto.ts): counts and the ratios over them. */
export type FertilityMetrics = Omit<FertilityRow, 'language' | 'name' | 'tier' | 'script'>;

/** perSegment: one language's counts for each aligned segment; englishTokens: Σ tokens of en on the same segments. */
export function fertilityMetrics(perSegment: readonly TextCounts[], englishTokens: number): FertilityMetrics {
  const total = sumCounts(perSegment);
  const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
  return {
    segments: perSegment.length,
    words: total.words,
    characters: total.characters,
    tokens: total.tokens,
    tokens_per_word: ratio(total.tokens, total.words),
    tokens_per_char: ratio(total.tokens, total.characters),
    tokens_per_segment: ratio(total.tokens, perSegment.length),
    ratio_to_en: ratio(total.tokens, englishTokens),
  };
}

// A BPE trainer in the SentencePiece-BPE layout Gemma's tokenizer uses: spaces become `▁` (U+2581),
// a word is a `▁` and what follows it up to the next `▁`, the base vocabulary is every character of
// the training text, and characters outside it fall back to the 256 byte pieces `<0x00>`..`<0xFF>`
// at encode time (bpe-tokenizer.ts writes the tokenizer.json).
//
// Merges are learned from weighted word counts: a corpus entry of weight w counts as w copies of
// its text, so a language given more (or more heavily sampled) text gets more of its pairs merged —
// the mechanism that leaves low-resource languages with more tokens per word.
//
// Selection rule (deterministic, and the one Hugging Face's BpeTrainer applies): the pair with the
// highest weighted count; on a tie, the smallest (left id, right id), where ids are
//   0-3 <pad> <eos> <bos> <unk>, 4-259 <0x00>..<0xFF>, then the characters by code point, then each
//   merged token in the order it was learned.
// A merge whose result is a string already in the vocabulary reuses its id (the vocabulary does not
// grow); training stops at `vocabSize` tokens or when no pair occurs `minFrequency` times.
import { ApiError } from '../../shared/errors';

export const BPE_SPECIALS = ['<pad>', '<eos>', '<bos>', '<unk>'] as const;
export const BPE_BYTE_OFFSET = BPE_SPECIALS.length;
export const METASPACE = '\u2581';
/** Ids stay below 2^21 so that a pair packs into one exact number (left * 2^21 + right < 2^42). */
export const BPE_MAX_VOCAB = 1 << 21;
const PAIR_SHIFT = 1 << 21;

export interface BpeCorpusEntry {
  /** Raw text (spaces are turned into `▁` here). */
  text: string;
  /** How many times the text counts; a positive integer (default 1). */
  weight?: number;
}

export interface BpeTrainOptions {
  /** Total vocabulary: specials + 256 bytes + characters + merges. */
  vocabSize: number;
  /** A pair seen (weighted) fewer times than this is never merged; default 2 (a pair seen once is
   * one word's spelling, not a regularity). */
  minFrequency?: number;
}

export interface BpeModel {
  /** Token strings by id. */
  tokens: string[];
  /** Merges in rank order, as token strings. */
  merges: [string, string][];
  /** Number of distinct characters of the training text (ids 260 onward). */
  alphabetSize: number;
  /** Weighted count of each merge when it was chosen (diagnostics; same order as `merges`). */
  mergeCounts: number[];
}

export function byteToken(b: number): string {
  return `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Words of one text as Gemma's normalizer leaves them: ' ' -> '▁', a new word at each '▁'. */
export function metaspaceWords(text: string): string[] {
  const normalized = text.split(' ').join(METASPACE);
  const words: string[] = [];
  let start = 0;
  for (let i = 1; i < normalized.length; i++) {
    if (normalized[i] === METASPACE) {
      words.push(normalized.slice(start, i));
      start = i;
    }
  }
  if (normalized.length > 0) words.push(normalized.slice(start));
  return words;
}

function checkOptions(corpus: readonly BpeCorpusEntry[], options: BpeTrainOptions): number {
  if (!Array.isArray(corpus) || corpus.length === 0) throw new ApiError('INVALID_ARGUMENT', 'the BPE training corpus must be a non-empty list of texts');
  corpus.forEach((entry, i) => {
    if (typeof entry?.text !== 'string') throw new ApiError('INVALID_ARGUMENT', `BPE corpus entry ${i + 1} has no text`, { entry: i });
    // A lone surrogate has no UTF-8 bytes, so neither a vocabulary piece nor a byte fallback.
    if (/[\uD800-\uDFFF]/u.test(entry.text)) throw new ApiError('INVALID_ARGUMENT', `BPE corpus entry ${i + 1} holds a lone UTF-16 surrogate (not valid Unicode text)`, { entry: i });
    const w = entry.weight ?? 1;
    if (!Number.isSafeInteger(w) || w < 1 || w > 1_000_000) throw new ApiError('INVALID_ARGUMENT', `BPE corpus entry ${i + 1} has weight ${String(w)}; a weight is an integer from 1 to 1000000`, { entry: i, weight: w });
  });
  const min = options.minFrequency ?? 2;
  if (!Number.isSafeInteger(min) || min < 1) throw new ApiError('INVALID_ARGUMENT', `minFrequency ${String(min)} must be a positive integer`, { minFrequency: min });
  const size = options.vocabSize;
  if (!Number.isSafeInteger(size) || size < 1 || size > BPE_MAX_VOCAB) throw new ApiError('INVALID_ARGUMENT', `vocabSize ${String(size)} must be an integer from 1 to ${BPE_MAX_VOCAB}`, { vocabSize: size });
  return min;
}

/** Max-heap of (count, pair key): higher count first, then the smaller key. Entries may be stale
 * (a count that has since dropped); the trainer re-checks each popped entry. */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private above(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; key: number } {
    const top = { count: this.counts[0], key: this.keys[0] };
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.counts.length && this.above(l, best)) best = l;
        if (r < this.counts.length && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

export function trainBpe(corpus: readonly BpeCorpusEntry[], options: BpeTrainOptions): BpeModel {
  const minFrequency = checkOptions(corpus, options);

  // Weighted word counts, then the alphabet by code point.
  const wordCounts = new Map<string, number>();
  const charSet = new Set<string>();
  for (const entry of corpus) {
    const w = entry.weight ?? 1;
    for (const word of metaspaceWords(entry.text)) {
      wordCounts.set(word, (wordCounts.get(word) ?? 0) + w);
      for (const ch of word) charSet.add(ch);
    }
  }
  if (charSet.size === 0) throw new ApiError('INVALID_ARGUMENT', 'the BPE training corpus has no characters');
  const alphabet = [...charSet].sort((a, b) => (a.codePointAt(0) as number) - (b.codePointAt(0) as number));
  const tokens: string[] = [...BPE_SPECIALS];
  for (let b = 0; b < 256; b++) tokens.push(byteToken(b));
  tokens.push(...alphabet);
  if (options.vocabSize < tokens.length) {
    throw new ApiError('INVALID_ARGUMENT', `vocabSize ${options.vocabSize} is below the ${tokens.length} base tokens (${BPE_SPECIALS.length} special, 256 bytes, ${alphabet.length} characters of the corpus)`, { vocabSize: options.vocabSize, baseTokens: tokens.length });
  }
  const idOf = new Map<string, number>(tokens.map((t, i) => [t, i]));

  // Each distinct word as symbol ids, with its weighted count.
  const words: number[][] = [];
  const counts: number[] = [];
  for (const [word, c] of wordCounts) {
    words.push([...word].map((ch) => idOf.get(ch) as number));
    counts.push(c);
  }

  // Pair counts (exact at all times) and, per pair, the words that may hold it (a superset).
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: 1 | -1, involving?: number) => {
    const s = words[w];
    for (let i = 0; i + 1 < s.length; i++) {
      const key = s[i] * PAIR_SHIFT + s[i + 1];
      pairCount.set(key, (pairCount.get(key) ?? 0) + sign * counts[w]);
      if (sign > 0 && (involving === undefined || s[i] === involving || s[i + 1] === involving)) {
        let set = where.get(key);
        if (!set) where.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1);
  const heap = new PairHeap();
  for (const [key, c] of pairCount) heap.push(c, key);

  const merges: [string, string][] = [];
  const mergeCounts: number[] = [];
  while (tokens.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop();
    const actual = pairCount.get(top.key) ?? 0;
    if (top.count !== actual) {
      if (actual > 0) heap.push(actual, top.key);
      continue;
    }
    if (actual < minFrequency) break;
    const left = Math.floor(top.key / PAIR_SHIFT);
    const right = top.key - left * PAIR_SHIFT;
    const merged = tokens[left] + tokens[right];
    let id = idOf.get(merged);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(merged);
      idOf.set(merged, id);
    }
    merges.push([tokens[left], tokens[right]]);
    mergeCounts.push(actual);
    // Each word holding the pair: its pairs come off, the pair is merged left to right without
    // overlap ("a a a" -> "aa a"), and the new word's pairs go back on.
    const touched = new Set<number>();
    for (const w of where.get(top.key) ?? []) {
      const s = words[w];
      let found = false;
      for (let i = 0; i + 1 < s.length; i++) if (s[i] === left && s[i + 1] === right) found = true;
      if (!found) continue;
      addPairs(w, -1);
      const out: number[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(id);
          i++;
        } else out.push(s[i]);
      }
      words[w] = out;
      addPairs(w, 1, id);
      for (let i = 0; i + 1 < out.length; i++) if (out[i] === id || out[i + 1] === id) touched.add(out[i] * PAIR_SHIFT + out[i + 1]);
    }
    where.delete(top.key);
    pairCount.delete(top.key);
    // Pairs with the new token enter the heap once, at their count after the whole step.
    for (const key of touched) heap.push(pairCount.get(key) as number, key);
  }
  return { tokens, merges, alphabetSize: alphabet.length, mergeCounts };
}

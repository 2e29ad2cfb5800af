// The fine-tune's data: aligned (English, target) phrase pairs from tokenized segments, a seeded
// split BY SEGMENT (a held-out segment is never trained on, in any language), a cap on training
// pairs, and the batches of each step — a pure function of (seed, step), so a resumed run sees
// exactly the data the uninterrupted one would have.
import { ApiError } from '../../shared/errors';
import { type DataSettings } from '../../shared/finetune';
import { mulberry32 } from '../../shared/random';

export interface TokenizedSegment {
  key: string;
  /** Token ids (BOS first) per language code. */
  tokens: Record<string, number[]>;
}

export interface Pair {
  /** Index into the segments. */
  segment: number;
  /** Target language code. */
  language: string;
}


export interface Split {
  train: number[];
  heldOut: number[];
  /** Training pairs, in a fixed order (the passes shuffle it). */
  pairs: Pair[];
  /** Pairs the corpus offers on the training segments before the cap. */
  available: number;
  /** Held-out pairs (every held-out segment × every target language). */
  heldOutPairs: Pair[];
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function checkDataSettings(d: DataSettings): void {
  const bad = (name: string, why: string) => new ApiError('INVALID_ARGUMENT', `${name} ${why}`, { setting: name });
  if (!Number.isInteger(d.pairs) || d.pairs < 1) throw bad('pairs', `must be a positive integer; got ${d.pairs}`);
  if (!Number.isInteger(d.passes) || d.passes < 1 || d.passes > 1000) throw bad('passes', `must be an integer in 1..1000; got ${d.passes}`);
  if (!(d.heldOut > 0 && d.heldOut < 1)) throw bad('held-out', `must be a fraction strictly between 0 and 1; got ${d.heldOut}`);
  if (!Number.isInteger(d.batchPairs) || d.batchPairs < 1 || d.batchPairs > 4096) throw bad('batch', `must be an integer in 1..4096 pairs; got ${d.batchPairs}`);
  if (!Number.isInteger(d.maxTokens) || d.maxTokens < 2 || d.maxTokens > 1_000_000) throw bad('max-tokens', `must be an integer in 2..10^6; got ${d.maxTokens}`);
  if (!Number.isInteger(d.batchTokens) || d.batchTokens < 2 * d.maxTokens) throw bad('batch-tokens', `must be an integer of at least 2 × max-tokens (${2 * d.maxTokens}), so that any one pair fits; got ${d.batchTokens}`);
  if (!Number.isInteger(d.seed) || d.seed < 0 || d.seed > 2 ** 31) throw bad('seed', `must be an integer in 0..2^31; got ${d.seed}`);
}

/** Segments split by a seeded shuffle: round(heldOut·S) held out (at least 1, and at least 1 left
 * to train on); training pairs = training segments × target languages, capped by a seeded sample. */
export function splitPairs(segments: readonly TokenizedSegment[], targets: readonly string[], d: DataSettings): Split {
  checkDataSettings(d);
  if (targets.length === 0) throw new ApiError('INVALID_ARGUMENT', 'choose at least one target language besides English');
  if (segments.length < 2) throw new ApiError('INVALID_ARGUMENT', `the corpus has ${segments.length} aligned segment(s); a fine-tune needs at least 2 (one to train on, one held out)`);
  for (const lang of targets) {
    if (!segments.some((s) => s.tokens[lang])) throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `the corpus has no pair for ${lang}: no segment holds both an English and a ${lang} text`, { language: lang });
  }
  const order = shuffle(segments.map((_, i) => i), mulberry32(d.seed * 2654435761 + 17));
  const held = Math.min(segments.length - 1, Math.max(1, Math.round(d.heldOut * segments.length)));
  const heldOut = order.slice(0, held).sort((a, b) => a - b);
  const train = order.slice(held).sort((a, b) => a - b);
  const all = train.flatMap((segment) => targets.filter((language) => segments[segment].tokens[language]).map((language) => ({ segment, language })));
  if (all.length === 0) throw new ApiError('INVALID_ARGUMENT', 'no training pair is left after holding segments out; use a larger corpus or a smaller held-out share');
  const pairs = all.length > d.pairs ? shuffle([...all], mulberry32(d.seed * 40503 + 29)).slice(0, d.pairs).sort((a, b) => a.segment - b.segment || a.language.localeCompare(b.language)) : all;
  const heldOutPairs = heldOut.flatMap((segment) => targets.filter((language) => segments[segment].tokens[language]).map((language) => ({ segment, language })));
  return { train, heldOut, pairs, available: all.length, heldOutPairs };
}

/**
 * The batches of one pass: the pairs shuffled (seed, pass), cut into windows of 16 × batchPairs,
 * each window sorted by pair length (batch by length: less padding) and cut into batches of at
 * most batchPairs pairs and batchTokens padded tokens (2 phrases per pair, padded to the longest).
 */
export function passBatches(pairs: readonly Pair[], length: (p: Pair) => number, d: DataSettings, pass: number): Pair[][] {
  const order = shuffle(pairs.map((_, i) => i), mulberry32(d.seed * 69069 + pass * 7919 + 1));
  const window = d.batchPairs * 16;
  const batches: Pair[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const sorted = order.slice(start, start + window).sort((a, b) => length(pairs[a]) - length(pairs[b]) || a - b);
    let batch: Pair[] = [];
    let longest = 0;
    for (const i of sorted) {
      const T = Math.max(longest, length(pairs[i]));
      if (batch.length && (batch.length >= d.batchPairs || 2 * (batch.length + 1) * T > d.batchTokens)) {
        batches.push(batch);
        batch = [];
      }
      batch.push(pairs[i]);
      longest = batch.length === 1 ? length(pairs[i]) : T;
    }
    if (batch.length) batches.push(batch);
  }
  return batches;
}

/** Every step's pairs: pass after pass (steps beyond `passes` passes go on to further passes). A
 * pure function of (pairs, settings, step): a resumed run sees what the uninterrupted one would. */
export class BatchPlan {
  /** First step of each pass generated so far, and its batches (the latest few kept). */
  private readonly starts: number[] = [0];
  private readonly cached = new Map<number, Pair[][]>();

  constructor(
    private readonly pairs: readonly Pair[],
    private readonly length: (p: Pair) => number,
    private readonly d: DataSettings,
  ) {}

  private pass(n: number): Pair[][] {
    let batches = this.cached.get(n);
    if (!batches) {
      batches = passBatches(this.pairs, this.length, this.d, n);
      if (this.cached.size > 4) this.cached.clear();
      this.cached.set(n, batches);
    }
    while (this.starts.length <= n + 1) {
      const k = this.starts.length - 1;
      this.starts.push(this.starts[k] + (k === n ? batches.length : this.pass(k).length));
    }
    return batches;
  }

  /** Steps of `passes` passes (passes may differ by a batch or two under the token budget). */
  get steps(): number {
    this.pass(this.d.passes - 1);
    return this.starts[this.d.passes];
  }

  at(step: number): Pair[] {
    let n = 0;
    for (;;) {
      const batches = this.pass(n);
      if (step < this.starts[n + 1]) return batches[step - this.starts[n]];
      n++;
    }
  }
}

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

/** Steps of `passes` passes over `pairs` in batches of batchPairs (the last batch of a pass may be smaller). */
export function stepsFor(pairs: number, d: DataSettings): number {
  return Math.ceil(pairs / d.batchPairs) * d.passes;
}

/**
 * The pairs of step `step` (0-based): each pass shuffles the pairs (seed, pass), cuts them into
 * windows of 16 batches, sorts each window by pair length (batch by length: less padding) and
 * cuts it into batches; steps beyond one run of passes wrap around.
 */
export function batchAt(pairs: readonly Pair[], length: (p: Pair) => number, d: DataSettings, step: number): Pair[] {
  const perPass = Math.ceil(pairs.length / d.batchPairs);
  const pass = Math.floor(step / perPass);
  const within = step % perPass;
  const order = shuffle(pairs.map((_, i) => i), mulberry32(d.seed * 69069 + pass * 7919 + 1));
  const window = d.batchPairs * 16;
  const start = Math.floor((within * d.batchPairs) / window) * window;
  const sorted = order.slice(start, start + window).sort((a, b) => length(pairs[a]) - length(pairs[b]) || a - b);
  const at = within * d.batchPairs - start;
  return sorted.slice(at, at + d.batchPairs).map((i) => pairs[i]);
}

// Greedy and beam-search decoding for Marian, as transformers 5's generate() does it with a
// folder's generation settings (config.ts' MarianGeneration), so our token ids equal HF's:
//
// - Decoding starts from decoder_start_token_id (the pad token for opus-mt); the decoder reuses
//   its past keys/values (model.ts), one new token per row and step.
// - Logits processors, in transformers' order: bad_words_ids (−∞ on a banned token, or on the last
//   token of a banned sequence whose prefix ends the output; a banned [eos] is dropped from the
//   list, as transformers does), forced EOS (at length max_length − 1 every token but
//   forced_eos_token_id is −∞), then log-softmax again when renormalize_logits.
// - Greedy (num_beams 1): the processors act on the raw logits; argmax; a finished row continues
//   with pad. Stops when every row has produced an EOS or reached max_length.
// - Beam search (num_beams k): a beam's score is the sum of the processed log-probabilities of its
//   tokens; each step keeps the best 2k continuations over all k beams (k·V candidates); those
//   ending in EOS or at max_length are finished candidates, scored sum / n^length_penalty with
//   n = generated tokens including the EOS (the start token not counted); among the first k
//   continuations only; the best k unfinished continue. A sentence is done when (early_stopping
//   true) k hypotheses are finished, or when the best running beam's score / n'^length_penalty
//   (n' = its current length, or max_length − 1 when early_stopping is "never" and the penalty is
//   positive) cannot beat the worst of k finished ones. Arithmetic is float32, as in torch.
// Outputs are HF's `sequences`: start token first, rows padded with pad to the longest.
import { ApiError } from '../../../shared/errors';
import type { MarianGeneration } from './config';
import type { DecoderCache, EncodedBatch, MarianModel } from './model';

export interface GenerateResult {
  /** One per source: the start token, the generated tokens (EOS included when produced), pad to the longest. */
  sequences: number[][];
  /** Beam search: each output's length-penalised score (transformers' sequences_scores); greedy: null. */
  scores: number[] | null;
}

export interface GenerateOptions {
  signal?: AbortSignal;
  /** Called after each decoder step with the output length so far. */
  onStep?: (length: number) => void;
}

const f = Math.fround;
const NEG = -1e9; // transformers' "very large negative" for beams that must not be chosen

/** transformers' max_length after max_new_tokens (the decoder prompt is the one start token). */
export function effectiveMaxLength(s: MarianGeneration): number {
  return s.maxNewTokens !== null ? s.maxNewTokens + 1 : s.maxLength;
}

function checkSettings(s: MarianGeneration, maxLength: number, maxPositions: number): void {
  if (maxLength < 2) throw new ApiError('INVALID_ARGUMENT', `max_length ${maxLength} leaves no room for a generated token (it counts the start token)`);
  // The last decoder input sits at position max_length − 2.
  if (maxLength - 1 > maxPositions) {
    throw new ApiError('INVALID_ARGUMENT', `max_length ${maxLength} needs ${maxLength - 1} decoder positions; this model's positions stop at ${maxPositions} (max_position_embeddings)`);
  }
  if (!Number.isSafeInteger(s.numBeams) || s.numBeams < 1) throw new ApiError('INVALID_ARGUMENT', `num_beams must be a positive integer, got ${s.numBeams}`);
}

/** log-softmax over one row, float32 result (computed in float64). */
function logSoftmaxInPlace(row: Float32Array): void {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < row.length; i++) row[i] = f(row[i] - lse);
}

/** The processors of the file comment, on one row's scores, in place. `tokens`: the row so far. */
export class LogitsProcessors {
  private readonly banned: number[][];

  constructor(
    private readonly s: MarianGeneration,
    private readonly maxLength: number,
  ) {
    this.banned = s.badWordsIds.filter((seq) => !(seq.length === 1 && s.eosTokenIds.includes(seq[0])));
  }

  apply(row: Float32Array, tokens: readonly number[]): void {
    for (const seq of this.banned) {
      const prefix = seq.length - 1;
      if (prefix > tokens.length) continue;
      let match = true;
      for (let i = 0; i < prefix && match; i++) match = tokens[tokens.length - prefix + i] === seq[i];
      if (match) row[seq[prefix]] = -Infinity;
    }
    if (this.s.forcedEosTokenId !== null && tokens.length === this.maxLength - 1) {
      row.fill(-Infinity);
      row[this.s.forcedEosTokenId] = 0;
    }
    if (this.s.renormalizeLogits) logSoftmaxInPlace(row);
  }
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new ApiError('CANCELLED', 'the translation was cancelled');
}

/** Translates `sources` (token ids with </s>) with the settings' num_beams. */
export async function generate(model: MarianModel, sources: readonly (readonly number[])[], settings: MarianGeneration, options: GenerateOptions = {}): Promise<GenerateResult> {
  const maxLength = effectiveMaxLength(settings);
  checkSettings(settings, maxLength, model.config.maxPositions);
  throwIfCancelled(options.signal);
  const encoded = await model.encode(sources);
  return settings.numBeams === 1 ? greedy(model, encoded, settings, maxLength, options) : beamSearch(model, encoded, settings, maxLength, options);
}

async function greedy(model: MarianModel, encoded: EncodedBatch, s: MarianGeneration, maxLength: number, options: GenerateOptions): Promise<GenerateResult> {
  const V = model.config.vocabSize;
  const R = encoded.rows;
  const processors = new LogitsProcessors(s, maxLength);
  const sequences = Array.from({ length: R }, () => [s.decoderStartTokenId]);
  const unfinished = new Array<boolean>(R).fill(true);
  let cache: DecoderCache = model.emptyCache(R);
  let next = sequences.map((seq) => [seq[0]]);
  while (true) {
    throwIfCancelled(options.signal);
    const out = await model.step(encoded, next, cache);
    cache = out.cache;
    for (let r = 0; r < R; r++) {
      const row = out.logits.slice(r * V, (r + 1) * V);
      processors.apply(row, sequences[r]);
      let best = 0;
      for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v; // first maximum, as torch.argmax
      const token = unfinished[r] ? best : s.padTokenId;
      sequences[r].push(token);
      if (s.eosTokenIds.includes(token) || sequences[r].length >= maxLength) unfinished[r] = false;
    }
    options.onStep?.(sequences[0].length);
    if (!unfinished.some(Boolean)) break;
    next = sequences.map((seq) => [seq[seq.length - 1]]);
  }
  return { sequences, scores: null };
}

interface Hypothesis {
  tokens: number[];
  score: number;
}

/** Indices of the k largest values, largest first; ties keep the lower index first. */
function topK(values: ArrayLike<number>, k: number): number[] {
  const picked: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (picked.length === k && !(values[i] > values[picked[k - 1]])) continue;
    let at = picked.length === k ? k - 1 : picked.length;
    picked[at] = i;
    while (at > 0 && values[picked[at]] > values[picked[at - 1]]) {
      [picked[at], picked[at - 1]] = [picked[at - 1], picked[at]];
      at--;
    }
  }
  return picked;
}

/** One source sentence's beam state (transformers keeps the same per batch row). */
class SentenceBeams {
  running: Hypothesis[];
  /** k best finished-or-placeholder hypotheses, best first; placeholders score −1e9. */
  finished: (Hypothesis & { done: boolean })[];
  /** false once no running beam can beat the worst finished one (transformers' heuristic). */
  improvable = true;
  lastHits: boolean[] = [];

  constructor(
    readonly k: number,
    start: number,
  ) {
    this.running = Array.from({ length: k }, (_, i) => ({ tokens: [start], score: i === 0 ? 0 : NEG }));
    this.finished = Array.from({ length: k }, () => ({ tokens: [start], score: NEG, done: false }));
  }

  get allDone(): boolean {
    return this.finished.every((h) => h.done);
  }
}

async function beamSearch(model: MarianModel, encoded: EncodedBatch, s: MarianGeneration, maxLength: number, options: GenerateOptions): Promise<GenerateResult> {
  const V = model.config.vocabSize;
  const k = s.numBeams;
  const B = encoded.rows;
  const lp = s.lengthPenalty;
  const processors = new LogitsProcessors(s, maxLength);
  const keep = Math.max(2, 1 + s.eosTokenIds.length) * k; // candidates kept per step, as transformers
  const beams = Array.from({ length: B }, () => new SentenceBeams(k, s.decoderStartTokenId));
  const expanded = model.expand(encoded, k);
  let cache: DecoderCache = model.emptyCache(B * k);
  let reorder: number[] | undefined;
  let curLen = 1;
  const scores = new Float32Array(k * V);

  while (true) {
    throwIfCancelled(options.signal);
    const tokens = beams.flatMap((b) => b.running.map((h) => [h.tokens[h.tokens.length - 1]]));
    const out = await model.step(expanded, tokens, cache, reorder);
    cache = out.cache;
    const nextReorder: number[] = [];
    for (let b = 0; b < B; b++) {
      const sb = beams[b];
      // Accumulated scores over (beam, token): running score + processed log-probabilities.
      for (let j = 0; j < k; j++) {
        const row = out.logits.slice((b * k + j) * V, (b * k + j + 1) * V);
        logSoftmaxInPlace(row);
        processors.apply(row, sb.running[j].tokens);
        for (let v = 0; v < V; v++) scores[j * V + v] = f(row[v] + sb.running[j].score);
      }
      const picked = topK(scores, keep);
      const candidates = picked.map((i) => {
        const beam = Math.floor(i / V);
        const token = i % V;
        return { beam, tokens: [...sb.running[beam].tokens, token], score: scores[i], hit: s.eosTokenIds.includes(token) || curLen + 1 >= maxLength };
      });
      sb.lastHits = candidates.map((c) => c.hit);

      // Running beams for the next step: the best k, finished candidates pushed to −1e9.
      const runningScores = candidates.map((c) => (c.hit ? f(c.score + NEG) : c.score));
      const nextRunning = topK(runningScores, k);
      sb.running = nextRunning.map((i) => ({ tokens: candidates[i].tokens, score: runningScores[i] }));
      for (const i of nextRunning) nextReorder.push(b * k + candidates[i].beam);

      // Finished hypotheses: merge the newly finished among the first k candidates.
      const full = sb.allDone && s.earlyStopping === true;
      const divisor = f((curLen + 1 - 1) ** lp);
      const finishedScores = candidates.map((c, i) => {
        let v = f(c.score / divisor);
        if (full) v = f(v + NEG);
        if (!sb.improvable) v = f(v + NEG);
        if (!(c.hit && i < k)) v = f(v + NEG);
        return v;
      });
      const merged = [
        ...sb.finished.map((h) => ({ tokens: h.tokens, score: h.score, done: h.done })),
        ...candidates.map((c, i) => ({ tokens: c.tokens, score: finishedScores[i], done: c.hit && i < k })),
      ];
      sb.finished = topK(merged.map((m) => m.score), k).map((i) => merged[i]);
    }
    reorder = nextReorder;
    curLen += 1;
    options.onStep?.(curLen);

    // Can a running beam still beat the worst finished hypothesis?
    for (const sb of beams) {
      const hypothetical = s.earlyStopping === 'never' && lp > 0 ? maxLength - 1 : curLen - 1;
      const bestPossible = f(sb.running[0].score / f(hypothetical ** lp));
      const worst = Math.min(...sb.finished.map((h) => h.score));
      const beatsSome = sb.finished.some((h) => bestPossible > (h.done ? worst : NEG));
      sb.improvable = sb.improvable && beatsSome;
    }
    const improvementPossible = beams.some((sb) => sb.improvable);
    const openBeam = !(beams.every((sb) => sb.allDone) && s.earlyStopping === true);
    const validContinuations = !beams.every((sb) => sb.lastHits.every(Boolean));
    if (!(improvementPossible && openBeam && validContinuations)) break;
  }

  const best = beams.map((sb) => sb.finished[0]);
  const width = Math.max(...best.map((h) => h.tokens.length));
  return {
    sequences: best.map((h) => [...h.tokens, ...new Array<number>(width - h.tokens.length).fill(s.padTokenId)]),
    scores: best.map((h) => h.score),
  };
}

/** The generated tokens of one output: start token and padding removed, EOS kept when produced
 * (what `linguascope translate` writes as `ids`). */
export function generatedIds(sequence: readonly number[], settings: MarianGeneration): number[] {
  const body = sequence.slice(1);
  const eos = body.findIndex((t) => settings.eosTokenIds.includes(t));
  if (eos >= 0) return body.slice(0, eos + 1);
  let end = body.length;
  while (end > 0 && body[end - 1] === settings.padTokenId) end--;
  return body.slice(0, end);
}

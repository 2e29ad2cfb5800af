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
//
// No V-wide pass runs in JavaScript: the decoder graph applies each row's bans (and the second
// log-softmax) and returns only the best allowed token (greedy) or each row's 2k best processed
// log-probabilities (beam): a beam's best continuations over all V tokens are among its row's
// top entries, since the beam's score shifts the whole row alike.
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

/** The processors of the file comment, per row: which tokens are banned, whether one is forced. */
export class LogitsProcessors {
  private readonly bannedWords: number[][];

  constructor(
    private readonly s: MarianGeneration,
    private readonly maxLength: number,
  ) {
    this.bannedWords = s.badWordsIds.filter((seq) => !(seq.length === 1 && s.eosTokenIds.includes(seq[0])));
  }

  /** Tokens bad_words_ids forbids after `tokens`, without repeats. */
  banned(tokens: readonly number[]): number[] {
    const out = new Set<number>();
    for (const seq of this.bannedWords) {
      const prefix = seq.length - 1;
      if (prefix > tokens.length) continue;
      let match = true;
      for (let i = 0; i < prefix && match; i++) match = tokens[tokens.length - prefix + i] === seq[i];
      if (match) out.add(seq[prefix]);
    }
    return [...out];
  }

  /** The forced EOS when the next token is the last one max_length allows, else null. */
  forced(tokens: readonly number[]): number | null {
    return this.s.forcedEosTokenId !== null && tokens.length === this.maxLength - 1 ? this.s.forcedEosTokenId : null;
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
  const R = encoded.rows;
  const processors = new LogitsProcessors(s, maxLength);
  const sequences = Array.from({ length: R }, () => [s.decoderStartTokenId]);
  const unfinished = new Array<boolean>(R).fill(true);
  let cache: DecoderCache = model.emptyCache(R);
  let next = sequences.map((seq) => [seq[0]]);
  while (true) {
    throwIfCancelled(options.signal);
    const out = await model.step(encoded, next, cache, undefined, { decode: 'greedy', ban: sequences.map((seq) => processors.banned(seq)) });
    cache = out.cache;
    for (let r = 0; r < R; r++) {
      // Argmax of the processed logits (renormalize_logits, a log-softmax, does not move it):
      // the forced token, else the best allowed logit (ties: lower id first in both TopK and
      // torch.argmax).
      const seq = sequences[r];
      const chosen = processors.forced(seq) ?? out.topIds![r];
      const token = unfinished[r] ? chosen : s.padTokenId;
      seq.push(token);
      if (s.eosTokenIds.includes(token) || seq.length >= maxLength) unfinished[r] = false;
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

  while (true) {
    throwIfCancelled(options.signal);
    const tokens = beams.flatMap((b) => b.running.map((h) => [h.tokens[h.tokens.length - 1]]));
    const ban = beams.flatMap((b) => b.running.map((h) => processors.banned(h.tokens)));
    const out = await model.step(expanded, tokens, cache, reorder, { decode: 'beam', top: keep, ban, renormalize: s.renormalizeLogits });
    cache = out.cache;
    const Kout = out.topIds!.length / (B * k);
    const nextReorder: number[] = [];
    for (let b = 0; b < B; b++) {
      const sb = beams[b];
      // Continuations of every beam: running score + processed log-probability, from the row's
      // top entries; `flat` = beam·V + token orders ties as transformers' flattened topk.
      const continuations: { beam: number; token: number; score: number; flat: number }[] = [];
      for (let j = 0; j < k; j++) {
        const r = b * k + j;
        const hyp = sb.running[j];
        const forced = processors.forced(hyp.tokens);
        if (forced !== null) {
          continuations.push({ beam: j, token: forced, score: f(0 + hyp.score), flat: j * V + forced });
          continue;
        }
        for (let i = 0; i < Kout; i++) {
          const token = out.topIds![r * Kout + i];
          continuations.push({ beam: j, token, score: f(out.topLogProbs![r * Kout + i] + hyp.score), flat: j * V + token });
        }
      }
      continuations.sort((x, y) => y.score - x.score || x.flat - y.flat);
      const candidates = continuations.slice(0, keep).map((o) => ({
        beam: o.beam,
        tokens: [...sb.running[o.beam].tokens, o.token],
        score: o.score,
        hit: s.eosTokenIds.includes(o.token) || curLen + 1 >= maxLength,
      }));
      sb.lastHits = candidates.map((c) => c.hit);

      // Running beams for the next step: the best k, finished candidates pushed to −1e9.
      const runningScores = candidates.map((c) => (c.hit ? f(c.score + NEG) : c.score));
      const nextRunning = topK(runningScores, k);
      sb.running = nextRunning.map((i) => ({ tokens: candidates[i].tokens, score: runningScores[i] }));
      for (const i of nextRunning) nextReorder.push(b * k + candidates[i].beam);

      // Finished hypotheses: merge the newly finished among the first k candidates.
      const full = sb.allDone && s.earlyStopping === true;
      // n = generated tokens including this one: transformers' cur_len + 1 − decoder prompt length (1).
      const divisor = f(curLen ** lp);
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

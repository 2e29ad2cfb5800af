// A Marian model ready to run: the encoder and decoder-step graphs of forward.ts as onnxruntime
// sessions, with the host-side work each call needs (padding, masks, the sinusoidal positions,
// the key/value cache between steps). Sessions come from a loader, so product code can load them
// in the RuntimeHost worker (`(model, options) => host.load(model, options)`) and tests
// in-thread (EngineSession). Each step sends the cache and cross-attention K/V as inputs, which a
// worker copies per message: a job that decodes many steps does best running generate() where its
// sessions live.
import { basename } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { EngineSession, type HostTensor, type SessionOptions } from '../../engine/session';
import type { MarianConfig } from './config';
import { buildMarianDecoderGraph, buildMarianEncoderGraph, causalMask, crossKey, crossValue, pastKey, pastValue, presentKey, presentValue } from './forward';
import type { WeightIndex } from '../../io/safetensors';
import { nonFiniteIn } from '../../io/safetensors-scan';
import { checkMarianWeights, FINAL_LOGITS_BIAS, marianLayerTensors, sinusoidalPositions, type MarianWeights } from './weights';

/** What runs a graph: an EngineSession, or a RuntimeHost's RemoteSession. */
export interface MarianRunner {
  run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export type SessionLoader = (model: Uint8Array, options: SessionOptions) => Promise<MarianRunner>;

const inThread: SessionLoader = (model, options) => EngineSession.create(model, options);

/** Encoder outputs of a batch of sources, one row per source (or per beam once expanded). */
export interface EncodedBatch {
  rows: number;
  sourceLength: number;
  /** (rows, T) 1 = real token. */
  sourceMask: Uint8Array;
  /** (rows, T, d). */
  hidden: HostTensor;
  crossKeys: HostTensor[];
  crossValues: HostTensor[];
}

/** What a decoder step returns besides the cache: every row's full scores (tests, teacher
 * forcing), or for decoding, with `ban[r]` the tokens row r may not produce: 'greedy' the best
 * allowed token by logit, 'beam' the `top` best processed log-probabilities (bans, then
 * log-softmax again when `renormalize`). */
export type StepOutputs =
  | { scores: 'logits' | 'log_probs' }
  | { decode: 'greedy'; ban: readonly (readonly number[])[] }
  | { decode: 'beam'; top: number; ban: readonly (readonly number[])[]; renormalize: boolean };

export interface StepResult {
  /** (rows, S, V) row-major, with `scores`. */
  scores?: Float32Array;
  /** (rows, S, k), best first: token ids (k = 1 for greedy) and, for beams, their log-probabilities. */
  topIds?: Int32Array;
  topLogProbs?: Float32Array;
  cache: DecoderCache;
}

/** The decoder's self-attention keys/values after `length` tokens, (rows, H, length, Dh) per layer. */
export interface DecoderCache {
  rows: number;
  length: number;
  keys: HostTensor[];
  values: HostTensor[];
}

const int64 = (values: readonly number[], dims: number[]): HostTensor => ({ dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) });

export class MarianModel {
  private constructor(
    readonly config: MarianConfig,
    private readonly weights: MarianWeights,
    private readonly encoder: MarianRunner,
    private readonly decoder: MarianRunner,
  ) {}

  /** An opened opus-mt folder (config + weight index, e.g. from `openOpusMtFolder`): checks the
   * checkpoint against the config (weights.ts), then loads. */
  static async open(folder: { path: string; config: MarianConfig; weights: WeightIndex }, options: SessionOptions = {}, loader: SessionLoader = inThread): Promise<MarianModel> {
    return MarianModel.load(folder.config, checkMarianWeights(folder.config, folder.weights, folder.path), options, loader);
  }

  static async load(config: MarianConfig, weights: MarianWeights, options: SessionOptions = {}, loader: SessionLoader = inThread): Promise<MarianModel> {
    const sessionOptions = { ...options, externalDataFolder: weights.folder };
    const encoder = await loader(buildMarianEncoderGraph(config, weights).toModel(), sessionOptions);
    try {
      const decoder = await loader(buildMarianDecoderGraph(config, weights).toModel(), sessionOptions);
      return new MarianModel(config, weights, encoder, decoder);
    } catch (error) {
      await encoder.release();
      throw error;
    }
  }

  private checkIds(ids: readonly number[], what: string): void {
    const V = this.config.vocabSize;
    const bad = ids.findIndex((t) => !Number.isSafeInteger(t) || t < 0 || t >= V);
    if (bad >= 0) throw new ApiError('INVALID_ARGUMENT', `${what}: token ${bad} is ${String(ids[bad])}, not a token id of this model (0..${V - 1})`);
  }

  private checkLength(length: number, what: string): void {
    if (length > this.config.maxPositions) {
      throw new ApiError('INVALID_ARGUMENT', `${what} is ${length} tokens long; this model's positions stop at ${this.config.maxPositions} (max_position_embeddings)`);
    }
  }

  /** Sources are token ids as the tokenizer gives them (</s> included), right-padded here. */
  async encode(sources: readonly (readonly number[])[]): Promise<EncodedBatch> {
    if (!sources.length) throw new ApiError('INVALID_ARGUMENT', 'nothing to encode: the batch is empty');
    sources.forEach((s, i) => {
      if (!s.length) throw new ApiError('INVALID_ARGUMENT', `source ${i} has no tokens (a tokenized source ends with </s>)`);
      this.checkIds(s, `source ${i}`);
    });
    const B = sources.length;
    const T = Math.max(...sources.map((s) => s.length));
    this.checkLength(T, `source ${sources.findIndex((s) => s.length === T)}`);
    const ids = new Array<number>(B * T).fill(this.config.padTokenId);
    const mask = new Uint8Array(B * T);
    sources.forEach((s, b) => {
      s.forEach((t, i) => (ids[b * T + i] = t));
      mask.fill(1, b * T, b * T + s.length);
    });
    const d = this.config.dModel;
    const out = await this.encoder.run({
      input_ids: int64(ids, [B, T]),
      positions: { dtype: 'float32', dims: [T, d], data: sinusoidalPositions(0, T, d) },
      source_mask: { dtype: 'bool', dims: [B, T], data: mask },
    });
    const layers = [...Array(this.config.decoderLayers).keys()];
    return { rows: B, sourceLength: T, sourceMask: mask, hidden: out.encoder_hidden, crossKeys: layers.map((L) => out[crossKey(L)]), crossValues: layers.map((L) => out[crossValue(L)]) };
  }

  /** Each row repeated `times` times in place (row b → rows b·times … b·times + times − 1): the
   * encoder state of each beam. */
  expand(batch: EncodedBatch, times: number): EncodedBatch {
    if (times === 1) return batch;
    const repeat = <T extends HostTensor>(t: T): T => {
      const per = t.data.length / batch.rows;
      const data = new (t.data.constructor as Float32ArrayConstructor)(t.data.length * times) as unknown as T['data'];
      for (let b = 0; b < batch.rows; b++) {
        const row = (t.data as Float32Array).subarray(b * per, (b + 1) * per);
        for (let k = 0; k < times; k++) (data as Float32Array).set(row, (b * times + k) * per);
      }
      return { ...t, dims: [t.dims[0] * times, ...t.dims.slice(1)], data };
    };
    const mask = repeat({ dtype: 'bool', dims: [batch.rows, batch.sourceLength], data: batch.sourceMask });
    return {
      rows: batch.rows * times,
      sourceLength: batch.sourceLength,
      sourceMask: mask.data as Uint8Array,
      hidden: repeat(batch.hidden),
      crossKeys: batch.crossKeys.map(repeat),
      crossValues: batch.crossValues.map(repeat),
    };
  }

  /** An empty cache for `rows` decoder rows (no token yet). */
  emptyCache(rows: number): DecoderCache {
    const H = this.config.decoderHeads;
    const Dh = this.config.dModel / H;
    const empty = (): HostTensor => ({ dtype: 'float32', dims: [rows, H, 0, Dh], data: new Float32Array(0) });
    const layers = [...Array(this.config.decoderLayers).keys()];
    return { rows, length: 0, keys: layers.map(empty), values: layers.map(empty) };
  }

  /**
   * Runs the decoder over `tokens` (rows × S, the same S for every row) after the cached ones.
   * `reorder[r]` is the cache row that output row r continues (default: r). Returns what
   * `outputs` asks for (StepOutputs) and the grown cache.
   */
  async step(
    encoded: EncodedBatch,
    tokens: readonly (readonly number[])[],
    cache: DecoderCache,
    reorder?: readonly number[],
    outputs: StepOutputs = { scores: 'logits' },
  ): Promise<StepResult> {
    const R = encoded.rows;
    if (tokens.length !== R) throw new ApiError('INVALID_ARGUMENT', `decoder step: ${tokens.length} rows of tokens for ${R} encoded rows`);
    const S = tokens[0]?.length ?? 0;
    if (!S || tokens.some((t) => t.length !== S)) throw new ApiError('INVALID_ARGUMENT', 'decoder step: every row needs the same, non-zero number of new tokens');
    tokens.forEach((t, r) => this.checkIds(t, `decoder row ${r}`));
    const order = reorder ?? [...Array(R).keys()];
    if (order.length !== R || order.some((i) => !Number.isSafeInteger(i) || i < 0 || i >= cache.rows)) {
      throw new ApiError('INVALID_ARGUMENT', `decoder step: reorder must give ${R} rows of the cache's ${cache.rows}`);
    }
    const P = cache.length;
    this.checkLength(P + S, 'the output');
    const d = this.config.dModel;
    const feeds: Record<string, HostTensor> = {
      decoder_ids: int64(tokens.flat(), [R, S]),
      positions: { dtype: 'float32', dims: [S, d], data: sinusoidalPositions(P, S, d) },
      self_mask: { dtype: 'bool', dims: [1, 1, S, P + S], data: causalMask(P, S) },
      source_mask: { dtype: 'bool', dims: [R, encoded.sourceLength], data: encoded.sourceMask },
      reorder: int64(order, [R]),
      ...this.decodeFeeds(R, outputs),
    };
    for (let L = 0; L < this.config.decoderLayers; L++) {
      feeds[crossKey(L)] = encoded.crossKeys[L];
      feeds[crossValue(L)] = encoded.crossValues[L];
      feeds[pastKey(L)] = cache.keys[L];
      feeds[pastValue(L)] = cache.values[L];
    }
    const layers = [...Array(this.config.decoderLayers).keys()];
    const wanted = 'scores' in outputs ? [outputs.scores] : outputs.decode === 'greedy' ? ['best_ids', 'nonfinite_logits'] : ['top_ids', 'top_log_probs', 'nonfinite_logits'];
    const out = await this.decoder.run(feeds, [...wanted, ...layers.flatMap((L) => [presentKey(L), presentValue(L)])]);
    const nonFinite = out.nonfinite_logits ? (out.nonfinite_logits.data as Float32Array)[0] : 0;
    if (nonFinite > 0) throw this.nonFiniteError(nonFinite);
    const cacheOut: DecoderCache = { rows: R, length: P + S, keys: layers.map((L) => out[presentKey(L)]), values: layers.map((L) => out[presentValue(L)]) };
    if ('scores' in outputs) return { scores: out[outputs.scores].data as Float32Array, cache: cacheOut };
    const ids = out[outputs.decode === 'greedy' ? 'best_ids' : 'top_ids'].data as BigInt64Array;
    return {
      topIds: Int32Array.from(ids, Number),
      topLogProbs: outputs.decode === 'beam' ? (out.top_log_probs.data as Float32Array) : undefined,
      cache: cacheOut,
    };
  }

  /** Names the tensor holding NaN/Inf (scanning the checkpoint), or says finite weights overflowed. */
  private nonFiniteError(count: number): ApiError {
    const { index, embedding, hasFinalLogitsBias, folder } = this.weights;
    const read = [embedding, ...marianLayerTensors(this.config).keys(), ...(hasFinalLogitsBias ? [FINAL_LOGITS_BIAS] : [])];
    for (const name of read) {
      const entry = index.tensors.get(name)!;
      const bad = nonFiniteIn(entry);
      if (bad) {
        return new ApiError('WEIGHTS_INVALID', `${basename(entry.file)}: tensor '${name}' holds ${bad.count} non-finite value(s) (${bad.value} at flat index ${bad.first}); the translation model's weights are broken`, {
          file: entry.file,
          tensor: name,
        });
      }
    }
    return new ApiError('WEIGHTS_INVALID', `${folder}: the translation model produced ${count} NaN or infinite logit(s) from finite weights (a float32 overflow); its outputs cannot be trusted`, { file: folder });
  }

  /** ban_ids (rows, NB) padded with V (no ban), renormalize, top_k. */
  private decodeFeeds(R: number, outputs: StepOutputs): Record<string, HostTensor> {
    const V = this.config.vocabSize;
    const ban = 'ban' in outputs ? outputs.ban : [];
    if ('ban' in outputs && ban.length !== R) throw new ApiError('INVALID_ARGUMENT', `decoder step: ${ban.length} ban lists for ${R} rows`);
    ban.forEach((b, r) => this.checkIds(b, `banned tokens of row ${r}`));
    const NB = Math.max(1, ...ban.map((b) => b.length));
    const banIds = new Array<number>(R * NB).fill(V);
    ban.forEach((b, r) => b.forEach((t, i) => (banIds[r * NB + i] = t)));
    const beam = 'decode' in outputs && outputs.decode === 'beam' ? outputs : null;
    return {
      ban_ids: int64(banIds, [R, NB]),
      renormalize: { dtype: 'bool', dims: [1], data: Uint8Array.of(beam?.renormalize ? 1 : 0) },
      top_k: int64([Math.min(beam?.top ?? 1, V)], [1]),
    };
  }

  async release(): Promise<void> {
    await this.encoder.release();
    await this.decoder.release();
  }
}

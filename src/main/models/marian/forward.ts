// Marian (opus-mt) encoder and decoder-step graphs, as transformers' modeling_marian.py computes
// them:
//   x₀ = E[ids]·√d + P[pos]                 (E shared by encoder, decoder and output; P sinusoidal)
//   per layer (post-LN):  x = LN(x + Attn(x));  [decoder: x = LN(x + CrossAttn(x, enc))];
//                         x = LN(x + fc2(silu(fc1(x))))
//   logits = x·Eᵀ + final_logits_bias
// Attention: softmax(q·kᵀ/√Dh + mask)·v per head, with q/k/v/out projections carrying biases.
// There is no final LayerNorm and no embedding LayerNorm.
//
// Tokens travel flat, (N = rows·len, d), through projections; attention reshapes to (rows, H, len, Dh).
// The sinusoidal table is computed on the host (weights.ts) and fed as `positions`, so no stored
// table is ever read.
//
// Encoder graph
//   in:  input_ids (B, T) int64 right-padded; positions (T, d); source_mask (B, T) bool (true = real)
//   out: encoder_hidden (B, T, d); cross_key.L, cross_value.L (B, Hdec, T, Dh) for each decoder
//        layer L: the cross-attention keys/values, computed once per source and reused every step.
// Decoder-step graph (S new tokens after P cached ones; S = 1 when generating)
//   in:  decoder_ids (R, S) int64; positions (S, d) for positions P..P+S-1; self_mask (1, 1, S, P+S)
//        bool (causal); source_mask (R, T) bool; cross_key.L / cross_value.L (R, Hdec, T, Dh);
//        past_key.L / past_value.L (R', Hdec, P, Dh) (P may be 0); reorder (R) int64: the past row
//        each output row continues (beam search reorders beams; identity otherwise);
//        ban_ids (R, NB) int64: tokens banned in each row (V = none); renormalize (1) bool; top_k (1)
//   out: logits (R, S, V); log_probs (R, S, V) = log_softmax(logits);
//        top_log_probs, top_ids (R, S, top_k): the largest processed log-probabilities (banned
//        tokens −∞, then log-softmax again when renormalize), descending, lower id first on ties;
//        best_ids (R, S, 1): argmax of the logits over the allowed tokens (greedy);
//        nonfinite_logits (): how many logits are NaN or ±Inf;
//        present_key.L / present_value.L (R, Hdec, P+S, Dh).
//        Decoding fetches only top_* or best_ids, so no V-wide pass runs in JavaScript.
import { Graph, type Value } from '../../engine/graph';
import { attention } from '../../engine/nn';
import { add, cast, div, greater, mul, sigmoid, sqrt, sub, where } from '../../engine/ops/elementwise';
import { linear } from '../../engine/ops/linalg';
import { logSoftmax, reduceMax, reduceMean, reduceSum } from '../../engine/ops/reduce';
import { isInf, isNaN } from '../../engine/ops/select';
import { int64s, reshapeTo, shapeOf } from '../../engine/ops/shapes';
import { concat, gather, oneHot, reshape, transpose, unsqueeze } from '../../engine/ops/tensor';
import { WeightFolder } from '../../engine/weights';
import type { MarianConfig } from './config';
import { FINAL_LOGITS_BIAS, marianLayerTensors, type MarianWeights } from './weights';

export const crossKey = (L: number) => `cross_key.${L}`;
export const crossValue = (L: number) => `cross_value.${L}`;
export const pastKey = (L: number) => `past_key.${L}`;
export const pastValue = (L: number) => `past_value.${L}`;
export const presentKey = (L: number) => `present_key.${L}`;
export const presentValue = (L: number) => `present_value.${L}`;

/** Weights of one graph, read by their HF names with the shapes the config implies. */
class MarianWeightReader {
  private readonly folder: WeightFolder;
  private readonly shapes: Map<string, number[]>;

  constructor(
    g: Graph,
    private readonly c: MarianConfig,
    private readonly w: MarianWeights,
  ) {
    this.folder = new WeightFolder(w.folder, w.index, g);
    this.shapes = marianLayerTensors(c);
  }

  get(name: string): Value {
    return this.folder.get(name, { shape: this.shapes.get(name) });
  }

  embedding(): Value {
    return this.folder.get(this.w.embedding, { shape: [this.c.vocabSize, this.c.dModel] });
  }

  finalLogitsBias(): Value | undefined {
    return this.w.hasFinalLogitsBias ? reshape(this.folder.get(FINAL_LOGITS_BIAS, { shape: [1, this.c.vocabSize] }), [this.c.vocabSize]) : undefined;
  }
}

/** nn.LayerNorm over the last axis: (x − mean) / √(var + eps) · w + b, biased variance. x (N, d). */
function layerNorm(x: Value, weight: Value, bias: Value, eps: number): Value {
  const g = x.graph;
  const centred = sub(x, reduceMean(x, [-1]));
  const variance = reduceMean(mul(centred, centred), [-1]);
  return add(mul(div(centred, sqrt(add(variance, g.scalar(eps, 'float32')))), weight), bias);
}

interface Block {
  g: Graph;
  c: MarianConfig;
  w: MarianWeightReader;
  /** [rows, len] of the tokens travelling flat. */
  rowsLen: Value;
  heads: number;
}

const headDim = (b: Block) => b.c.dModel / b.heads;

/** (N, d) → (rows, H, len, Dh). */
function splitHeads(b: Block, x: Value, rowsLen = b.rowsLen): Value {
  return transpose(reshapeTo(x, concat([rowsLen, int64s(b.g, [b.heads, headDim(b)])], 0)), [0, 2, 1, 3]);
}

/** (rows, H, len, Dh) → (N, d). */
const mergeHeads = (b: Block, a: Value) => reshape(transpose(a, [0, 2, 1, 3]), [-1, b.c.dModel]);

const proj = (b: Block, x: Value, name: string) => linear(x, b.w.get(`${name}.weight`), b.w.get(`${name}.bias`));

function norm(b: Block, x: Value, name: string): Value {
  return layerNorm(x, b.w.get(`${name}.weight`), b.w.get(`${name}.bias`), b.c.layerNormEps);
}

/** fc2(silu(fc1 x)): transformers' "swish" is SiLU, x·σ(x). */
function feedForward(b: Block, x: Value, prefix: string): Value {
  const hidden = proj(b, x, `${prefix}.fc1`);
  return proj(b, mul(hidden, sigmoid(hidden)), `${prefix}.fc2`);
}

/** E[ids]·√d + positions, flat (N, d). ids (rows, len), positions (len, d). */
function embed(b: Block, E: Value, ids: Value, positions: Value): Value {
  const scaled = mul(gather(E, ids), b.g.scalar(Math.fround(Math.sqrt(b.c.dModel)), 'float32'));
  return reshape(add(scaled, positions), [-1, b.c.dModel]);
}

const scale = (b: Block) => 1 / Math.sqrt(headDim(b));

export function buildMarianEncoderGraph(c: MarianConfig, weights: MarianWeights): Graph {
  const g = new Graph('marian-encoder');
  const w = new MarianWeightReader(g, c, weights);
  const d = c.dModel;
  const ids = g.input('input_ids', 'int64', ['batch', 'source']);
  const positions = g.input('positions', 'float32', ['source', d]);
  const sourceMask = g.input('source_mask', 'bool', ['batch', 'source']);
  const keyMask = unsqueeze(sourceMask, [1, 2]); // (B, 1, 1, T): every query sees the real keys
  const b: Block = { g, c, w, rowsLen: shapeOf(ids), heads: c.encoderHeads };

  let h = embed(b, w.embedding(), ids, positions);
  for (let L = 0; L < c.encoderLayers; L++) {
    const p = `model.encoder.layers.${L}`;
    const q = splitHeads(b, proj(b, h, `${p}.self_attn.q_proj`));
    const k = splitHeads(b, proj(b, h, `${p}.self_attn.k_proj`));
    const v = splitHeads(b, proj(b, h, `${p}.self_attn.v_proj`));
    const a = attention(q, k, v, { scale: scale(b), mask: keyMask });
    h = norm(b, add(h, proj(b, mergeHeads(b, a), `${p}.self_attn.out_proj`)), `${p}.self_attn_layer_norm`);
    h = norm(b, add(h, feedForward(b, h, p)), `${p}.final_layer_norm`);
  }
  g.output(reshapeTo(h, concat([b.rowsLen, int64s(g, [d])], 0)), 'encoder_hidden');

  const dec: Block = { ...b, heads: c.decoderHeads };
  for (let L = 0; L < c.decoderLayers; L++) {
    const p = `model.decoder.layers.${L}.encoder_attn`;
    g.output(splitHeads(dec, proj(dec, h, `${p}.k_proj`)), crossKey(L));
    g.output(splitHeads(dec, proj(dec, h, `${p}.v_proj`)), crossValue(L));
  }
  return g;
}

export function buildMarianDecoderGraph(c: MarianConfig, weights: MarianWeights): Graph {
  const g = new Graph('marian-decoder-step');
  const w = new MarianWeightReader(g, c, weights);
  const d = c.dModel;
  const H = c.decoderHeads;
  const Dh = d / H;
  const ids = g.input('decoder_ids', 'int64', ['rows', 'new']);
  const positions = g.input('positions', 'float32', ['new', d]);
  const selfMask = g.input('self_mask', 'bool', [1, 1, 'new', 'total']);
  const sourceMask = g.input('source_mask', 'bool', ['rows', 'source']);
  const reorder = g.input('reorder', 'int64', ['rows']);
  const crossMask = unsqueeze(sourceMask, [1, 2]);
  const b: Block = { g, c, w, rowsLen: shapeOf(ids), heads: H };

  const E = w.embedding();
  let h = embed(b, E, ids, positions);
  for (let L = 0; L < c.decoderLayers; L++) {
    const p = `model.decoder.layers.${L}`;
    const pastK = g.input(pastKey(L), 'float32', ['past_rows', H, 'past', Dh]);
    const pastV = g.input(pastValue(L), 'float32', ['past_rows', H, 'past', Dh]);
    const crossK = g.input(crossKey(L), 'float32', ['rows', H, 'source', Dh]);
    const crossV = g.input(crossValue(L), 'float32', ['rows', H, 'source', Dh]);

    const q = splitHeads(b, proj(b, h, `${p}.self_attn.q_proj`));
    const k = concat([gather(pastK, reorder), splitHeads(b, proj(b, h, `${p}.self_attn.k_proj`))], 2);
    const v = concat([gather(pastV, reorder), splitHeads(b, proj(b, h, `${p}.self_attn.v_proj`))], 2);
    g.output(k, presentKey(L));
    g.output(v, presentValue(L));
    const a = attention(q, k, v, { scale: scale(b), mask: selfMask });
    h = norm(b, add(h, proj(b, mergeHeads(b, a), `${p}.self_attn.out_proj`)), `${p}.self_attn_layer_norm`);

    const q2 = splitHeads(b, proj(b, h, `${p}.encoder_attn.q_proj`));
    const a2 = attention(q2, crossK, crossV, { scale: scale(b), mask: crossMask });
    h = norm(b, add(h, proj(b, mergeHeads(b, a2), `${p}.encoder_attn.out_proj`)), `${p}.encoder_attn_layer_norm`);
    h = norm(b, add(h, feedForward(b, h, p)), `${p}.final_layer_norm`);
  }
  const logits = linear(h, E, w.finalLogitsBias());
  const outShape = concat([b.rowsLen, int64s(g, [c.vocabSize])], 0);
  g.output(reshapeTo(logits, outShape), 'logits');
  const logits3 = reshapeTo(logits, outShape);
  const logProbs = logSoftmax(logits3, -1);
  g.output(logProbs, 'log_probs');

  // Decoding: the logits processors' bans applied here, so no V-wide pass runs in JavaScript and
  // renormalising is a real log-softmax over the allowed tokens (a shortcut via log(1 − p) loses
  // everything when the banned pad token holds nearly all the probability).
  const banIds = g.input('ban_ids', 'int64', ['rows', 'bans']); // id V = no ban
  const banned = unsqueeze(greater(reduceMax(oneHot(banIds, c.vocabSize, 'float32'), [1], false), g.scalar(0.5, 'float32')), [1]); // (R, 1, V)
  const minusInf = g.scalar(-Infinity, 'float32');
  const allowedLogits = where(banned, minusInf, logits3);
  const renormalize = g.input('renormalize', 'bool', [1]);
  const processed = where(renormalize, logSoftmax(allowedLogits, -1), where(banned, minusInf, logProbs));
  const [topValues, topIds] = g.op('TopK', [processed, g.input('top_k', 'int64', [1])], { axis: -1, largest: 1, sorted: 1 });
  g.output(topValues, 'top_log_probs');
  g.output(topIds, 'top_ids');
  g.output(g.op('TopK', [allowedLogits, int64s(g, [1])], { axis: -1, largest: 1, sorted: 1 })[1], 'best_ids');
  // NaN/±Inf among the logits: broken weights or a float32 overflow, named before any id is trusted.
  const count = (test: (v: Value) => Value) => reduceSum(cast(test(logits), 'float32'), [0, 1], false);
  g.output(add(count(isNaN), count(isInf)), 'nonfinite_logits');
  return g;
}

/** Causal mask (1, 1, S, P+S), row-major: new token i (at position P+i) sees keys 0..P+i. */
export function causalMask(past: number, count: number): Uint8Array {
  const total = past + count;
  const mask = new Uint8Array(count * total);
  for (let i = 0; i < count; i++) mask.fill(1, i * total, i * total + past + i + 1);
  return mask;
}

// Composite layers built from engine ops, so their gradients come from the ops' rules.
// Conventions follow HF transformers (Gemma-2, Llama): see ../shared/paper-facts.md.
import { graphError, type Value } from './graph';
import { add, cast, div, mul, neg, sqrt, tanh, where } from './ops/elementwise';
import { matmul, transposeLast } from './ops/linalg';
import { logSoftmax, reduceMean, reduceSum, softmax } from './ops/reduce';
import { int64s, reshapeTo, shapeOf } from './ops/shapes';
import { concat, oneHot, slice, unsqueeze } from './ops/tensor';

const s = (x: Value, v: number) => x.graph.scalar(v, x.dtype);

/** RMSNorm over the last axis: x / sqrt(mean(x²) + eps) * w, or * (1 + w) (Gemma). x (..., D), w (D). */
export function rmsNorm(x: Value, weight: Value, eps: number, onePlusWeight: boolean): Value {
  const inv = div(s(x, 1), sqrt(add(reduceMean(mul(x, x), [-1]), s(x, eps))));
  return mul(mul(x, inv), onePlusWeight ? add(s(weight, 1), weight) : weight);
}

/** c * tanh(x / c): Gemma-2's attention (c = 50) and final-logit (c = 30) soft-capping. */
export function softcap(x: Value, cap: number): Value {
  return mul(s(x, cap), tanh(div(x, s(x, cap))));
}

/** Rotate-half rotary embedding. x (B, H, T, D); cos, sin (T, D) or (B, 1, T, D), D even. */
export function rotary(x: Value, cos: Value, sin: Value): Value {
  const d = x.shape[x.shape.length - 1];
  if (typeof d !== 'number' || d % 2) throw graphError(`rotary: head dim must be static and even, got ${d}`);
  const axis = x.shape.length - 1;
  const x1 = slice(x, axis, 0, d / 2);
  const x2 = slice(x, axis, d / 2, d);
  const rotated = concat([neg(x2), x1], axis);
  return add(mul(x, cos), mul(rotated, sin));
}

/** cos/sin tables (T, D) for positions 0..T-1, theta base, full head dim D (HF's default rope). */
export function rotaryTables(positions: number[], headDim: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const half = headDim / 2;
  const cos = new Float64Array(positions.length * headDim);
  const sin = new Float64Array(positions.length * headDim);
  positions.forEach((p, t) => {
    for (let i = 0; i < half; i++) {
      const angle = p / theta ** ((2 * i) / headDim);
      for (const j of [i, i + half]) {
        cos[t * headDim + j] = Math.cos(angle);
        sin[t * headDim + j] = Math.sin(angle);
      }
    }
  });
  return { cos, sin };
}

/** Boolean mask (B, 1, T, T): query i sees key j iff j <= i, i - j < window (if any), and j is a real token. */
export function attentionMask(lengths: number[], T: number, window?: number): Uint8Array {
  const mask = new Uint8Array(lengths.length * T * T);
  lengths.forEach((len, b) => {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j <= i && j < len; j++) {
        if (window === undefined || i - j < window) mask[(b * T + i) * T + j] = 1;
      }
    }
  });
  return mask;
}

export interface AttentionOptions {
  /** Multiplies q·k (Gemma-2: query_pre_attn_scalar^-0.5). */
  scale: number;
  /** Soft-cap on the scores before masking (Gemma-2: 50). */
  softcap?: number;
  /** Boolean (B, 1, T, T) from `attentionMask`. */
  mask: Value;
}

/** Causal attention with grouped KV heads. q (B, Hq, T, D); k, v (B, Hkv, T, D), Hq % Hkv == 0;
 * B and T may be symbolic. Returns (B, Hq, T, D). The G = Hq / Hkv query heads of a group are
 * one axis of q, so MatMul broadcasts each KV head over its group (no copies of K or V). */
export function attention(q: Value, k: Value, v: Value, options: AttentionOptions): Value {
  const [, Hq, , D] = q.shape;
  const Hkv = k.shape[1];
  if (typeof Hq !== 'number' || typeof Hkv !== 'number' || Hq % Hkv) throw graphError(`attention: ${Hq} query heads cannot share ${Hkv} KV heads`);
  if (typeof D !== 'number') throw graphError('attention: the head dim must be static');
  const grouped = Hq !== Hkv;
  const g = q.graph;
  const qShape = shapeOf(q);
  // (B, Hq, T, D) -> (B, Hkv, G, T, D), with B and T read from q at run time.
  const groupedShape = concat([slice(qShape, 0, 0, 1), int64s(g, [Hkv, Hq / Hkv]), slice(qShape, 0, 2, 4)], 0);
  const qg = grouped ? reshapeTo(q, groupedShape) : q;
  const kg = grouped ? unsqueeze(k, [2]) : k;
  const vg = grouped ? unsqueeze(v, [2]) : v;
  const mask = grouped ? unsqueeze(options.mask, [2]) : options.mask;
  let scores = mul(matmul(qg, transposeLast(kg)), s(q, options.scale));
  if (options.softcap) scores = softcap(scores, options.softcap);
  // float16 scores are masked and normalised in float32 (as transformers' eager attention does),
  // then the probabilities are rounded back to float16 for the product with V.
  const half = q.dtype === 'float16';
  if (half) scores = cast(scores, 'float32');
  const lowest = q.dtype === 'float64' ? -1e300 : -3.4028234663852886e38;
  scores = where(mask, scores, s(scores, lowest));
  let probs = softmax(scores, -1);
  if (half) probs = cast(probs, 'float16');
  const out = matmul(probs, vg);
  return grouped ? reshapeTo(out, qShape) : out;
}

/** Mean cross-entropy over the positions where `weights` (same shape as targets) is 1. logits (N, V), targets (N) int64. */
export function crossEntropy(logits: Value, targets: Value, weights?: Value): Value {
  const V = logits.shape[logits.shape.length - 1];
  if (typeof V !== 'number') throw graphError('crossEntropy: the vocabulary size must be static');
  const nll = neg(reduceSum(mul(logSoftmax(logits, -1), oneHot(targets, V, logits.dtype)), [-1], false));
  if (!weights) return reduceMean(nll, [...nll.shape.keys()], false);
  const w = cast(weights, logits.dtype);
  const axes = [...nll.shape.keys()];
  return div(reduceSum(mul(nll, w), axes, false), reduceSum(w, axes, false));
}

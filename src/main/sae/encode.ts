// SAE encoding as graph ops, following SAELens (and Gemma Scope's reference code):
//   x' = norm_in(x)                      none | constant_norm_rescale: x·√d/‖x‖ |
//                                        layer_norm: (x − μ) / (σ + 1e-5), σ unbiased
//   pre = (x' − b_dec·[apply_b_dec_to_input]) W_enc + b_enc
//   standard: a = relu(pre);  jumprelu: a = relu(pre)·[pre > θ];
//   topk: a = relu(pre)·[pre ≥ k-th largest pre of the row]   (pre·‖W_dec,f‖ first if rescaled)
//   x̂ = norm_out(a W_dec + b_dec)        (undoes norm_in; rescaled TopK decodes a/‖W_dec,f‖)
// and the per-phrase summaries the analysis needs, reduced on the device so only small arrays
// leave it: over each phrase's counted tokens (real, BOS excluded unless asked), the mean and max
// of every feature as a sparse list, plus fidelity sums (squared error, ‖x‖², cosine, L0, ‖Σx‖²).
import type { Graph, Value } from '../engine/graph';
import { externalWeight, type WeightOptions } from '../engine/weights';
import { add, cast, div, greater, mul, relu, sqrt, sub, where } from '../engine/ops/elementwise';
import { matmul } from '../engine/ops/linalg';
import { reduceMax, reduceMean, reduceSum } from '../engine/ops/reduce';
import { gatherNd, isInf, isNaN, nonZero, topk } from '../engine/ops/select';
import { int64s, reshapeTo } from '../engine/ops/shapes';
import { concat, slice, unsqueeze } from '../engine/ops/tensor';
import type { SaeSpec } from './sae';

export interface SaeGraph {
  acts: Value;
  /** The reconstruction in the input's space. */
  recon: Value;
  /** pre-activations (for NaN checks). */
  pre: Value;
  /** The JumpReLU thresholds (a NaN threshold would silently switch its feature off). */
  threshold?: Value;
}

const c = (x: Value, v: number) => x.graph.scalar(v, x.dtype);

/** Encodes x (N, d) with an SAE whose weights are external data under `root`. */
export function saeGraph(x: Value, spec: SaeSpec, root: string, prefix: string): SaeGraph {
  const g = x.graph;
  const w = (name: keyof SaeSpec['tensors'], options: WeightOptions = {}) => externalWeight(g, spec.tensors[name]!, root, { as: `${prefix}.${name}`, ...options });
  let xin = x;
  let undo: (v: Value) => Value = (v) => v;
  if (spec.normalize === 'constant_norm_rescale') {
    const coeff = div(c(x, Math.sqrt(spec.dIn)), sqrt(reduceSum(mul(x, x), [-1])));
    xin = mul(x, coeff);
    undo = (v) => div(v, coeff);
  } else if (spec.normalize === 'layer_norm') {
    const mu = reduceMean(x, [-1]);
    const centred = sub(x, mu);
    const std = sqrt(div(reduceSum(mul(centred, centred), [-1]), c(x, spec.dIn - 1)));
    const denom = add(std, c(x, 1e-5));
    xin = div(centred, denom);
    undo = (v) => add(mul(v, std), mu);
  }
  const bDec = w('b_dec', { shape: [spec.dIn] });
  if (spec.applyBDecToInput) xin = sub(xin, bDec);
  const wDec = w('W_dec', { shape: [spec.dSae, spec.dIn] });
  let pre = add(matmul(xin, w('W_enc', { shape: [spec.dIn, spec.dSae] })), w('b_enc', { shape: [spec.dSae] }));
  const zero = c(pre, 0);
  let acts: Value;
  let decoderNorm: Value | undefined;
  let threshold: Value | undefined;
  if (spec.architecture === 'jumprelu') {
    threshold = w('threshold', { shape: [spec.dSae] });
    acts = where(greater(pre, threshold), relu(pre), zero);
  } else if (spec.architecture === 'topk') {
    if (spec.rescaleActsByDecoderNorm) {
      decoderNorm = sqrt(reduceSum(mul(wDec, wDec), [1], false));
      pre = mul(pre, decoderNorm);
    }
    const kth = slice(topk(pre, spec.k!).values, -1, spec.k! - 1, spec.k!);
    acts = where(g.op1('GreaterOrEqual', [pre, kth]), relu(pre), zero);
  } else {
    acts = relu(pre);
  }
  // SAELens decodes rescaled TopK activations divided by the decoder norms again.
  const recon = undo(add(matmul(decoderNorm ? div(acts, decoderNorm) : acts, wDec), bDec));
  return { acts, recon, pre, threshold };
}

export interface SummaryOutputs {
  /** (nnz, 2) int64: (phrase, feature) of every feature active in the phrase. */
  index: Value;
  mean: Value;
  max: Value;
  /** (B, 5): Σ‖x − x̂‖², Σ‖x‖², Σ cos(x, x̂), Σ L0, ‖Σx‖² over counted tokens (the last gives
   * the variance of x around the phrase's mean: Σ‖x‖² − ‖Σx‖²/n). */
  fidelity: Value;
  /** Scalar: NaN and ±inf values in the pre-activations, reconstructions and thresholds. */
  nonFinite: Value;
}

/** Per-phrase summaries of an SAE on x (N = B*T, d); `mask` (B, T) float is 1 on counted tokens. */
export function saeSummaries(x: Value, sae: SaeGraph, mask: Value, idsShape: Value, spec: SaeSpec): SummaryOutputs {
  const g = x.graph;
  const byPhrase = (v: Value, width: number) => reshapeTo(v, concat([idsShape, int64s(g, [width])], 0)); // (B, T, width)
  const m3 = unsqueeze(mask, [2]); // (B, T, 1)
  const acts = mul(byPhrase(sae.acts, spec.dSae), m3);
  const count = reduceSum(m3, [1], false); // (B, 1)
  const safeCount = g.op1('Max', [count, c(count, 1)]);
  const mean = div(reduceSum(acts, [1], false), safeCount); // (B, w)
  const max = reduceMax(acts, [1], false); // (B, w); activations are >= 0
  const index = nonZero(greater(max, c(max, 0)));
  const diff = sub(x, sae.recon);
  const sse = reduceSum(mul(diff, diff), [-1]);
  const sq = reduceSum(mul(x, x), [-1]);
  const rsq = reduceSum(mul(sae.recon, sae.recon), [-1]);
  const cos = div(reduceSum(mul(x, sae.recon), [-1]), add(mul(sqrt(sq), sqrt(rsq)), c(sq, 1e-12)));
  const l0 = reduceSum(cast(greater(sae.acts, c(sae.acts, 0)), 'float32'), [-1]);
  const perToken = concat([sse, sq, cos, l0], 1); // (N, 4)
  const sums = reduceSum(mul(byPhrase(perToken, 4), m3), [1], false); // (B, 4)
  const sumX = reduceSum(mul(byPhrase(x, spec.dIn), m3), [1], false); // (B, d)
  const fidelity = concat([sums, reduceSum(mul(sumX, sumX), [1])], 1);
  const howMany = (v: Value, test: (v: Value) => Value) => reduceSum(cast(test(v), 'float32'), [...v.shape.keys()], false);
  const nonFinite = [sae.pre, sae.recon, ...(sae.threshold ? [sae.threshold] : [])].map((v) => add(howMany(v, isNaN), howMany(v, isInf))).reduce((a, b) => add(a, b));
  return { index, mean: gatherNd(mean, index), max: gatherNd(max, index), fidelity, nonFinite };
}

export type { Graph };

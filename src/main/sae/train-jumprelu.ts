// JumpReLU SAE training on the engine, the Gemma Scope way (Rajamanoharan et al. 2024, "Jumping
// Ahead"; Lieberum et al. 2024). Shapes: x (B, d), W_enc (d, w), b_enc (w), W_dec (w, d), b_dec (d),
// log_threshold (w).
//   pre = x·W_enc + b_enc                 (b_dec is not subtracted from the input)
//   θ   = exp(log_threshold)               (per feature, so θ > 0)
//   f   = pre · H(pre − θ)                 H: the Heaviside step
//   x̂   = f·W_dec + b_dec
//   loss = (1/B) Σ_b ‖x_b − x̂_b‖²  +  λ · (1/B) Σ_b Σ_i H(pre_bi − θ_i)
// H has zero derivative almost everywhere, so θ learns through straight-through pseudo-derivatives
// with the rectangle kernel K(u) = 1{|u| < 1/2} of bandwidth ε:
//   ∂f/∂θ = −(θ/ε)·K((pre − θ)/ε)      ∂f/∂pre = H(pre − θ)
//   ∂H/∂θ = −(1/ε)·K((pre − θ)/ε)      ∂H/∂pre = 0
// autodiff has no custom-gradient hook, so each rule is a term that is exactly 0 forward and carries
// the wanted derivative: (θ − sg(θ))·sg(c) has value 0 and d/dθ = c (sg = stopGradient).
// The host scales the activations by one scalar s so that E‖s·x‖² = 1 (λ and ε then mean the same
// for every layer and model) and folds s out of the written weights: b_enc/s, b_dec/s, θ/s give
// the same features (divided by s) and the same reconstruction on raw activations.
import { ApiError } from '../../shared/errors';
import { stopGradient } from '../engine/autodiff';
import { Graph, type Value } from '../engine/graph';
import { abs, add, cast, div, exp, greater, mul, neg, sub } from '../engine/ops/elementwise';
import { matmul } from '../engine/ops/linalg';
import { ADAMW_DEFAULTS, type AdamWConfig } from '../engine/optim';
import { reduceMean, reduceSum } from '../engine/ops/reduce';
import type { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { Trainer } from '../engine/trainer';
import { checkSetting, checkTrainingInput, evaluateSae, runSaeSteps, unitDictionary, type SaeMetrics, type SaeStepPlan } from './train';

export interface JumpReluTrainingOptions extends SaeStepPlan {
  width: number;
  /** λ, the L0 coefficient (in units of the normalised squared error). */
  l0Coefficient: number;
  /** ε, the bandwidth of the rectangle kernel (in normalised units, E‖x‖² = 1). */
  bandwidth: number;
  /** θ at step 0 for every feature (normalised units). */
  initialThreshold: number;
  /** λ grows linearly from 0 over this many steps (0: full λ from the start). */
  l0WarmupSteps: number;
}

export const JUMPRELU_PARAMS = ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const;
export type JumpReluParams = Record<(typeof JUMPRELU_PARAMS)[number], Value>;

/** The optimiser: AdamW without decay, gradients clipped to global norm 1 (as the TopK path). */
export const JUMPRELU_ADAMW: AdamWConfig = { ...ADAMW_DEFAULTS, weightDecay: 0, clipNorm: 1 };

export function jumpReluParams(g: Graph, d: number, w: number, dtype: 'float32' | 'float64' = 'float32'): JumpReluParams {
  return {
    W_enc: g.input('W_enc', dtype, [d, w]),
    b_enc: g.input('b_enc', dtype, [w]),
    W_dec: g.input('W_dec', dtype, [w, d]),
    b_dec: g.input('b_dec', dtype, [d]),
    log_threshold: g.input('log_threshold', dtype, [w]),
  };
}

/**
 * The training forward of the header: x (B, d), λ a scalar value (fed, so it can warm up).
 * Returns f (B, w) and the scalars mse, l0 and loss = mse + λ·l0.
 */
export function jumpReluLoss(x: Value, p: JumpReluParams, lambda: Value, bandwidth: number) {
  const g = x.graph;
  const c = (v: number) => g.scalar(v, x.dtype);
  const batch = x.shape[0] as number;
  const pre = add(matmul(x, p.W_enc), p.b_enc); // (B, w)
  const theta = exp(p.log_threshold); // (w)
  const thetaConst = stopGradient(theta);
  const step = stopGradient(cast(greater(pre, theta), x.dtype)); // H(pre − θ), (B, w)
  // K((pre − θ)/ε) = 1{|pre − θ|/ε < 1/2}: the samples whose pre-activation is near the threshold.
  const kernel = stopGradient(cast(g.op1('Less', [abs(div(sub(pre, theta), c(bandwidth))), c(0.5)]), x.dtype));
  const zeroWithThetaGrad = sub(theta, thetaConst); // 0 forward, d/dθ = 1
  // f = pre·H + (θ − sg θ)·sg(−(θ/ε)·K): ∂f/∂pre = H, ∂f/∂θ = −(θ/ε)·K.
  const features = add(mul(pre, step), mul(zeroWithThetaGrad, stopGradient(mul(neg(div(thetaConst, c(bandwidth))), kernel))));
  const recon = add(matmul(features, p.W_dec), p.b_dec);
  const diff = sub(x, recon);
  const mse = div(reduceSum(mul(diff, diff), [0, 1], false), c(batch));
  // L0 = (1/B) Σ_b Σ_i H + Σ_i (θ_i − sg θ_i)·sg(−(1/ε)·mean_b K_bi): the kernel term is summed over
  // the batch first (θ does not depend on b), which gives the same ∂L0/∂θ = −(1/ε)·mean_b K.
  const kernelMean = reduceMean(kernel, [0], false); // (w)
  const l0 = add(
    div(reduceSum(step, [0, 1], false), c(batch)),
    reduceSum(mul(zeroWithThetaGrad, stopGradient(mul(c(-1 / bandwidth), kernelMean))), [0], false),
  );
  const loss = add(mse, mul(lambda, l0));
  return { pre, features, mse, l0, loss };
}

/** Checks a JumpReLU run's own settings; INVALID_ARGUMENT names the first bad one. */
export function checkJumpReluOptions(o: JumpReluTrainingOptions): void {
  checkSetting('l0Coefficient', o.l0Coefficient, (v) => v >= 0, 'a finite number 0 or more (λ)');
  checkSetting('bandwidth', o.bandwidth, (v) => v > 0, 'a finite number above 0 (ε)');
  checkSetting('initialThreshold', o.initialThreshold, (v) => v > 0, 'a finite number above 0 (θ is exp(log θ))');
  checkSetting('l0WarmupSteps', o.l0WarmupSteps, (v) => Number.isSafeInteger(v) && v >= 0, 'an integer 0 or more');
}

/** s with E‖s·x‖² = 1 over the rows of x (n, d). */
export function normalisationScale(x: Float32Array, d: number): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  const meanSq = sum / (x.length / d);
  if (!(meanSq > 0) || !Number.isFinite(meanSq)) {
    throw new ApiError('INVALID_ARGUMENT', `SAE training: activations must not all be 0 (mean squared norm ${meanSq})`, { setting: 'activations' });
  }
  return 1 / Math.sqrt(meanSq);
}

/**
 * Trains a JumpReLU SAE on x (n, d) rows; evaluates on evalX (m, d). Init (Gemma Scope's): decoder
 * rows random unit vectors, W_enc = W_decᵀ, b_enc = b_dec = 0, θ = initialThreshold for every
 * feature. Returns the weights for raw activations (W_enc, b_enc, W_dec, b_dec, threshold; the
 * scale folded out), the metrics on evalX, the scale s the run trained at, and the parameters as
 * trained (normalised units, log_threshold).
 */
export async function trainJumpReluSae(
  x: Float32Array,
  d: number,
  o: JumpReluTrainingOptions,
  runtime: RuntimeHost,
  evalX: Float32Array,
  onProgress?: (step: number, loss: number) => void,
  signal?: AbortSignal,
): Promise<{ weights: Record<string, HostTensor>; metrics: SaeMetrics; scale: number; trained: Record<string, HostTensor> }> {
  checkTrainingInput(x, d, o, evalX);
  checkJumpReluOptions(o);
  const w = o.width;
  const scale = normalisationScale(x, d);
  const scaled = x.map((v) => v * scale);
  const g = new Graph('jumprelu-sae-train');
  const xin = g.input('x', 'float32', [o.batch, d]);
  const lambda = g.input('l0_coefficient', 'float32', []);
  const p = jumpReluParams(g, d, w);
  const { mse, l0, loss } = jumpReluLoss(xin, p, lambda, o.bandwidth);
  g.output(mse, 'mse');
  g.output(l0, 'l0');
  const { wDec, wEnc } = unitDictionary(w, d, o.seed);
  const initial: Record<string, HostTensor> = {
    W_enc: { dtype: 'float32', dims: [d, w], data: wEnc },
    b_enc: { dtype: 'float32', dims: [w], data: new Float32Array(w) },
    W_dec: { dtype: 'float32', dims: [w, d], data: wDec },
    b_dec: { dtype: 'float32', dims: [d], data: new Float32Array(d) },
    log_threshold: { dtype: 'float32', dims: [w], data: new Float32Array(w).fill(Math.log(o.initialThreshold)) },
  };
  const params = JUMPRELU_PARAMS.map((name) => ({ value: p[name], decay: false }));
  const trainer = await Trainer.create(g, loss, params, initial, JUMPRELU_ADAMW, runtime);
  const lambdaAt = (step: number) => (o.l0WarmupSteps > 0 ? (o.l0Coefficient * Math.min(1, (step + 1) / o.l0WarmupSteps)) : o.l0Coefficient);
  let last;
  try {
    last = await runSaeSteps(trainer, scaled, d, o, (step) => ({ l0_coefficient: { dtype: 'float32', dims: [], data: Float32Array.of(lambdaAt(step)) } }), onProgress, signal);
  } finally {
    await trainer.release();
  }
  const state = trainer.snapshot().tensors;
  const unscale = (t: HostTensor) => ({ ...t, data: (t.data as Float32Array).map((v) => v / scale) });
  const weights: Record<string, HostTensor> = {
    W_enc: state.W_enc,
    W_dec: state.W_dec,
    b_enc: unscale(state.b_enc),
    b_dec: unscale(state.b_dec),
    threshold: { dtype: 'float32', dims: [w], data: (state.log_threshold.data as Float32Array).map((v) => Math.exp(v) / scale) },
  };
  const metrics = await evaluateSae(weights, evalX, d, { architecture: 'jumprelu' }, runtime);
  const trained = Object.fromEntries(JUMPRELU_PARAMS.map((name) => [name, state[name]]));
  return { weights, metrics: { ...metrics, final_loss: Number((last?.loss ?? NaN).toFixed(4)) }, scale, trained };
}

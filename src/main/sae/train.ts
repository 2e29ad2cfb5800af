// TopK SAE training on the engine (the engine differentiates the TopK mask as a Where, so
// gradients reach the k selected pre-activations; the k-th value itself is a constant for the
// step). Loss: normalized MSE, Σ‖x − x̂‖² / Σ‖x − x̄‖² over the batch (x̄: the batch mean).
// Init: decoder rows random unit vectors, encoder = decoder transposed, b_dec = the data mean,
// b_enc = 0. Reports explained variance, L0 and dead features (never active on the evaluation
// set) and writes our SAE format (loadable by loadSae). The loop, init, checks, evaluation and
// writer here are shared with JumpReLU training (train-jumprelu.ts).
import { ApiError } from '../../shared/errors';
import { Graph, type Value } from '../engine/graph';
import { add, div, greater, mul, relu, sub, where, cast } from '../engine/ops/elementwise';
import { matmul } from '../engine/ops/linalg';
import { ADAMW_DEFAULTS } from '../engine/optim';
import { reduceMean, reduceSum } from '../engine/ops/reduce';
import { topk } from '../engine/ops/select';
import { slice } from '../engine/ops/tensor';
import type { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { Trainer, type StepResult } from '../engine/trainer';
import { writeSafetensors } from '../io/safetensors';
import { randomTensor } from '../models/random-model';
import { SAE_LINGUASCOPE_KEY } from './sae';

export interface SaeTrainingOptions {
  width: number;
  k: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
}

export interface SaeMetrics {
  explained_variance: number;
  l0: number;
  dead_features: number;
  /** The last step's training loss (TopK: normalized MSE; JumpReLU: MSE + λ·L0 at E‖x‖² = 1). */
  final_loss: number;
}

/** How features are chosen: TopK (k largest pre-activations, ReLU'd) or JumpReLU (pre where
 * pre > θ, with the weights' `threshold`). Evaluation and files follow SAELens's conventions. */
export type SaeEncoding = { architecture: 'topk'; k: number } | { architecture: 'jumprelu' };

type SaeParams = Record<'W_enc' | 'b_enc' | 'W_dec' | 'b_dec', Value> & { threshold?: Value };

/** x (B, d) -> acts (B, w), Σ‖x − x̂‖² and Σ‖x − x̄‖² over the batch. TopK subtracts b_dec from the
 * input (apply_b_dec_to_input = true); JumpReLU does not (Gemma Scope's convention). */
function saeForward(g: Graph, x: Value, p: SaeParams, encoding: SaeEncoding) {
  let acts: Value;
  if (encoding.architecture === 'topk') {
    const pre = add(matmul(sub(x, p.b_dec), p.W_enc), p.b_enc);
    const kth = slice(topk(pre, encoding.k).values, -1, encoding.k - 1, encoding.k);
    acts = where(g.op1('GreaterOrEqual', [pre, kth]), relu(pre), g.scalar(0, 'float32'));
  } else {
    const pre = add(matmul(x, p.W_enc), p.b_enc);
    acts = where(greater(pre, p.threshold!), relu(pre), g.scalar(0, 'float32'));
  }
  const recon = add(matmul(acts, p.W_dec), p.b_dec);
  const diff = sub(x, recon);
  const centred = sub(x, reduceMean(x, [0]));
  const sse = reduceSum(mul(diff, diff), [0, 1], false);
  const variance = reduceSum(mul(centred, centred), [0, 1], false);
  return { acts, sse, variance };
}

function params(g: Graph, d: number, w: number) {
  return {
    W_enc: g.input('W_enc', 'float32', [d, w]),
    b_enc: g.input('b_enc', 'float32', [w]),
    W_dec: g.input('W_dec', 'float32', [w, d]),
    b_dec: g.input('b_dec', 'float32', [d]),
  };
}

/** A setting a person chose that is not a number in its range: INVALID_ARGUMENT naming it. */
export function checkSetting(setting: string, value: unknown, ok: (v: number) => boolean, rule: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new ApiError('INVALID_ARGUMENT', `SAE training: ${setting} must be ${rule}; got ${String(value)}`, { setting, value: String(value) });
  }
}

const positiveInt = (v: number) => Number.isSafeInteger(v) && v >= 1;

/** The settings both architectures share, and activations (n, d) that are all finite numbers. */
export function checkTrainingInput(x: Float32Array, d: number, o: SaeStepPlan & { width: number }, evalX: Float32Array): number {
  checkSetting('d', d, positiveInt, 'a positive integer (the activation size)');
  checkSetting('width', o.width, (v) => positiveInt(v) && v <= 1 << 20, 'an integer from 1 to 2^20');
  checkSetting('steps', o.steps, positiveInt, 'a positive integer');
  checkSetting('batch', o.batch, positiveInt, 'a positive integer');
  checkSetting('lr', o.lr, (v) => v > 0, 'a finite number above 0');
  checkSetting('seed', o.seed, (v) => Number.isSafeInteger(v) && v >= 0, 'an integer 0 or more');
  const n = x.length / d;
  if (!Number.isInteger(n) || n < o.batch) throw new ApiError('INVALID_ARGUMENT', `SAE training needs at least ${o.batch} activation vectors of size ${d}`, { setting: 'activations' });
  for (const [setting, rows] of [['activations', x], ['evaluation activations', evalX]] as const) {
    if (rows.length === 0 || rows.length % d !== 0) {
      throw new ApiError('INVALID_ARGUMENT', `SAE training: ${setting} must be whole vectors of size ${d} (got ${rows.length} numbers)`, { setting });
    }
    const bad = rows.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new ApiError('INVALID_ARGUMENT', `SAE training: ${setting} row ${Math.floor(bad / d)} holds ${rows[bad]}; every activation must be a finite number`, { setting, row: Math.floor(bad / d) });
    }
  }
  return n;
}

/** Decoder rows random unit vectors (w, d); encoder (d, w) their transpose. */
export function unitDictionary(w: number, d: number, seed: number): { wDec: Float32Array; wEnc: Float32Array } {
  const wDec = randomTensor(w * d, (seed * 31 + 7) >>> 0, 1);
  for (let f = 0; f < w; f++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += wDec[f * d + j] ** 2;
    for (let j = 0; j < d; j++) wDec[f * d + j] /= Math.sqrt(norm);
  }
  const wEnc = new Float32Array(d * w);
  for (let f = 0; f < w; f++) for (let j = 0; j < d; j++) wEnc[j * w + f] = wDec[f * d + j];
  return { wDec, wEnc };
}

export interface SaeStepPlan {
  steps: number;
  batch: number;
  lr: number;
  seed: number;
}

/**
 * The optimisation loop both architectures use: batches of rows of x (n, d) in a seeded shuffle,
 * reshuffled every epoch; lr warms up linearly over 50 steps, then a cosine down to 0.1·lr.
 * `extra(step)` adds per-step feeds (e.g. a warmed-up loss coefficient). Returns the last step.
 */
export async function runSaeSteps(
  trainer: Trainer,
  x: Float32Array,
  d: number,
  o: SaeStepPlan,
  extra: (step: number) => Record<string, HostTensor>,
  onProgress?: (step: number, loss: number) => void,
  signal?: AbortSignal,
): Promise<StepResult | null> {
  const n = x.length / d;
  let s = (o.seed * 2654435761) >>> 0 || 1;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  let at = n;
  const batch = new Float32Array(o.batch * d);
  let last: StepResult | null = null;
  for (let step = 0; step < o.steps; step++) {
    if (signal?.aborted) throw new ApiError('CANCELLED', 'SAE training was cancelled');
    for (let b = 0; b < o.batch; b++) {
      if (at >= n) {
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(rand() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
        at = 0;
      }
      batch.set(x.subarray(order[at] * d, order[at] * d + d), b * d);
      at++;
    }
    const lr = step < 50 ? (o.lr * (step + 1)) / 50 : o.lr * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * (step - 50)) / Math.max(1, o.steps - 50))));
    last = await trainer.train({ x: { dtype: 'float32', dims: [o.batch, d], data: batch }, ...extra(step) }, lr);
    onProgress?.(step + 1, last.loss);
  }
  return last;
}

/** x: (n, d) activations, row-major. */
export async function trainTopKSae(
  x: Float32Array,
  d: number,
  o: SaeTrainingOptions,
  runtime: RuntimeHost,
  evalX: Float32Array,
  onProgress?: (step: number, loss: number) => void,
  signal?: AbortSignal,
): Promise<{ weights: Record<string, HostTensor>; metrics: SaeMetrics }> {
  const n = checkTrainingInput(x, d, o, evalX);
  checkSetting('k', o.k, (v) => positiveInt(v) && v <= o.width, `an integer from 1 to the width (${o.width})`);
  const w = o.width;
  const g = new Graph('sae-train');
  const xin = g.input('x', 'float32', [o.batch, d]);
  const p = params(g, d, w);
  const { sse, variance } = saeForward(g, xin, p, { architecture: 'topk', k: o.k });
  const loss = div(sse, variance);
  const { wDec, wEnc } = unitDictionary(w, d, o.seed);
  const mean = new Float32Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const initial: Record<string, HostTensor> = {
    W_enc: { dtype: 'float32', dims: [d, w], data: wEnc },
    b_enc: { dtype: 'float32', dims: [w], data: new Float32Array(w) },
    W_dec: { dtype: 'float32', dims: [w, d], data: wDec },
    b_dec: { dtype: 'float32', dims: [d], data: mean },
  };
  const trainer = await Trainer.create(
    g,
    loss,
    Object.values(p).map((value) => ({ value, decay: false })),
    initial,
    { ...ADAMW_DEFAULTS, weightDecay: 0, clipNorm: 1 },
    runtime,
  );
  let last: StepResult | null;
  try {
    last = await runSaeSteps(trainer, x, d, o, () => ({}), onProgress, signal);
  } finally {
    await trainer.release();
  }
  const state = trainer.snapshot();
  const weights: Record<string, HostTensor> = {};
  for (const name of Object.keys(p)) weights[name] = state.tensors[name];
  const metrics = await evaluateSae(weights, evalX, d, { architecture: 'topk', k: o.k }, runtime);
  return { weights, metrics: { ...metrics, final_loss: Number((last?.loss ?? NaN).toFixed(4)) } };
}

/** Explained variance (around the evaluation set's mean), L0 and dead features on `x`. */
export async function evaluateSae(weights: Record<string, HostTensor>, x: Float32Array, d: number, encoding: SaeEncoding, runtime: RuntimeHost): Promise<Omit<SaeMetrics, 'final_loss'>> {
  const n = x.length / d;
  const w = weights.b_enc.dims[0];
  const g = new Graph('sae-eval');
  const xin = g.input('x', 'float32', [n, d]);
  const p: SaeParams = params(g, d, w);
  if (encoding.architecture === 'jumprelu') p.threshold = g.input('threshold', 'float32', [w]);
  const { acts, sse, variance } = saeForward(g, xin, p, encoding);
  const active = cast(greater(acts, g.scalar(0, 'float32')), 'float32');
  g.output(sse, 'sse');
  g.output(variance, 'variance');
  g.output(reduceSum(active, [0], false), 'fired');
  const session = await runtime.load(g.toModel(), { provider: 'cpu' });
  const feeds: Record<string, HostTensor> = { x: { dtype: 'float32', dims: [n, d], data: x } };
  for (const name of Object.keys(p)) if (name !== 'x') feeds[name] = weights[name];
  try {
    const out = await session.run(feeds);
    const fired = out.fired.data as Float32Array;
    const total = fired.reduce((a, b) => a + b, 0);
    return {
      explained_variance: Number((1 - (out.sse.data[0] as number) / (out.variance.data[0] as number)).toFixed(4)),
      l0: Number((total / n).toFixed(2)),
      dead_features: fired.filter((v) => v === 0).length,
    };
  } finally {
    await session.release();
  }
}

/** Our SAE file format: TopK (k, b_dec subtracted from the input) or JumpReLU (a `threshold`
 * tensor, b_dec not subtracted: Gemma Scope's convention), settings in SAELens's key names. */
export function writeSae(
  file: string,
  weights: Record<string, HostTensor>,
  cfg: { hook_name: string; model_name: string; metrics: SaeMetrics; seed: number } & ({ architecture?: 'topk'; k: number } | { architecture: 'jumprelu' }),
): void {
  const [d, w] = weights.W_enc.dims;
  const jumprelu = cfg.architecture === 'jumprelu';
  const names = ['W_enc', 'W_dec', 'b_enc', 'b_dec', ...(jumprelu ? ['threshold'] : [])];
  const missing = names.filter((name) => !weights[name]);
  if (missing.length > 0) throw new ApiError('INVALID_ARGUMENT', `a ${jumprelu ? 'jumprelu' : 'topk'} SAE needs ${missing.join(', ')} to be written`, { setting: 'weights', missing });
  writeSafetensors(
    file,
    names.map((name) => ({ name, dtype: 'F32' as const, shape: [...weights[name].dims], data: weights[name].data as Float32Array })),
    {
      [SAE_LINGUASCOPE_KEY]: JSON.stringify({
        architecture: jumprelu ? 'jumprelu' : 'topk',
        d_in: d,
        d_sae: w,
        ...(cfg.architecture === 'jumprelu' ? {} : { k: cfg.k }),
        hook_name: cfg.hook_name,
        model_name: cfg.model_name,
        apply_b_dec_to_input: !jumprelu,
        normalize_activations: 'none',
        average_l0: cfg.metrics.l0,
        explained_variance: cfg.metrics.explained_variance,
        dead_features: cfg.metrics.dead_features,
        seed: cfg.seed,
      }),
    },
  );
}

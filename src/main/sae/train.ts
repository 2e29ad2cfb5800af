// TopK SAE training on the engine (the engine differentiates the TopK mask as a Where, so
// gradients reach the k selected pre-activations; the k-th value itself is a constant for the
// step). Loss: normalized MSE, Σ‖x − x̂‖² / Σ‖x − x̄‖² over the batch (x̄: the batch mean).
// Init: decoder rows random unit vectors, encoder = decoder transposed, b_dec = the data mean,
// b_enc = 0. Reports explained variance, L0 and dead features (never active on the evaluation
// set) and writes our SAE format (loadable by loadSae).
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
import { Trainer } from '../engine/trainer';
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
  final_loss: number;
}

function saeForward(g: Graph, x: Value, p: Record<'W_enc' | 'b_enc' | 'W_dec' | 'b_dec', Value>, k: number) {
  const pre = add(matmul(sub(x, p.b_dec), p.W_enc), p.b_enc);
  const kth = slice(topk(pre, k).values, -1, k - 1, k);
  const acts = where(g.op1('GreaterOrEqual', [pre, kth]), relu(pre), g.scalar(0, 'float32'));
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
  const n = x.length / d;
  if (!Number.isInteger(n) || n < o.batch) throw new ApiError('INVALID_ARGUMENT', `SAE training needs at least ${o.batch} activation vectors of size ${d}`);
  const w = o.width;
  const g = new Graph('sae-train');
  const xin = g.input('x', 'float32', [o.batch, d]);
  const p = params(g, d, w);
  const { sse, variance } = saeForward(g, xin, p, o.k);
  const loss = div(sse, variance);
  // Initial weights.
  const wDec = randomTensor(w * d, (o.seed * 31 + 7) >>> 0, 1);
  for (let f = 0; f < w; f++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += wDec[f * d + j] ** 2;
    for (let j = 0; j < d; j++) wDec[f * d + j] /= Math.sqrt(norm);
  }
  const wEnc = new Float32Array(d * w);
  for (let f = 0; f < w; f++) for (let j = 0; j < d; j++) wEnc[j * w + f] = wDec[f * d + j];
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
  let last = NaN;
  // A seeded shuffle of the rows, reshuffled every epoch.
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
  try {
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
      last = (await trainer.train({ x: { dtype: 'float32', dims: [o.batch, d], data: batch } }, lr)).loss;
      onProgress?.(step + 1, last);
    }
  } finally {
    await trainer.release();
  }
  const state = trainer.snapshot();
  const weights: Record<string, HostTensor> = {};
  for (const name of Object.keys(p)) weights[name] = state.tensors[name];
  return { weights, metrics: { ...(await evaluateSae(weights, evalX, d, o.k, runtime)), final_loss: Number(last.toFixed(4)) } };
}

/** Explained variance (around the evaluation set's mean), L0 and dead features on `x`. */
export async function evaluateSae(weights: Record<string, HostTensor>, x: Float32Array, d: number, k: number, runtime: RuntimeHost): Promise<Omit<SaeMetrics, 'final_loss'>> {
  const n = x.length / d;
  const w = weights.b_enc.dims[0];
  const g = new Graph('sae-eval');
  const xin = g.input('x', 'float32', [n, d]);
  const { acts, sse, variance } = saeForward(g, xin, params(g, d, w), k);
  const active = cast(greater(acts, g.scalar(0, 'float32')), 'float32');
  g.output(sse, 'sse');
  g.output(variance, 'variance');
  g.output(reduceSum(active, [0], false), 'fired');
  const session = await runtime.load(g.toModel(), { provider: 'cpu' });
  try {
    const out = await session.run({ x: { dtype: 'float32', dims: [n, d], data: x }, ...weights });
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

/** Our SAE file format. */
export function writeSae(file: string, weights: Record<string, HostTensor>, cfg: { hook_name: string; model_name: string; k: number; metrics: SaeMetrics; seed: number }): void {
  const [d, w] = weights.W_enc.dims;
  writeSafetensors(
    file,
    ['W_enc', 'W_dec', 'b_enc', 'b_dec'].map((name) => ({ name, dtype: 'F32' as const, shape: [...weights[name].dims], data: weights[name].data as Float32Array })),
    {
      [SAE_LINGUASCOPE_KEY]: JSON.stringify({
        architecture: 'topk',
        d_in: d,
        d_sae: w,
        k: cfg.k,
        hook_name: cfg.hook_name,
        model_name: cfg.model_name,
        apply_b_dec_to_input: true,
        normalize_activations: 'none',
        average_l0: cfg.metrics.l0,
        explained_variance: cfg.metrics.explained_variance,
        dead_features: cfg.metrics.dead_features,
        seed: cfg.seed,
      }),
    },
  );
}

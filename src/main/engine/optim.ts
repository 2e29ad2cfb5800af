// AdamW inside the training graph. Parameters and the moment estimates live on the host between
// runs (graph inputs in, graph outputs out): onnxruntime-node has no training API and no state
// that survives a run, and host arrays make checkpoints a plain write of named tensors.
// Per step t (host feeds lr and the bias corrections c1 = 1 - β1^t, c2 = 1 - β2^t):
//   g  <- g * min(1, clip / (‖g‖₂ + 1e-6))           (global norm over all parameters, if clip)
//   g  <- g * inv_loss_scale                          (loss-scaling hook for f16 training)
//   m  <- β1 m + (1 - β1) g ;  v <- β2 v + (1 - β2) g²
//   p  <- p - lr (m / c1 / (sqrt(v / c2) + ε) + λ p)  (λ only where the decay mask is on)
import { ApiError } from '../../shared/errors';
import { gradients } from './autodiff';
import type { Graph, Value } from './graph';
import { add, div, mul, sqrt, sub } from './ops/elementwise';
import { reduceSum } from './ops/reduce';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Clip gradients to this global L2 norm; 0 = no clipping. */
  clipNorm: number;
}

// Each setting's admissible range, as torch.optim.AdamW has it, except eps: 0 is refused because
// m / (sqrt(v) + 0) is 0/0 = NaN wherever a gradient has been exactly 0 so far. β = 1 would make
// the bias correction 1 - β^t zero.
const RANGES: Record<keyof AdamWConfig, { ok: (x: number) => boolean; rule: string }> = {
  beta1: { ok: (x) => x >= 0 && x < 1, rule: 'in [0, 1)' },
  beta2: { ok: (x) => x >= 0 && x < 1, rule: 'in [0, 1)' },
  eps: { ok: (x) => x > 0, rule: 'above 0' },
  weightDecay: { ok: (x) => x >= 0, rule: '0 or more' },
  clipNorm: { ok: (x) => x >= 0, rule: '0 (no clipping) or more' },
};

/** Throws INVALID_ARGUMENT naming the first setting that is not a finite number in its range. */
export function checkAdamWConfig(config: AdamWConfig): void {
  for (const [setting, { ok, rule }] of Object.entries(RANGES)) {
    const value: unknown = config[setting as keyof AdamWConfig];
    if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
      throw new ApiError('INVALID_ARGUMENT', `AdamW ${setting} must be a finite number ${rule}; got ${String(value)}`, { setting, value: String(value) });
    }
  }
}

export const ADAMW_DEFAULTS: AdamWConfig = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, clipNorm: 1.0 };

export interface TrainableParam {
  value: Value;
  /** Weight decay applies (matrices yes; norms and biases usually not). */
  decay: boolean;
}

export interface AdamWGraph {
  /** Graph input names fed by the host each step. */
  lr: Value;
  c1: Value;
  c2: Value;
  invLossScale: Value;
  moments: { m: Value; v: Value }[];
  /** Output names: `${param}.next`, `${param}.m.next`, `${param}.v.next`, and `grad_norm`. */
  outputs: string[];
}

/** Appends the backward pass and the AdamW update of `params` to minimise `loss`. */
export function appendAdamW(g: Graph, loss: Value, params: readonly TrainableParam[], config: AdamWConfig): AdamWGraph {
  checkAdamWConfig(config);
  const dtype = loss.dtype;
  const lr = g.input('adamw.lr', dtype, []);
  const c1 = g.input('adamw.c1', dtype, []);
  const c2 = g.input('adamw.c2', dtype, []);
  const invLossScale = g.input('adamw.inv_loss_scale', dtype, []);
  const s = (v: number) => g.scalar(v, dtype);
  let grads = gradients(loss, params.map((p) => p.value)).map((d) => mul(d, invLossScale));

  const squares = grads.map((d) => reduceSum(mul(d, d), [...d.shape.keys()], false));
  const norm = sqrt(squares.reduce((a, b) => add(a, b)));
  g.output(norm, 'grad_norm');
  if (config.clipNorm > 0) {
    const factor = g.op1('Min', [s(1), div(s(config.clipNorm), add(norm, s(1e-6)))]);
    grads = grads.map((d) => mul(d, factor));
  }

  const outputs = ['grad_norm'];
  const moments = params.map((p, i) => {
    const name = p.value.name;
    const m = g.input(`${name}.m`, dtype, p.value.shape);
    const v = g.input(`${name}.v`, dtype, p.value.shape);
    const d = grads[i];
    const m2 = add(mul(s(config.beta1), m), mul(s(1 - config.beta1), d));
    const v2 = add(mul(s(config.beta2), v), mul(s(1 - config.beta2), mul(d, d)));
    let update = div(div(m2, c1), add(sqrt(div(v2, c2)), s(config.eps)));
    if (p.decay && config.weightDecay > 0) update = add(update, mul(s(config.weightDecay), p.value));
    g.output(sub(p.value, mul(lr, update)), `${name}.next`);
    g.output(m2, `${name}.m.next`);
    g.output(v2, `${name}.v.next`);
    outputs.push(`${name}.next`, `${name}.m.next`, `${name}.v.next`);
    return { m, v };
  });
  return { lr, c1, c2, invLossScale, moments, outputs };
}

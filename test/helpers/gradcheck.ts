// Gradient check against central finite differences computed by onnxruntime in float64:
// loss = Σ (f(x...) ⊙ W) with a fixed random W, analytic d loss / d x from our autodiff,
// numeric (loss(x + εe_i) - loss(x - εe_i)) / 2ε for every element i.
// With dtype 'float32' the analytic gradient comes from the same builder run in float32 (inputs,
// W and every dtype-following constant in float32), while the numeric reference still comes from
// the float64 graph; both see the same points (inputs and W rounded to float32 first).
import { expect } from 'vitest';
import { gradients } from '../../src/main/engine/autodiff';
import { mulberry32 } from '../../src/shared/random';
import { Graph, type Value } from '../../src/main/engine/graph';
import { mul } from '../../src/main/engine/ops/elementwise';
import { reduceSum } from '../../src/main/engine/ops/reduce';
import { isStatic, numel } from '../../src/main/engine/ops/shapes';
import { EngineSession, type HostTensor } from '../../src/main/engine/session';

export interface InputSpec {
  shape: number[];
  /** Sample range; default [-1, 1]. Keep away from kinks (Abs, Relu at 0) and domain limits. */
  range?: [number, number];
  /** Integer inputs (e.g. Gather indices), not differentiated. */
  int?: { max: number };
}

export type FloatType = 'float32' | 'float64';

export interface GradCheckOptions {
  /** The dtype the analytic gradient is computed in; the finite-difference reference is always float64. */
  dtype?: FloatType;
  seed?: number;
  /** Finite-difference step (in the float64 reference graph). */
  eps?: number;
}

/** A small seeded PRNG so failures reproduce. */
export const rng = mulberry32;

type Build = (...xs: Value[]) => Value;

/**
 * Session over loss = Σ (build(x...) ⊙ W) in `dtype`, with outputs 'loss', 'y' (the builder's
 * result) and d_x<i> for every float input. `weights(n)` supplies W's n values.
 */
async function lossSession(build: Build, specs: InputSpec[], dtype: FloatType, weights: (n: number) => number[]): Promise<{ session: EngineSession; shape: number[] }> {
  const g = new Graph(`gradcheck_${dtype}`);
  const xs = specs.map((s, i) => g.input(`x${i}`, s.int ? 'int64' : dtype, s.shape));
  const y = build(...xs);
  if (!isStatic(y.shape)) throw new Error('gradcheck needs a static output shape');
  if (y.dtype !== dtype) throw new Error(`gradcheck: the builder returned ${y.dtype} from ${dtype} inputs`);
  const w = g.constant(weights(numel(y.shape)), dtype, y.shape);
  const loss = reduceSum(mul(y, w), [...y.shape.keys()], false);
  const params = xs.filter((_, i) => !specs[i].int);
  const grads = gradients(loss, params);
  g.output(loss, 'loss');
  g.output(y, 'y');
  grads.forEach((d, i) => g.output(d, `d_${params[i].name}`));
  return { session: await EngineSession.create(g.toModel()), shape: y.shape };
}

/** Seeded W and inputs (float inputs as float64 arrays holding values exactly representable in `dtype`). */
function sampler(specs: InputSpec[], dtype: FloatType, seed: number) {
  const random = rng(seed);
  const round = dtype === 'float32' ? Math.fround : (v: number) => v;
  let w: number[] | undefined;
  const weights = (n: number) => (w ??= Array.from({ length: n }, () => round(random() * 2 - 1)));
  const sample = () =>
    specs.map((s) =>
      s.int
        ? BigInt64Array.from({ length: numel(s.shape) }, () => BigInt(Math.floor(random() * s.int!.max)))
        : Float64Array.from({ length: numel(s.shape) }, () => {
            const [lo, hi] = s.range ?? [-1, 1];
            return round(lo + random() * (hi - lo));
          }),
    );
  return { weights, sample };
}

function feeds(specs: InputSpec[], data: (Float64Array | BigInt64Array)[], dtype: FloatType): Record<string, HostTensor> {
  return Object.fromEntries(
    specs.map((s, i) => {
      if (s.int) return [`x${i}`, { dtype: 'int64', dims: s.shape, data: data[i] }];
      return [`x${i}`, { dtype, dims: s.shape, data: dtype === 'float32' ? Float32Array.from(data[i] as Float64Array) : data[i] }];
    }),
  );
}

/** Forward output (and its statically inferred shape) and analytic gradients (float inputs only) at a seeded random point. */
export async function gradientsAt(build: Build, specs: InputSpec[], options: GradCheckOptions = {}): Promise<{ y: HostTensor; inferred: number[]; grads: HostTensor[] }> {
  const dtype = options.dtype ?? 'float64';
  const { weights, sample } = sampler(specs, dtype, options.seed ?? 1);
  const { session, shape } = await lossSession(build, specs, dtype, weights);
  try {
    const out = await session.run(feeds(specs, sample(), dtype));
    return { y: out.y, inferred: shape, grads: specs.flatMap((s, i) => (s.int ? [] : [out[`d_x${i}`]])) };
  } finally {
    await session.release();
  }
}

/**
 * max |analytic - numeric| / max(1, |numeric|) over every element of every float input, the
 * analytic gradient from the `dtype` graph, the numeric one from the float64 graph.
 */
export async function maxGradError(build: Build, specs: InputSpec[], options: GradCheckOptions = {}): Promise<number> {
  const dtype = options.dtype ?? 'float64';
  const eps = options.eps ?? 1e-6;
  const { weights, sample } = sampler(specs, dtype, options.seed ?? 1);
  const { session: reference } = await lossSession(build, specs, 'float64', weights);
  const analyticSession =
    dtype === 'float64'
      ? reference
      : await lossSession(build, specs, dtype, weights).then(
          (built) => built.session,
          async (error) => {
            await reference.release();
            throw error;
          },
        );
  try {
    const data = sample();
    const analytic = await analyticSession.run(feeds(specs, data, dtype));
    let worst = 0;
    for (const [i, s] of specs.entries()) {
      if (s.int) continue;
      const x = data[i] as Float64Array;
      const d = analytic[`d_x${i}`].data as Float32Array | Float64Array;
      for (let k = 0; k < x.length; k++) {
        const keep = x[k];
        x[k] = keep + eps;
        const plus = (await reference.run(feeds(specs, data, 'float64'), ['loss'])).loss.data[0] as number;
        x[k] = keep - eps;
        const minus = (await reference.run(feeds(specs, data, 'float64'), ['loss'])).loss.data[0] as number;
        x[k] = keep;
        const numeric = (plus - minus) / (2 * eps);
        worst = Math.max(worst, Math.abs(d[k] - numeric) / Math.max(1, Math.abs(numeric)));
      }
    }
    return worst;
  } finally {
    await reference.release();
    if (analyticSession !== reference) await analyticSession.release();
  }
}

/**
 * For inputs with a zero-size (empty batch) axis, where finite differences have nothing to check:
 * the forward and backward graphs run, the output has the statically inferred shape, every
 * gradient has its input's shape and dtype, and when the output is empty (the loss an empty sum)
 * the gradients of inputs without the empty axis (a weight, a gathered table) are exactly zero.
 */
export async function expectEmptyBatchGradients(build: Build, specs: InputSpec[], options: GradCheckOptions = {}): Promise<void> {
  const dtype = options.dtype ?? 'float64';
  const { y, inferred, grads } = await gradientsAt(build, specs, options);
  expect(y.dims, 'forward output shape (runtime vs inferred)').toEqual(inferred);
  const floats = specs.filter((s) => !s.int);
  expect(grads.map((d) => [d.dtype, d.dims]), 'gradient dtypes and shapes').toEqual(floats.map((s) => [dtype, s.shape]));
  grads.forEach((d, i) => {
    expect(d.data.length, `d_x${i} size`).toBe(numel(floats[i].shape));
    if (numel(inferred) === 0) expect(Array.from(d.data as Float64Array).filter((v) => v !== 0), `d_x${i} nonzero entries`).toEqual([]);
  });
}

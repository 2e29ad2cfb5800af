// Gradient check against central finite differences, both computed by onnxruntime in float64:
// loss = Σ (f(x...) ⊙ W) with a fixed random W, analytic d loss / d x from our autodiff,
// numeric (loss(x + εe_i) - loss(x - εe_i)) / 2ε for every element i.
import { gradients } from '../../src/main/engine/autodiff';
import { Graph, type Value } from '../../src/main/engine/graph';
import { mul } from '../../src/main/engine/ops/elementwise';
import { reduceSum } from '../../src/main/engine/ops/reduce';
import { isStatic, numel } from '../../src/main/engine/ops/shapes';
import { EngineSession } from '../../src/main/engine/session';

export interface InputSpec {
  shape: number[];
  /** Sample range; default [-1, 1]. Keep away from kinks (Abs, Relu at 0) and domain limits. */
  range?: [number, number];
  /** Integer inputs (e.g. Gather indices), not differentiated. */
  int?: { max: number };
}

/** A small seeded PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function maxGradError(build: (...xs: Value[]) => Value, specs: InputSpec[], seed = 1, eps = 1e-6): Promise<number> {
  const random = rng(seed);
  const g = new Graph('gradcheck');
  const xs = specs.map((s, i) => g.input(`x${i}`, s.int ? 'int64' : 'float64', s.shape));
  const y = build(...xs);
  if (!isStatic(y.shape)) throw new Error('gradcheck needs a static output shape');
  const w = g.constant(Array.from({ length: numel(y.shape) }, () => random() * 2 - 1), 'float64', y.shape);
  const loss = reduceSum(mul(y, w), [...y.shape.keys()], false);
  const params = xs.filter((_, i) => !specs[i].int);
  const grads = gradients(loss, params);
  g.output(loss, 'loss');
  grads.forEach((d, i) => g.output(d, `d_${params[i].name}`));
  const session = await EngineSession.create(g.toModel());
  try {
    const data = specs.map((s) =>
      s.int
        ? BigInt64Array.from({ length: numel(s.shape) }, () => BigInt(Math.floor(random() * s.int!.max)))
        : Float64Array.from({ length: numel(s.shape) }, () => {
            const [lo, hi] = s.range ?? [-1, 1];
            return lo + random() * (hi - lo);
          }),
    );
    const feeds = () => Object.fromEntries(specs.map((s, i) => [`x${i}`, { dtype: s.int ? 'int64' : 'float64', dims: s.shape, data: data[i] }] as const));
    const analytic = await session.run(feeds());
    let worst = 0;
    for (const [i, s] of specs.entries()) {
      if (s.int) continue;
      const x = data[i] as Float64Array;
      const d = analytic[`d_x${i}`].data as Float64Array;
      for (let k = 0; k < x.length; k++) {
        const keep = x[k];
        x[k] = keep + eps;
        const plus = (await session.run(feeds(), ['loss'])).loss.data[0] as number;
        x[k] = keep - eps;
        const minus = (await session.run(feeds(), ['loss'])).loss.data[0] as number;
        x[k] = keep;
        const numeric = (plus - minus) / (2 * eps);
        worst = Math.max(worst, Math.abs(d[k] - numeric) / Math.max(1, Math.abs(numeric)));
      }
    }
    return worst;
  } finally {
    await session.release();
  }
}

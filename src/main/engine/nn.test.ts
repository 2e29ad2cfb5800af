// Composite layers: gradients against float64 finite differences (analytic in float64 to 1e-6 and
// in float32 to 1e-3), empty batches, forward values against direct float64 JavaScript evaluations.
import { describe, expect, it } from 'vitest';
import { expectEmptyBatchGradients, maxGradError, rng, type FloatType, type InputSpec } from '../../../test/helpers/gradcheck';
import { ApiError } from '../../shared/errors';
import { gradients } from './autodiff';
import { Graph, type Value } from './graph';
import { attention, attentionMask, crossEntropy, rmsNorm, rotary, rotaryTables, softcap } from './nn';
import { mul } from './ops/elementwise';
import { reduceSum } from './ops/reduce';
import { EngineSession } from './session';

const TOLERANCE: Record<FloatType, number> = { float64: 1e-6, float32: 1e-3 };
const DTYPES: FloatType[] = ['float64', 'float32'];

/** A constant in x's dtype (or `dtype`), so each builder runs in float32 and float64 alike. */
function constantLike(x: Value, data: ArrayLike<number>, shape: number[], dtype: Value['dtype'] = x.dtype) {
  return x.graph.constant(data, dtype, shape);
}

const rotaryCase = (positions: number[]) => (x: Value) => {
  const { cos, sin } = rotaryTables(positions, 4, 10000);
  return rotary(x, constantLike(x, cos, [positions.length, 4]), constantLike(x, sin, [positions.length, 4]));
};
/** Attention with the mask of `attentionMask(lengths, T, window)` (B = lengths.length). */
const attentionCase = (lengths: number[], T: number, options: { scale: number; softcap?: number; window?: number }) => (q: Value, k: Value, v: Value) =>
  attention(q, k, v, { ...options, mask: constantLike(q, attentionMask(lengths, T, options.window), [lengths.length, 1, T, T], 'bool') });

type Case = [string, (...xs: Value[]) => Value, InputSpec[]];

const cases: Case[] = [
  ['RMSNorm (1 + w), Gemma', (x, w) => rmsNorm(x, w, 1e-6, true), [{ shape: [2, 3, 4] }, { shape: [4] }]],
  ['RMSNorm w, Llama', (x, w) => rmsNorm(x, w, 1e-5, false), [{ shape: [3, 5] }, { shape: [5] }]],
  ['RMSNorm, D = 1', (x, w) => rmsNorm(x, w, 1e-5, false), [{ shape: [3, 1] }, { shape: [1] }]],
  ['soft-cap that bites (c = 0.5)', (x) => softcap(x, 0.5), [{ shape: [2, 3], range: [-2, 2] }]],
  ['rotary, rotate-half', rotaryCase([0, 1, 5]), [{ shape: [1, 2, 3, 4] }]],
  ['rotary, one position', rotaryCase([7]), [{ shape: [1, 1, 1, 4] }]],
  ['attention: GQA 4q/2kv, soft-cap, sliding window 2, padding', attentionCase([4, 2], 4, { scale: 0.5, softcap: 1.5, window: 2 }),
    [{ shape: [2, 4, 4, 2] }, { shape: [2, 2, 4, 2] }, { shape: [2, 2, 4, 2] }]],
  ['attention: MHA, causal only', attentionCase([3], 3, { scale: 1 }), [{ shape: [1, 2, 3, 2] }, { shape: [1, 2, 3, 2] }, { shape: [1, 2, 3, 2] }]],
  ['attention: MQA 3q/1kv, T = 1, D = 1', attentionCase([1], 1, { scale: 1 }), [{ shape: [1, 3, 1, 1] }, { shape: [1, 1, 1, 1] }, { shape: [1, 1, 1, 1] }]],
  ['cross-entropy, mean', (logits, targets) => crossEntropy(logits, targets), [{ shape: [4, 5] }, { shape: [4], int: { max: 5 } }]],
  ['cross-entropy, padding weights', (logits, targets) => crossEntropy(logits, targets, constantLike(logits, [1, 1, 0, 1], [4])),
    [{ shape: [4, 5] }, { shape: [4], int: { max: 5 } }]],
  ['cross-entropy, (B, T, V) = (1, 3, 3)', (logits, targets) => crossEntropy(logits, targets), [{ shape: [1, 3, 3] }, { shape: [1, 3], int: { max: 3 } }]],
];

// Batch 0: forward and backward run with empty gradients (zero for weights). The mean
// cross-entropy of no positions is 0/0 = NaN, as in PyTorch; only its gradients' shapes are checked.
const emptyBatch: Case[] = [
  ['RMSNorm (1 + w), batch 0', (x, w) => rmsNorm(x, w, 1e-6, true), [{ shape: [0, 3, 4] }, { shape: [4] }]],
  ['soft-cap, batch 0', (x) => softcap(x, 0.5), [{ shape: [0, 3] }]],
  ['rotary, batch 0', rotaryCase([0, 1, 5]), [{ shape: [0, 2, 3, 4] }]],
  ['attention: GQA 4q/2kv, soft-cap, window, batch 0', attentionCase([], 4, { scale: 0.5, softcap: 1.5, window: 2 }),
    [{ shape: [0, 4, 4, 2] }, { shape: [0, 2, 4, 2] }, { shape: [0, 2, 4, 2] }]],
  ['attention: MHA, batch 0', attentionCase([], 3, { scale: 1 }), [{ shape: [0, 2, 3, 2] }, { shape: [0, 2, 3, 2] }, { shape: [0, 2, 3, 2] }]],
  ['cross-entropy, 0 positions', (logits, targets) => crossEntropy(logits, targets), [{ shape: [0, 5] }, { shape: [0], int: { max: 5 } }]],
  ['cross-entropy, padding weights, (B, T, V) = (0, 3, 5)', (logits, targets) => crossEntropy(logits, targets, constantLike(logits, [], [0, 3])),
    [{ shape: [0, 3, 5] }, { shape: [0, 3], int: { max: 5 } }]],
];

describe.each(DTYPES)('composite gradients vs float64 finite differences, analytic in %s', (dtype) => {
  it.each(cases)('%s', async (_name, build, specs) => {
    expect(await maxGradError(build, specs, { dtype })).toBeLessThan(TOLERANCE[dtype]);
  });
});

describe.each(DTYPES)('composites with an empty batch, in %s', (dtype) => {
  it.each(emptyBatch)('%s', async (_name, build, specs) => {
    await expectEmptyBatchGradients(build, specs, { dtype });
  });
});

async function runOne(build: (g: Graph) => Value): Promise<Float64Array> {
  const g = new Graph('forward');
  g.output(build(g), 'y');
  const session = await EngineSession.create(g.toModel());
  try {
    return (await session.run({})).y.data as Float64Array;
  } finally {
    await session.release();
  }
}

describe('composite forward values vs direct float64 formulas', () => {
  const random = rng(7);
  const data = (n: number) => Array.from({ length: n }, () => random() * 2 - 1);

  it('RMSNorm with (1 + w)', async () => {
    const x = data(6);
    const w = data(3);
    const y = await runOne((g) => rmsNorm(g.constant(x, 'float64', [2, 3]), g.constant(w, 'float64', [3]), 1e-6, true));
    for (let r = 0; r < 2; r++) {
      const row = x.slice(r * 3, r * 3 + 3);
      const inv = 1 / Math.sqrt(row.reduce((a, v) => a + v * v, 0) / 3 + 1e-6);
      row.forEach((v, i) => expect(y[r * 3 + i]).toBeCloseTo(v * inv * (1 + w[i]), 12));
    }
  });

  it('rotary embedding rotates (x_i, x_{i+D/2}) pairs by p / theta^(2i/D)', async () => {
    const D = 4;
    const x = data(D);
    const { cos, sin } = rotaryTables([3], D, 10000);
    const y = await runOne((g) => rotary(g.constant(x, 'float64', [1, 1, 1, D]), g.constant(cos, 'float64', [1, D]), g.constant(sin, 'float64', [1, D])));
    for (let i = 0; i < D / 2; i++) {
      const a = 3 / 10000 ** ((2 * i) / D);
      expect(y[i]).toBeCloseTo(x[i] * Math.cos(a) - x[i + D / 2] * Math.sin(a), 12);
      expect(y[i + D / 2]).toBeCloseTo(x[i + D / 2] * Math.cos(a) + x[i] * Math.sin(a), 12);
    }
  });

  it('attention with GQA, soft-cap, window and padding equals the loop definition', async () => {
    const [B, Hq, Hkv, T, D, window, scale, cap] = [1, 2, 1, 4, 2, 2, 0.7, 1.2];
    const lengths = [3];
    const q = data(B * Hq * T * D);
    const k = data(B * Hkv * T * D);
    const v = data(B * Hkv * T * D);
    const y = await runOne((g) =>
      attention(g.constant(q, 'float64', [B, Hq, T, D]), g.constant(k, 'float64', [B, Hkv, T, D]), g.constant(v, 'float64', [B, Hkv, T, D]), {
        scale,
        softcap: cap,
        mask: g.constant(attentionMask(lengths, T, window), 'bool', [B, 1, T, T]),
      }),
    );
    for (let h = 0; h < Hq; h++) {
      const kv = Math.floor(h / (Hq / Hkv));
      for (let i = 0; i < T; i++) {
        const visible = [...Array(T).keys()].filter((j) => j <= i && j < lengths[0] && i - j < window);
        const scores = visible.map((j) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[(h * T + i) * D + d] * k[(kv * T + j) * D + d];
          return cap * Math.tanh((dot * scale) / cap);
        });
        const m = Math.max(...scores);
        const p = scores.map((sc) => Math.exp(sc - m));
        const z = p.reduce((a, b) => a + b, 0);
        for (let d = 0; d < D; d++) {
          const expected = visible.reduce((acc, j, n) => acc + (p[n] / z) * v[(kv * T + j) * D + d], 0);
          expect(y[(h * T + i) * D + d]).toBeCloseTo(expected, 12);
        }
      }
    }
  });
});

describe('autodiff errors', () => {
  it('names an op without a gradient rule on the path to the loss', () => {
    const g = new Graph('no-rule');
    const x = g.input('x', 'float64', [3]);
    const padded = g.op1('Pad', [x, g.constant([1, 1], 'int64', [2])]);
    const loss = reduceSum(mul(padded, padded), [0], false);
    expect(() => gradients(loss, [x])).toThrowError(ApiError);
    expect(() => gradients(loss, [x])).toThrowError(/Pad has no gradient rule/);
  });

  it('refuses a non-scalar loss and gives frozen inputs no gradient work', () => {
    const g = new Graph('frozen');
    const x = g.input('x', 'float64', [2]);
    const frozen = g.input('frozen', 'float64', [2]);
    expect(() => gradients(mul(x, frozen), [x])).toThrowError(/scalar/);
    const loss = reduceSum(mul(x, frozen), [0], false);
    const before = g.nodes.length;
    const [dx] = gradients(loss, [x]);
    g.output(dx, 'dx');
    // d/dx = dy * frozen; the exported graph computes nothing for d/dfrozen (no Mul of dy with x).
    const exported = g.liveNodes().filter((n) => n.id >= before);
    expect(exported.filter((n) => n.opType === 'Mul' && n.inputs.some((i) => i?.id === x.id))).toEqual([]);
    expect(exported.some((n) => n.opType === 'Mul' && n.inputs.some((i) => i?.id === frozen.id))).toBe(true);
  });

  it('rejects shapes that do not broadcast, naming the op', () => {
    const g = new Graph('shapes');
    expect(() => mul(g.input('a', 'float32', [2, 3]), g.input('b', 'float32', [4]))).toThrowError(/Mul: shapes \[2,3\] and \[4\] do not broadcast/);
  });
});

// AdamW (appendAdamW + Trainer) against torch.optim.AdamW: test/fixtures/optim/adamw.safetensors
// (scripts/reference/make_adamw_fixtures.py) holds five torch steps with clipping, decay groups and
// a warmup-cosine lr. The loss is L = Σ_p Σ(p ⊙ G_p) with G_p a graph input fed each step, so
// dL/dp = G_p exactly and only the optimiser is under test. Also: checkpoint resume is
// bit-identical, and absurd settings are refused by name.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { readSafetensorsHeader, readTensorBytes } from '../io/safetensors';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { Graph } from './graph';
import { add, mul } from './ops/elementwise';
import { reduceSum } from './ops/reduce';
import type { AdamWConfig, TrainableParam } from './optim';
import { RuntimeHost } from './runtime-host';
import type { HostTensor } from './session';
import { Trainer } from './trainer';

type Float = 'float32' | 'float64';
const FIXTURE = join(__dirname, '../../../test/fixtures/optim/adamw.safetensors');
const header = readSafetensorsHeader(FIXTURE);
const meta = header.metadata;
const [beta1, beta2] = JSON.parse(meta.betas) as [number, number];
const CONFIG: AdamWConfig = { beta1, beta2, eps: Number(meta.eps), weightDecay: Number(meta.weight_decay), clipNorm: Number(meta.clip_max_norm) };
const PARAMS = JSON.parse(meta.params) as Record<string, { shape: number[]; decay: boolean }>;
const NAMES = Object.keys(PARAMS);
const K = Number(meta.steps);

function tensor(name: string): HostTensor {
  const entry = header.tensors.get(name);
  if (!entry) throw new Error(`fixture has no tensor ${name}`);
  const bytes = readTensorBytes(entry);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  if (entry.dtype === 'F32') return { dtype: 'float32', dims: entry.shape, data: new Float32Array(buffer) };
  if (entry.dtype === 'F64') return { dtype: 'float64', dims: entry.shape, data: new Float64Array(buffer) };
  throw new Error(`unexpected dtype ${entry.dtype} for ${name}`);
}
const values = (name: string) => Array.from(tensor(name).data as Float64Array);
const LRS = values('lr');
const tag = (dtype: Float) => (dtype === 'float32' ? 'f32' : 'f64');

/** Parameters as graph inputs, G_p as graph inputs `G.<name>`, loss Σ_p Σ(p ⊙ G_p). */
function build(dtype: Float, config = CONFIG): { graph: Graph; loss: ReturnType<Graph['input']>; params: TrainableParam[] } {
  const graph = new Graph(`adamw-${dtype}`);
  const params = NAMES.map((n) => ({ value: graph.input(n, dtype, PARAMS[n].shape), decay: PARAMS[n].decay }));
  const terms = params.map((p) => {
    const G = graph.input(`G.${p.value.name}`, dtype, PARAMS[p.value.name].shape);
    return reduceSum(mul(p.value, G), [...p.value.shape.keys()], false);
  });
  return { graph, loss: terms.reduce((a, b) => add(a, b)), params };
}

function initial(dtype: Float): Record<string, HostTensor> {
  return Object.fromEntries(NAMES.map((n) => [n, tensor(`${tag(dtype)}.init.${n}`)]));
}

async function trainer(dtype: Float, runtime?: RuntimeHost, config = CONFIG): Promise<Trainer> {
  const { graph, loss, params } = build(dtype, config);
  return Trainer.create(graph, loss, params, initial(dtype), config, runtime);
}

const gradients = (dtype: Float, step: number) => Object.fromEntries(NAMES.map((n) => [`G.${n}`, tensor(`${tag(dtype)}.grad.${step}.${n}`)]));

// Ours vs torch per element, relative to the scale of the terms the step combines:
//   |ours - torch| <= RTOL · max(|torch after the step|, |torch before it|)
// (p_new = p - lr·u and m_new = β1·m + (1-β1)·g cancel where the result is near 0, so a plain
// relative error there measures cancellation, not the optimiser; |value before| bounds the terms.)
// Both sides round in another order: torch uses lerp for m, sqrt(v)/sqrt(c2) where we compute
// sqrt(v/c2), p·(1 - lr·λ) before the Adam term, and lr / bias corrections in double, which we feed
// rounded to the graph's dtype. Where both values are 0 (a gradient that was always 0) they must be
// equal.
const RTOL: Record<Float, number> = { float32: 1e-6, float64: 5e-15 };

interface Errors {
  abs: number;
  rel: number;
  scaled: number;
}
const worst = new Map<string, Errors>();

/** Torch's value of `theirs` before `step` (the initial value, or zero moments, at step 1). */
function before(dtype: Float, step: number, n: string, theirs: string): ArrayLike<number> {
  if (step > 1) return tensor(`${tag(dtype)}.step.${step - 1}.${theirs}`).data as Float64Array;
  return theirs === n ? (tensor(`${tag(dtype)}.init.${n}`).data as Float64Array) : new Float64Array(PARAMS[n].shape.reduce((a, b) => a * b, 1));
}

/** Checks every tensor of `state` against torch after `step`, and records the largest errors. */
function expectTorchState(dtype: Float, step: number, state: Record<string, HostTensor>, label: string): void {
  for (const n of NAMES) {
    for (const [ours, theirs] of [[n, n], [`${n}.m`, `${n}.exp_avg`], [`${n}.v`, `${n}.exp_avg_sq`]]) {
      const got = state[ours].data as Float32Array | Float64Array;
      const want = tensor(`${tag(dtype)}.step.${step}.${theirs}`).data as Float32Array | Float64Array;
      const prev = before(dtype, step, n, theirs);
      expect(state[ours].dtype).toBe(dtype);
      expect(got.length).toBe(want.length);
      const key = `${label} ${theirs}`;
      const e = worst.get(key) ?? { abs: 0, rel: 0, scaled: 0 };
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i] - want[i]);
        const scale = Math.max(Math.abs(want[i]), Math.abs(prev[i]));
        e.abs = Math.max(e.abs, d);
        if (want[i] !== 0) e.rel = Math.max(e.rel, d / Math.abs(want[i]));
        if (scale !== 0) e.scaled = Math.max(e.scaled, d / scale);
        if (!(d <= RTOL[dtype] * scale)) {
          expect.fail(`${dtype} step ${step} ${theirs}[${i}]: ours ${got[i]}, torch ${want[i]}, before the step ${prev[i]} (|d| ${d.toExponential(2)})`);
        }
      }
      worst.set(key, e);
    }
  }
}

/** Runs steps from..to of the fixture on `t`, checking each against torch. */
async function runSteps(t: Trainer, dtype: Float, from: number, to: number, label: string): Promise<void> {
  const norms = values(`${tag(dtype)}.grad_norm`);
  const losses = values(`${tag(dtype)}.loss`);
  for (let step = from; step <= to; step++) {
    const r = await t.train(gradients(dtype, step), LRS[step - 1]);
    expect(t.step).toBe(step);
    // Pre-clip global norm and the loss: sums in another order, so relative 1e-6 / 1e-14.
    const close = dtype === 'float32' ? 1e-6 : 1e-14;
    expect(Math.abs(r.gradNorm - norms[step - 1]) / norms[step - 1], `grad_norm at step ${step}`).toBeLessThan(close);
    expect(Math.abs(r.loss - losses[step - 1]), `loss at step ${step}`).toBeLessThan(close * 40);
    expectTorchState(dtype, step, t.snapshot().tensors, label);
  }
}

const bytesOf = (t: HostTensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

describe('AdamW vs torch.optim.AdamW (5 steps: tiny gradient, clipped step, decay groups, warmup-cosine lr)', () => {
  afterAll(() => {
    const rows = [...worst].map(([k, e]) => `${k}: max abs ${e.abs.toExponential(2)}, max rel ${e.rel.toExponential(2)}, max |d|/scale ${e.scaled.toExponential(2)}`);
    if (rows.length) console.log(`AdamW vs torch, per tensor over all steps:\n${rows.join('\n')}`);
  });

  it('the fixture exercises clipping at step 2 only, and a tiny (eps-dominated) first step', () => {
    const norms = values('f32.grad_norm');
    expect(norms.map((n) => n > CONFIG.clipNorm)).toEqual([false, true, false, false, false]);
    expect(norms[0]).toBeLessThan(1e-5);
  });

  it.each<Float>(['float32', 'float64'])('every step of a %s graph matches torch: params, exp_avg, exp_avg_sq, grad_norm', async (dtype) => {
    const t = await trainer(dtype);
    try {
      await runSteps(t, dtype, 1, K, dtype);
    } finally {
      await t.release();
    }
  });

  it('matches torch when the steps run in the compute worker (RuntimeHost)', async () => {
    const host = new RuntimeHost();
    try {
      const t = await trainer('float32', host);
      try {
        await runSteps(t, 'float32', 1, K, 'worker float32');
      } finally {
        await t.release();
      }
    } finally {
      await host.close();
    }
  });

  it('a checkpoint written after step 2 and loaded into a fresh Trainer continues bit-identically', async () => {
    const tmp = tempDir();
    const straight = await trainer('float32');
    const first = await trainer('float32');
    const resumed = await trainer('float32');
    try {
      const file = join(tmp.dir, 'step-2.safetensors');
      for (let step = 1; step <= 2; step++) await first.train(gradients('float32', step), LRS[step - 1]);
      saveCheckpoint(file, first.snapshot());
      resumed.restore(loadCheckpoint(file));
      expect(resumed.step).toBe(2);
      for (let step = 1; step <= 2; step++) await straight.train(gradients('float32', step), LRS[step - 1]);
      for (let step = 3; step <= K; step++) {
        const a = await straight.train(gradients('float32', step), LRS[step - 1]);
        const b = await resumed.train(gradients('float32', step), LRS[step - 1]);
        expect(b).toEqual(a);
        const sa = straight.snapshot().tensors;
        const sb = resumed.snapshot().tensors;
        expect(Object.keys(sb).sort()).toEqual(Object.keys(sa).sort());
        for (const name of Object.keys(sa)) expect(bytesOf(sb[name]).equals(bytesOf(sa[name])), `${name} at step ${step}`).toBe(true);
        expectTorchState('float32', step, sb, 'resumed float32');
      }
    } finally {
      await Promise.all([straight.release(), first.release(), resumed.release()]);
      tmp.cleanup();
    }
  });
});

describe('absurd AdamW settings are refused by name (INVALID_ARGUMENT)', () => {
  const BAD: Record<keyof AdamWConfig, unknown[]> = {
    beta1: [-0.1, 1, 1.5, NaN, Infinity, '0.9', undefined],
    beta2: [-1e-3, 1, 2, NaN, -Infinity, null],
    eps: [0, -1e-8, NaN, Infinity, '1e-8'],
    weightDecay: [-0.1, NaN, Infinity, undefined],
    clipNorm: [-1, NaN, Infinity, '1'],
  };
  const cases = Object.entries(BAD).flatMap(([setting, vs]) => vs.map((v) => [setting, v] as const));

  it.each(cases)('%s = %s', async (setting, value) => {
    const config = { ...CONFIG, [setting]: value } as AdamWConfig;
    const { graph, loss, params } = build('float32', config);
    await expect(Trainer.create(graph, loss, params, initial('float32'), config)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining(`AdamW ${setting} must be`),
      details: { setting },
    });
  });

  it('accepts the edges of each range: β1 = β2 = 0, weight decay 0, no clipping, lr 0', async () => {
    const t = await trainer('float32', undefined, { beta1: 0, beta2: 0, eps: 1e-12, weightDecay: 0, clipNorm: 0 });
    try {
      const before = t.snapshot().tensors;
      await t.train(gradients('float32', 3), 0);
      const after = t.snapshot().tensors;
      for (const n of NAMES) expect(bytesOf(after[n]).equals(bytesOf(before[n])), n).toBe(true);
    } finally {
      await t.release();
    }
  });

  it.each([
    ['lr', -1e-3],
    ['lr', NaN],
    ['lr', Infinity],
    ['lossScale', 0],
    ['lossScale', -2],
    ['lossScale', NaN],
    ['lossScale', Infinity],
  ] as const)('train() with %s = %s is refused and the state stays at the last good step', async (setting, value) => {
    const t = await trainer('float32');
    try {
      await t.train(gradients('float32', 1), LRS[0]);
      const before = t.snapshot();
      const call = setting === 'lr' ? t.train(gradients('float32', 2), value) : t.train(gradients('float32', 2), LRS[1], value);
      await expect(call).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
      const after = t.snapshot();
      expect(after.step).toBe(1);
      for (const name of Object.keys(before.tensors)) expect(bytesOf(after.tensors[name]).equals(bytesOf(before.tensors[name])), name).toBe(true);
      // and the next good step is torch's step 2
      await runSteps(t, 'float32', 2, 2, 'after refusal');
    } finally {
      await t.release();
    }
  });
});

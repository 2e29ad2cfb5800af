// JumpReLU SAE training against an independent reference: test/fixtures/jumprelu/jumprelu.safetensors
// (scripts/reference/make_jumprelu_fixtures.py: torch with autograd.Function backward rules for the
// straight-through estimators, itself checked by finite differences and a numpy transcription)
// holds the loss, its terms, f and every gradient at one point, and two AdamW steps. Then a run on
// data made from a known sparse dictionary, the file it writes read back by loadSae and encoded by
// the analysis's own graph, and every class of bad setting refused by name.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { gradients } from '../engine/autodiff';
import { Graph } from '../engine/graph';
import { RuntimeHost } from '../engine/runtime-host';
import { EngineSession, type HostTensor } from '../engine/session';
import { Trainer } from '../engine/trainer';
import { readSafetensorsHeader, readTensorBytes } from '../io/safetensors';
import { randomTensor } from '../models/random-model';
import { saeGraph } from './encode';
import { loadSae } from './sae';
import { writeSae } from './train';
import { JUMPRELU_ADAMW, JUMPRELU_PARAMS, jumpReluLoss, jumpReluParams, trainJumpReluSae, type JumpReluTrainingOptions } from './train-jumprelu';

const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

type Float = 'float32' | 'float64';
const FIXTURE = join(__dirname, '../../../test/fixtures/jumprelu/jumprelu.safetensors');
const header = readSafetensorsHeader(FIXTURE);
const meta = header.metadata;
const { B, d, w } = JSON.parse(meta.sizes) as { B: number; d: number; w: number };
const BANDWIDTH = Number(meta.bandwidth);
const LAMBDAS = JSON.parse(meta.lambdas) as number[];
const LRS = JSON.parse(meta.lrs) as number[];
const tag = (dtype: Float) => (dtype === 'float32' ? 'f32' : 'f64');

function tensor(name: string): HostTensor {
  const entry = header.tensors.get(name);
  if (!entry) throw new Error(`fixture has no tensor ${name}`);
  const bytes = readTensorBytes(entry);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return entry.dtype === 'F64' ? { dtype: 'float64', dims: entry.shape, data: new Float64Array(buffer) } : { dtype: 'float32', dims: entry.shape, data: new Float32Array(buffer) };
}
const scalar = (dtype: Float, v: number): HostTensor => ({ dtype, dims: [], data: dtype === 'float32' ? Float32Array.of(v) : Float64Array.of(v) });

/** Worst |ours − torch| over a tensor, relative to the tensor's largest |torch| value. */
function relError(ours: HostTensor, ref: HostTensor): number {
  expect(ours.dims).toEqual(ref.dims);
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) {
    scale = Math.max(scale, Math.abs(Number(ref.data[i])));
    worst = Math.max(worst, Math.abs(Number(ours.data[i]) - Number(ref.data[i])));
  }
  return worst / Math.max(scale, 1e-30);
}

function lossGraph(dtype: Float) {
  const g = new Graph(`jumprelu-${dtype}`);
  const x = g.input('x', dtype, [B, d]);
  const lambda = g.input('l0_coefficient', dtype, []);
  const p = jumpReluParams(g, d, w, dtype);
  return { g, p, ...jumpReluLoss(x, p, lambda, BANDWIDTH) };
}
const initial = (dtype: Float) => Object.fromEntries(JUMPRELU_PARAMS.map((n) => [n, tensor(`${tag(dtype)}.init.${n}`)]));

// float64 runs the same arithmetic as torch's float64 up to summation order; float32 within 1e-5
// of each tensor's scale (the brief's tolerance), both on every gradient.
const TOL: Record<Float, number> = { float64: 1e-12, float32: 1e-5 };

describe.each(['float64', 'float32'] as const)('JumpReLU loss and straight-through gradients vs torch (%s)', (dtype) => {
  it('loss, MSE, L0, f and d loss / d {W_enc, b_enc, W_dec, b_dec, log_threshold}', async () => {
    const { g, p, features, mse, l0, loss } = lossGraph(dtype);
    g.output(features, 'features');
    g.output(mse, 'mse');
    g.output(l0, 'l0');
    g.output(loss, 'loss');
    const grads = gradients(loss, JUMPRELU_PARAMS.map((n) => p[n]));
    grads.forEach((v, i) => g.output(v, `grad.${JUMPRELU_PARAMS[i]}`));
    const session = await EngineSession.create(g.toModel(), { provider: 'cpu' });
    try {
      const out = await session.run({ x: tensor(`${tag(dtype)}.x.1`), l0_coefficient: scalar(dtype, LAMBDAS[0]), ...initial(dtype) });
      for (const name of ['loss', 'mse', 'l0', 'features']) expect(relError(out[name], tensor(`${tag(dtype)}.${name}`)), name).toBeLessThanOrEqual(TOL[dtype]);
      for (const name of JUMPRELU_PARAMS) {
        const ref = tensor(`${tag(dtype)}.grad.${name}`);
        expect(relError(out[`grad.${name}`], ref), `grad.${name}`).toBeLessThanOrEqual(TOL[dtype]);
      }
      // The fixture exercises the threshold rules: most thresholds get a non-zero gradient.
      const gTheta = out['grad.log_threshold'].data as Float32Array | Float64Array;
      expect(Array.from(gTheta).filter((v) => Math.abs(Number(v)) > 1e-6).length).toBeGreaterThanOrEqual(w - 2);
    } finally {
      await session.release();
    }
  });

  it('two AdamW steps (clipped, λ fed per step) land on torch.optim.AdamW\'s parameters', async () => {
    const { g, p, loss } = lossGraph(dtype);
    const trainer = await Trainer.create(g, loss, JUMPRELU_PARAMS.map((n) => ({ value: p[n], decay: false })), initial(dtype), JUMPRELU_ADAMW);
    try {
      for (let t = 1; t <= 2; t++) {
        const step = await trainer.train({ x: tensor(`${tag(dtype)}.x.${t}`), l0_coefficient: scalar(dtype, LAMBDAS[t - 1]) }, LRS[t - 1]);
        expect(Math.abs(step.gradNorm - Number(tensor(`${tag(dtype)}.grad_norm`).data[t - 1]))).toBeLessThanOrEqual(TOL[dtype] * step.gradNorm);
        const now = trainer.parameters();
        for (const name of JUMPRELU_PARAMS) {
          // Relative to the parameter's scale: one step moves each entry by about lr.
          expect(relError(now[name], tensor(`${tag(dtype)}.step.${t}.${name}`)), `step ${t} ${name}`).toBeLessThanOrEqual(dtype === 'float64' ? 1e-12 : 1e-6);
        }
      }
    } finally {
      await trainer.release();
    }
  });
});

/** x (n, 16): each row the sum of 3 of 24 fixed random directions with scales in [1, 2.7]. */
function sparseToy(n: number, seed: number): { x: Float32Array; atoms: Float32Array } {
  const dim = 16;
  const atoms = randomTensor(24 * dim, 99, 1);
  for (let a = 0; a < 24; a++) {
    const norm = Math.hypot(...atoms.subarray(a * dim, (a + 1) * dim));
    for (let j = 0; j < dim; j++) atoms[a * dim + j] /= norm;
  }
  const pick = randomTensor(n * 6, seed, 1);
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const atom = Math.floor((pick[i * 6 + a] / (2 * Math.sqrt(3)) + 0.5) * 24) % 24;
      const s = 1 + Math.abs(pick[i * 6 + 3 + a]);
      for (let j = 0; j < dim; j++) x[i * dim + j] += s * atoms[atom * dim + j];
    }
  }
  return { x, atoms };
}

const TOY: JumpReluTrainingOptions = { width: 48, steps: 1500, batch: 128, lr: 1e-2, seed: 3, l0Coefficient: 0.03, bandwidth: 0.05, initialThreshold: 0.05, l0WarmupSteps: 150 };

describe('JumpReLU training on a known sparse dictionary', () => {
  it('recovers the dictionary with a small L0, writes a file loadSae reads, and encodes like the training graph', async () => {
    const train = sparseToy(6000, 1);
    const held = sparseToy(1000, 2);
    const { weights, metrics, scale, trained } = await trainJumpReluSae(train.x, 16, TOY, runtime, held.x);
    expect(metrics.explained_variance).toBeGreaterThanOrEqual(0.9);
    // Rows hold 3 directions (fewer when a draw repeats one); the weakest may be left out.
    expect(metrics.l0).toBeGreaterThanOrEqual(2);
    expect(metrics.l0).toBeLessThanOrEqual(4);
    // Most true directions have a decoder row within cos 0.9 (the dictionary is found, not just fit).
    const wDec = weights.W_dec.data as Float32Array;
    let found = 0;
    for (let a = 0; a < 24; a++) {
      let best = 0;
      for (let f = 0; f < 48; f++) {
        const row = wDec.subarray(f * 16, (f + 1) * 16);
        const dot = row.reduce((s, v, j) => s + v * train.atoms[a * 16 + j], 0);
        best = Math.max(best, dot / Math.hypot(...row));
      }
      if (best >= 0.9) found++;
    }
    expect(found).toBeGreaterThanOrEqual(22);

    const file = join(tmp.dir, 'jumprelu.safetensors');
    writeSae(file, weights, { architecture: 'jumprelu', hook_name: 'blocks.0.hook_resid_post', model_name: 'toy', metrics, seed: 3 });
    const spec = await loadSae(file);
    expect(spec).toMatchObject({ format: 'linguascope', architecture: 'jumprelu', k: null, dIn: 16, dSae: 48, applyBDecToInput: false, normalize: 'none', averageL0: metrics.l0 });

    // The analysis's encoder on raw activations vs the training graph's f on s·x with the
    // parameters as trained: f_train = s · acts_file, the same features active; and the reported
    // metrics recomputed from the analysis encoder's own reconstruction.
    const rows = 1000;
    const raw = held.x;
    const ge = new Graph('encode');
    const root = join(file, '..');
    const encoded = saeGraph(ge.input('x', 'float32', [rows, 16]), spec, root, 'sae');
    ge.output(encoded.acts, 'acts');
    ge.output(encoded.recon, 'recon');
    const enc = await EngineSession.create(ge.toModel(), { provider: 'cpu', externalDataFolder: root });
    const gt = new Graph('train-forward');
    const p = jumpReluParams(gt, 16, 48);
    gt.output(jumpReluLoss(gt.input('x', 'float32', [rows, 16]), p, gt.input('l0_coefficient', 'float32', []), TOY.bandwidth).features, 'features');
    const fwd = await EngineSession.create(gt.toModel(), { provider: 'cpu' });
    try {
      const out = await enc.run({ x: { dtype: 'float32', dims: [rows, 16], data: raw } });
      const acts = out.acts.data as Float32Array;
      const recon = out.recon.data as Float32Array;
      const f = (await fwd.run({ x: { dtype: 'float32', dims: [rows, 16], data: raw.map((v) => v * scale) }, l0_coefficient: scalar('float32', 0), ...trained })).features.data as Float32Array;
      const peak = f.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let active = 0;
      for (let i = 0; i < f.length; i++) {
        if (acts[i] > 0 !== f[i] > 0) expect.fail(`feature ${i % 48} of row ${Math.floor(i / 48)}: file ${acts[i]}, training graph ${f[i]}`);
        if (Math.abs(acts[i] * scale - f[i]) > 1e-5 * peak) expect.fail(`feature ${i % 48} of row ${Math.floor(i / 48)}: file ${acts[i]} · s, training graph ${f[i]}`);
        if (f[i] > 0) active++;
      }
      expect(active / rows).toBeCloseTo(metrics.l0, 2);
      const mean = new Float64Array(16);
      for (let i = 0; i < raw.length; i++) mean[i % 16] += raw[i] / rows;
      let sse = 0;
      let variance = 0;
      for (let i = 0; i < raw.length; i++) {
        sse += (raw[i] - recon[i]) ** 2;
        variance += (raw[i] - mean[i % 16]) ** 2;
      }
      expect(1 - sse / variance).toBeCloseTo(metrics.explained_variance, 3);
    } finally {
      await enc.release();
      await fwd.release();
    }
  }, 180_000);

  it('λ controls L0: a larger L0 coefficient gives a sparser SAE', async () => {
    const train = sparseToy(6000, 1).x;
    const held = sparseToy(1000, 2).x;
    const l0 = [];
    for (const l0Coefficient of [0.003, 0.03, 0.3]) l0.push((await trainJumpReluSae(train, 16, { ...TOY, l0Coefficient }, runtime, held)).metrics.l0);
    expect(l0[0]).toBeGreaterThan(l0[1] + 1);
    expect(l0[1]).toBeGreaterThan(l0[2]);
  }, 180_000);
});

describe('bad settings are refused by name before any work', () => {
  const x = sparseToy(300, 1).x;
  it('a cancelled run ends with CANCELLED', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(trainJumpReluSae(x, 16, TOY, runtime, x, undefined, abort.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });
  const cases: [string, Partial<JumpReluTrainingOptions>][] = [
    ['l0Coefficient', { l0Coefficient: -0.1 }],
    ['l0Coefficient', { l0Coefficient: Number.NaN }],
    ['l0Coefficient', { l0Coefficient: Number.POSITIVE_INFINITY }],
    ['bandwidth', { bandwidth: 0 }],
    ['bandwidth', { bandwidth: -1e-3 }],
    ['bandwidth', { bandwidth: Number.NaN }],
    ['initialThreshold', { initialThreshold: 0 }],
    ['initialThreshold', { initialThreshold: Number.POSITIVE_INFINITY }],
    ['l0WarmupSteps', { l0WarmupSteps: -1 }],
    ['l0WarmupSteps', { l0WarmupSteps: 2.5 }],
    ['width', { width: 0 }],
    ['width', { width: -4 }],
    ['width', { width: 1.5 }],
    ['width', { width: Number.NaN }],
    ['steps', { steps: 0 }],
    ['batch', { batch: 0 }],
    ['lr', { lr: 0 }],
    ['lr', { lr: Number.NaN }],
    ['seed', { seed: -1 }],
    ['l0Coefficient', { l0Coefficient: '0.1' as unknown as number }],
  ];
  it.each(cases)('%s = %o', async (setting, change) => {
    await expect(trainJumpReluSae(x, 16, { ...TOY, ...change }, runtime, x)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
  });

  it('writeSae of a jumprelu SAE without its threshold is refused, and writes nothing', () => {
    const file = join(tmp.dir, 'no-threshold.safetensors');
    const t = (dims: number[]): HostTensor => ({ dtype: 'float32', dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
    const weights = { W_enc: t([16, 4]), W_dec: t([4, 16]), b_enc: t([4]), b_dec: t([16]) };
    const metrics = { explained_variance: 0, l0: 0, dead_features: 4, final_loss: 0 };
    expect(() => writeSae(file, weights, { architecture: 'jumprelu', hook_name: 'blocks.0.hook_resid_post', model_name: 'toy', metrics, seed: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { setting: 'weights', missing: ['threshold'] } }));
    expect(existsSync(file)).toBe(false);
  });

  const poisoned = (v: number, at: number) => {
    const y = x.slice();
    y[at] = v;
    return y;
  };
  it.each([
    ['NaN in the activations', poisoned(Number.NaN, 16 * 37 + 5), x, 'activations', /row 37 holds NaN/],
    ['+Infinity in the activations', poisoned(Number.POSITIVE_INFINITY, 3), x, 'activations', /row 0 holds Infinity/],
    ['NaN in the evaluation activations', x, poisoned(Number.NaN, 16 * 299), 'evaluation activations', /row 299 holds NaN/],
    ['activations that are all 0', new Float32Array(x.length), x, 'activations', /must not all be 0/],
    ['a partial vector', x.subarray(0, x.length - 3), x, 'activations', /at least/],
    ['no evaluation activations', x, new Float32Array(0), 'evaluation activations', /whole vectors/],
    ['fewer rows than a batch', x.subarray(0, 16 * 100), x, 'activations', /at least 128/],
  ])('%s', async (_label, train, evalX, setting, message) => {
    const error = await trainJumpReluSae(train, 16, TOY, runtime, evalX).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
    expect((error as Error).message).toMatch(message);
  });
});

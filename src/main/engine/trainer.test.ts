// The engine trains: a two-layer MLP on a toy regression reaches a stated loss, and a run that
// stops, saves its state and resumes ends bit-identical to an uninterrupted one.
import { describe, expect, it } from 'vitest';
import { rng } from '../../../test/helpers/gradcheck';
import { Graph } from './graph';
import { add, mul, sub, tanh } from './ops/elementwise';
import { matmul } from './ops/linalg';
import { reduceMean } from './ops/reduce';
import { ADAMW_DEFAULTS } from './optim';
import type { HostTensor } from './session';
import { Trainer } from './trainer';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { join } from 'node:path';
import { tempDir } from '../../../test/helpers/temp';

const N = 64;
const H = 32;
// y = sin(3x) on x in [-1, 1]: smooth, needs the hidden layer.
const xs = Float32Array.from({ length: N }, (_, i) => -1 + (2 * i) / (N - 1));
const ys = Float32Array.from(xs, (x) => Math.sin(3 * x));
const batch: Record<string, HostTensor> = { x: { dtype: 'float32', dims: [N, 1], data: xs }, y: { dtype: 'float32', dims: [N, 1], data: ys } };

function initial(seed: number): Record<string, HostTensor> {
  const random = rng(seed);
  const uniform = (n: number, scale: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  return {
    w1: { dtype: 'float32', dims: [1, H], data: uniform(H, 1) },
    b1: { dtype: 'float32', dims: [H], data: uniform(H, 0.5) },
    w2: { dtype: 'float32', dims: [H, 1], data: uniform(H, 1 / Math.sqrt(H)) },
    b2: { dtype: 'float32', dims: [1], data: new Float32Array(1) },
  };
}

function mlpTrainer(seed = 3): Promise<Trainer> {
  const g = new Graph('mlp');
  const x = g.input('x', 'float32', [N, 1]);
  const y = g.input('y', 'float32', [N, 1]);
  const w1 = g.input('w1', 'float32', [1, H]);
  const b1 = g.input('b1', 'float32', [H]);
  const w2 = g.input('w2', 'float32', [H, 1]);
  const b2 = g.input('b2', 'float32', [1]);
  const pred = add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2);
  const err = sub(pred, y);
  const loss = reduceMean(mul(err, err), [0, 1], false);
  const params = [{ value: w1, decay: true }, { value: b1, decay: false }, { value: w2, decay: true }, { value: b2, decay: false }];
  return Trainer.create(g, loss, params, initial(seed), { ...ADAMW_DEFAULTS, weightDecay: 1e-4 });
}

describe('training with the engine', () => {
  it('fits y = sin(3x) with a 1-32-1 tanh MLP: MSE below 2e-3 within 600 AdamW steps', async () => {
    const trainer = await mlpTrainer();
    try {
      const first = await trainer.train(batch, 1e-2);
      let last = first;
      for (let i = 1; i < 600; i++) last = await trainer.train(batch, 1e-2);
      expect(first.loss).toBeGreaterThan(0.1);
      expect(last.loss).toBeLessThan(2e-3);
      expect(last.gradNorm).toBeGreaterThan(0);
    } finally {
      await trainer.release();
    }
  });

  it('resumes bit-identically from a checkpoint file (safetensors)', async () => {
    const tmp = tempDir();
    const straight = await mlpTrainer();
    const interrupted = await mlpTrainer();
    const resumed = await mlpTrainer(99); // different init: everything must come from the snapshot
    try {
      for (let i = 0; i < 20; i++) await straight.train(batch, 5e-3);
      for (let i = 0; i < 10; i++) await interrupted.train(batch, 5e-3);
      const file = join(tmp.dir, 'step-10.safetensors');
      saveCheckpoint(file, interrupted.snapshot());
      resumed.restore(loadCheckpoint(file));
      for (let i = 0; i < 10; i++) await resumed.train(batch, 5e-3);
      const a = straight.snapshot();
      const b = resumed.snapshot();
      expect(b.step).toBe(20);
      for (const name of Object.keys(a.tensors)) {
        expect(Buffer.from(b.tensors[name].data.buffer).equals(Buffer.from(a.tensors[name].data.buffer)), name).toBe(true);
      }
    } finally {
      await Promise.all([straight.release(), interrupted.release(), resumed.release()]);
      tmp.cleanup();
    }
  });
});

// TopK SAE training on a toy whose ground truth is known: data are sparse combinations (3 of 24
// directions) in 16 dimensions; a 48-wide TopK (k = 4) SAE reaches 0.9 explained variance on
// held-out data, and what it writes loads and encodes like any other SAE.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { randomTensor } from '../models/random-model';
import { loadSae } from './sae';
import { trainTopKSae, writeSae } from './train';

const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

function toy(n: number, seed: number): Float32Array {
  const d = 16;
  const atoms = randomTensor(24 * d, 99, 1);
  const pick = randomTensor(n * 6, seed, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < 3; a++) {
      const atom = Math.floor((pick[i * 6 + a] / (2 * Math.sqrt(3)) + 0.5) * 24) % 24;
      const scale = 1 + Math.abs(pick[i * 6 + 3 + a]);
      for (let j = 0; j < d; j++) x[i * d + j] += scale * atoms[atom * d + j];
    }
  }
  return x;
}

it('reaches explained variance >= 0.9 on held-out toy data and writes a loadable SAE', async () => {
  const { weights, metrics } = await trainTopKSae(toy(4000, 1), 16, { width: 48, k: 4, steps: 600, batch: 128, lr: 1e-2, seed: 3 }, runtime, toy(1000, 2));
  expect(metrics.explained_variance).toBeGreaterThanOrEqual(0.9);
  expect(metrics.l0).toBeLessThanOrEqual(4);
  const file = join(tmp.dir, 'sae.safetensors');
  writeSae(file, weights, { hook_name: 'blocks.0.hook_resid_post', model_name: 'toy', k: 4, metrics, seed: 3 });
  const spec = await loadSae(file);
  expect(spec).toMatchObject({ format: 'linguascope', architecture: 'topk', k: 4, dIn: 16, dSae: 48, applyBDecToInput: true });
}, 120_000);

// The settings check is shared with JumpReLU training (train-jumprelu.test.ts covers its classes);
// TopK's own setting, k, and data that are not finite numbers are refused by name before any work.
it.each([
  ['k', { k: 0 }, toy(300, 1)],
  ['k', { k: 49 }, toy(300, 1)],
  ['k', { k: 2.5 }, toy(300, 1)],
  ['width', { width: 0 }, toy(300, 1)],
  ['activations', {}, Float32Array.from(toy(300, 1), (v, i) => (i === 40 ? Number.NaN : v))],
])('TopK: bad %s (%o) is INVALID_ARGUMENT naming it', async (setting, change, x) => {
  await expect(trainTopKSae(x, 16, { width: 48, k: 4, steps: 10, batch: 128, lr: 1e-2, seed: 3, ...change }, runtime, toy(100, 2))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
});

// Token-level codes: readable token texts for byte pieces, and per-token activations equal to a
// plain JavaScript JumpReLU encode of the model's residual stream.
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { readTensorAsFloat32 } from '../io/safetensors';
import { loadTokenizer, tokenizeText } from '../io/tokenizer';
import { LoadedModel, openModelFolder } from '../models/model';
import { makeRandomModel } from '../models/random-model';
import { makeRandomSaes } from './random-saes';
import { loadSae } from './sae';
import { tokenCodes } from './token-codes';

const tmp = tempDir();
const runtime = new RuntimeHost();
let modelDir = '';
let saeFile = '';

beforeAll(async () => {
  modelDir = (await makeRandomModel({ arch: 'gemma2', preset: 'tiny', dtype: 'f32', out: join(tmp.dir, 'model'), seed: 9 })).path;
  const folder = openModelFolder(modelDir);
  const tok = loadTokenizer(modelDir);
  const made = await makeRandomSaes(folder, runtime, { width: 64, layers: [2], architecture: 'jumprelu', seed: 4, outDir: join(tmp.dir, 'saes'), sample: [tok.encode('The quick brown fox jumps over the lazy dog, again and again.', true)] });
  saeFile = made.files[0];
}, 120_000);
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

it('merges byte pieces into characters and matches a direct JumpReLU encode', async () => {
  const folder = openModelFolder(modelDir);
  const spec = await loadSae(saeFile);
  const tokenizer = loadTokenizer(modelDir);
  const text = 'Hé 中!';
  const out = await tokenCodes(folder, spec, tokenizeText(tokenizer, text, true), runtime, { top: 3, features: [0, 5, 63] });
  // BOS, H, é (2 bytes), space, 中 (3 bytes), !
  expect(out.tokens.map((t) => t.text)).toEqual(['<bos>', 'H', '', 'é', ' ', '', '', '中', '!']);
  expect(out.layer).toBe(2);

  const ids = tokenizer.encode(text, true);
  const model = await LoadedModel.load(folder, runtime, { hooks: ['blocks.2.hook_resid_post'], logits: false });
  const x = (await model.run([ids])).outputs['blocks.2.hook_resid_post'].data;
  await model.release();
  const [wEnc, bEnc, threshold] = [spec.tensors.W_enc, spec.tensors.b_enc, spec.tensors.threshold!].map((t) => readTensorAsFloat32(t));
  const { dIn, dSae } = spec;
  for (const [j, f] of [0, 5, 63].entries()) {
    ids.forEach((_, t) => {
      let pre = bEnc[f];
      for (let i = 0; i < dIn; i++) pre += x[t * dIn + i] * wEnc[i * dSae + f];
      const want = pre > threshold[f] ? Math.max(pre, 0) : 0;
      expect(out.features[j].values[t]).toBeCloseTo(want, 4);
    });
  }
  // The top lists are sorted and positive.
  for (const t of out.tokens) {
    t.top.forEach((e, i) => {
      expect(e.value).toBeGreaterThan(0);
      if (i) expect(e.value).toBeLessThanOrEqual(t.top[i - 1].value);
    });
  }
});

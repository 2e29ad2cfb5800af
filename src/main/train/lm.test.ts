// A short causal-LM training run on the engine lowers the loss on text it sees; the trained
// weights load back as a model folder that the inference path runs; a resumed run continues
// from its checkpoint bit-identically.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { parseModelConfig } from '../models/config';
import { byteTokenizerFiles } from '../models/byte-tokenizer';
import { LoadedModel, openModelFolder } from '../models/model';
import { LM_DEFAULTS, trainLm, writeModelFolder } from './lm';

const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

const CONFIG = {
  architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', hidden_size: 32, intermediate_size: 64, num_attention_heads: 2, num_key_value_heads: 1,
  head_dim: 16, num_hidden_layers: 2, vocab_size: 259, max_position_embeddings: 64, rms_norm_eps: 1e-6, rope_theta: 10000, sliding_window: 8,
  query_pre_attn_scalar: 16, attn_logit_softcapping: 50, final_logit_softcapping: 30, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0,
};
const text = 'the cat sat on the mat. the dog sat on the log. ';
const bytes = [...new TextEncoder().encode(text.repeat(8))].map((b) => b + 3);
const window = (start: number) => [2, ...bytes.slice(start, start + 32)];
const options = { ...LM_DEFAULTS, steps: 40, batch: 4, seqLen: 33, lr: 1e-2, warmup: 5, checkpointEvery: 20 };
const batchAt = (step: number) => Array.from({ length: 4 }, (_, i) => window(((step * 4 + i) * 7) % (bytes.length - 40)));

it('lowers the loss, and the trained model runs through the inference path', async () => {
  const config = parseModelConfig(CONFIG);
  const { result, weights } = await trainLm({ config, options, batchAt, evalSets: { seen: [window(3), window(11)] }, runtime, checkpointDir: join(tmp.dir, 'ckpt') });
  const first = result.losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = result.losses.slice(-5).reduce((a, b) => a + b) / 5;
  // ln(259) = 5.56 at the start; the repeated sentence is learned quickly.
  expect(first).toBeGreaterThan(4.5);
  expect(last).toBeLessThan(first - 2);
  expect(result.evalLoss.seen).toBeLessThan(3);
  const { tokenizer, config: tokenizerConfig } = byteTokenizerFiles();
  writeModelFolder(join(tmp.dir, 'model'), CONFIG, weights, { 'tokenizer.json': JSON.stringify(tokenizer), 'tokenizer_config.json': JSON.stringify(tokenizerConfig) });
  const folder = openModelFolder(join(tmp.dir, 'model'));
  const model = await LoadedModel.load(folder, runtime, { hooks: [], logits: true });
  const out = await model.run([window(0)]);
  await model.release();
  // The model predicts the next byte of the memorised sentence more often than not.
  const V = 259;
  const logits = out.outputs.logits.data;
  let right = 0;
  for (let t = 0; t < 32; t++) {
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[t * V + v] > logits[t * V + best]) best = v;
    if (best === window(0)[t + 1]) right++;
  }
  expect(right).toBeGreaterThan(16);
}, 120_000);

it('resumes from its checkpoint and ends where an uninterrupted run ends', async () => {
  const config = parseModelConfig(CONFIG);
  const short = { ...options, steps: 12, checkpointEvery: 6 };
  const full = await trainLm({ config, options: short, batchAt, evalSets: {}, runtime, checkpointDir: join(tmp.dir, 'full') });
  const controller = new AbortController();
  const dir = join(tmp.dir, 'resumed');
  await expect(
    trainLm({ config, options: short, batchAt, evalSets: {}, runtime, checkpointDir: dir, signal: controller.signal, onProgress: (p) => p.step === 7 && controller.abort() }),
  ).rejects.toMatchObject({ code: 'CANCELLED' });
  const resumed = await trainLm({ config, options: short, batchAt, evalSets: {}, runtime, checkpointDir: dir, resume: true });
  for (const [name, t] of Object.entries(full.weights)) expect(Array.from(resumed.weights[name].data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
}, 120_000);

// A model folder whose weights do not match its config, or hold NaN/Inf, is refused naming the
// file and tensor (or, with finite weights that overflow, the layer) — never run into silent
// numbers, never blamed on the SAE read after it. Folders are copies of the HF fixtures
// (test/fixtures/models, scripts/reference/make_model_fixtures.py) with one thing changed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { hfConfigJson } from '../io/config-writer';
import { readSafetensorsHeader, readTensorBytes, writeSafetensors, type TensorToWrite } from '../io/safetensors';
import { nonFiniteIn } from '../io/safetensors-scan';
import { SaeExtractor } from '../sae/extract';
import { loadSae } from '../sae/sae';
import { LoadedModel, openModelFolder } from './model';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

let copies = 0;
/** A copy of a fixture model folder with its tensors (raw bytes) and config changed. */
function variant(fixture: string, change: { tensors?: (t: TensorToWrite[]) => void; config?: (c: Record<string, unknown>) => void }): string {
  const src = join(fixtures, 'models', fixture);
  const dir = join(tmp.dir, `${fixture}-${copies++}`);
  const header = readSafetensorsHeader(join(src, 'model.safetensors'));
  const tensors: TensorToWrite[] = [...header.tensors.values()].map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e).slice() }));
  change.tensors?.(tensors);
  const config = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'));
  change.config?.(config);
  writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
  writeFileSync(join(dir, 'config.json'), hfConfigJson(config));
  return dir;
}

/** Sets element `i` of a stored F32/BF16 tensor to `value` (BF16: the top half of the float32). */
function poke(tensors: TensorToWrite[], name: string, i: number, value: number): void {
  const t = tensors.find((x) => x.name === name)!;
  const bytes = t.data as Uint8Array;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (t.dtype === 'F32') view.setFloat32(i * 4, value, true);
  else {
    const f = new DataView(new ArrayBuffer(4));
    f.setFloat32(0, value, true);
    view.setUint16(i * 2, f.getUint16(2, true), true);
  }
}

const zeros = (name: string, shape: number[]): TensorToWrite => ({ name, dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

describe('weight files holding tensors the graph never reads', () => {
  it.each([
    ['llama', 'an o_proj bias the config does not declare (attention_bias false)', zeros('model.layers.1.self_attn.o_proj.bias', [64])],
    ['llama', 'MLP biases the config does not declare (mlp_bias false)', zeros('model.layers.0.mlp.down_proj.bias', [64])],
    ['qwen2', 'an o_proj bias Qwen2 does not have', zeros('model.layers.0.self_attn.o_proj.bias', [64])],
    ['gemma2', 'an lm_head beside tied embeddings', zeros('lm_head.weight', [256, 64])],
    ['mistral', 'a layer beyond num_hidden_layers', zeros('model.layers.3.input_layernorm.weight', [64])],
    ['mistral', 'a tensor of another architecture', zeros('model.layers.0.self_attn.q_norm.weight', [16])],
  ])('%s: %s is refused naming it', (fixture, _, extra) => {
    const dir = variant(fixture, { tensors: (t) => t.push(extra) });
    expect(() => openModelFolder(dir)).toThrow(
      expect.objectContaining({ code: 'WEIGHTS_INVALID', message: expect.stringContaining(`'${extra.name}'`), details: expect.objectContaining({ tensor: extra.name, file: join(dir, 'model.safetensors') }) }),
    );
  });

  it('biased weights under a config that lost attention_bias/mlp_bias are refused, not run without them', () => {
    const dir = variant('llama-bias', { config: (c) => void delete c.attention_bias });
    expect(() => openModelFolder(dir)).toThrow(expect.objectContaining({ code: 'WEIGHTS_INVALID', details: expect.objectContaining({ tensor: expect.stringMatching(/self_attn\.[qkvo]_proj\.bias$/) }) }));
    const noMlp = variant('llama-bias', { config: (c) => (c.mlp_bias = false) });
    expect(() => openModelFolder(noMlp)).toThrow(expect.objectContaining({ code: 'WEIGHTS_INVALID', details: expect.objectContaining({ tensor: expect.stringMatching(/mlp\.(gate|up|down)_proj\.bias$/) }) }));
  });

  it('an lm_head beside tied embeddings says why it is not read', () => {
    const dir = variant('gemma2', { tensors: (t) => t.push(zeros('lm_head.weight', [256, 64])) });
    expect(() => openModelFolder(dir)).toThrow(/tie_word_embeddings is true/);
  });

  it('RoPE inverse-frequency buffers (the listed ignorable tensors) are accepted', () => {
    const dir = variant('llama', { tensors: (t) => t.push(zeros('model.layers.0.self_attn.rotary_emb.inv_freq', [8]), zeros('model.rotary_emb.inv_freq', [8])) });
    expect(openModelFolder(dir).config.arch).toBe('llama');
  });
});

describe('config.json text that is not a JSON object', () => {
  // Python's json.dumps writes NaN and Infinity, which JSON (and JSON.parse) does not have.
  it.each([
    ['a NaN literal', '{"architectures": ["LlamaForCausalLM"], "rms_norm_eps": NaN}', /not valid JSON/],
    ['an Infinity literal', '{"architectures": ["LlamaForCausalLM"], "rope_theta": Infinity}', /not valid JSON/],
    ['truncated text', '{"architectures": ["LlamaForCausalLM"], "hidden_size": 6', /not valid JSON/],
    ['an array', '[{"architectures": ["LlamaForCausalLM"]}]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
  ])('%s is WEIGHTS_INVALID', (_, text, message) => {
    const dir = variant('llama', {});
    writeFileSync(join(dir, 'config.json'), text);
    expect(() => openModelFolder(dir)).toThrow(expect.objectContaining({ code: 'WEIGHTS_INVALID', message: expect.stringMatching(message) }));
  });
});

describe('NaN and Inf in a model are named: file, tensor, layer', () => {
  const phrases = [[5, 9, 13, 200, 17], [7, 8]];

  // Element 5*64 + 3 of a matrix is in row 5 (token 5 is in the phrases, so its embedding is read).
  it.each([
    ['llama', 'model.layers.1.mlp.up_proj.weight', 5 * 64 + 3, NaN, 1],
    ['mistral', 'model.layers.0.self_attn.k_proj.weight', 5 * 64 + 3, Infinity, 0],
    ['qwen2', 'model.layers.2.self_attn.q_proj.bias', 3, -Infinity, 2],
    ['gemma2-bf16', 'model.layers.3.post_feedforward_layernorm.weight', 3, NaN, 3],
    ['llama-bias', 'model.layers.1.mlp.down_proj.bias', 3, NaN, 1],
    ['gemma2', 'model.embed_tokens.weight', 5 * 64 + 3, NaN, null],
    ['llama', 'lm_head.weight', 5 * 64 + 3, NaN, null],
  ] as const)('%s: %s[%s] = %s', async (fixture, tensor, index, value, layer) => {
    const dir = variant(fixture, { tensors: (t) => poke(t, tensor, index, value) });
    const folder = openModelFolder(dir);
    const model = await LoadedModel.load(folder, runtime, { hooks: ['blocks.0.hook_resid_post'], logits: true });
    try {
      await expect(model.run(phrases)).rejects.toMatchObject({
        code: 'WEIGHTS_INVALID',
        message: expect.stringMatching(new RegExp(`^model\\.safetensors: model tensor '${tensor.replace(/\./g, '\\.')}' holds 1 non-finite value\\(s\\) \\(${Number.isNaN(value) ? 'NaN' : value}`)),
        details: { file: join(dir, 'model.safetensors'), tensor, layer },
      });
    } finally {
      await model.release();
    }
  }, 60_000);

  it('finite weights that overflow float32 name the layer and sub-block', async () => {
    // input_layernorm x 1e30: q·k reaches ~1e60 in layer 1's attention, which float32 cannot hold.
    const dir = variant('llama', { tensors: (t) => Array.from({ length: 64 }, (_, i) => poke(t, 'model.layers.1.input_layernorm.weight', i, 1e30)) });
    expect(nonFiniteIn(openModelFolder(dir).index.tensors.get('model.layers.1.input_layernorm.weight')!)).toBeNull();
    const model = await LoadedModel.load(openModelFolder(dir), runtime, { hooks: [], logits: true });
    try {
      await expect(model.run(phrases)).rejects.toMatchObject({ code: 'WEIGHTS_INVALID', message: expect.stringContaining("in layer 1's attention from finite weights"), details: { layer: 1, file: dir } });
    } finally {
      await model.release();
    }
  }, 60_000);

  it('a NaN in the model is blamed on the model, not on the healthy SAE read after it', async () => {
    const dir = variant('gemma2', { tensors: (t) => poke(t, 'model.layers.0.mlp.down_proj.weight', 77, NaN) });
    const sae = await loadSae(join(fixtures, 'saes', 'saelens', 'jumprelu'));
    const extractor = await SaeExtractor.load(openModelFolder(dir), [sae], runtime);
    try {
      const error = await extractor.run(phrases).then(() => null, (e: unknown) => e);
      expect(error).toMatchObject({ code: 'WEIGHTS_INVALID', details: { tensor: 'model.layers.0.mlp.down_proj.weight', file: join(dir, 'model.safetensors') } });
      expect((error as Error).message).not.toContain(sae.source);
    } finally {
      await extractor.release();
    }
  }, 60_000);

  it('the scan finds every non-finite bit pattern of each float dtype, and nothing in finite data', () => {
    const file = join(tmp.dir, 'scan.safetensors');
    const f32 = new Float32Array([1, -0, 3.4e38, 1e-45, NaN, -Infinity, 2]);
    const f64 = new Float64Array([1e308, -Infinity, 5e-324, NaN]);
    const f16 = new Uint16Array([0x3c00, 0x7bff, 0xfc00, 0x7e00, 0x0001]); // 1, 65504, -inf, NaN, subnormal
    const bf16 = new Uint16Array([0x3f80, 0x7f7f, 0xff81, 0x7f80]); // 1, max, NaN (signalling, negative), inf
    writeSafetensors(file, [
      { name: 'f32', dtype: 'F32', shape: [7], data: f32 },
      { name: 'f64', dtype: 'F64', shape: [4], data: f64 },
      { name: 'f16', dtype: 'F16', shape: [5], data: f16 },
      { name: 'bf16', dtype: 'BF16', shape: [4], data: bf16 },
      { name: 'fine', dtype: 'F32', shape: [3], data: new Float32Array([3.4028234e38, -3.4028234e38, 0]) },
    ]);
    const h = readSafetensorsHeader(file);
    expect(nonFiniteIn(h.tensors.get('f32')!)).toEqual({ count: 2, first: 4, value: 'NaN' });
    expect(nonFiniteIn(h.tensors.get('f64')!)).toEqual({ count: 2, first: 1, value: '-Infinity' });
    expect(nonFiniteIn(h.tensors.get('f16')!)).toEqual({ count: 2, first: 2, value: '-Infinity' });
    expect(nonFiniteIn(h.tensors.get('bf16')!)).toEqual({ count: 2, first: 2, value: 'NaN' });
    expect(nonFiniteIn(h.tensors.get('fine')!)).toBeNull();
  });
});

it('a healthy model runs with the guard and returns only what was asked for', async () => {
  const dir = join(fixtures, 'models', 'llama');
  const model = await LoadedModel.load(openModelFolder(dir), runtime, { hooks: ['blocks.1.hook_resid_mid'], logits: false });
  try {
    const out = await model.run([[1, 2, 3]]);
    expect(Object.keys(out.outputs)).toEqual(['blocks.1.hook_resid_mid']);
  } finally {
    await model.release();
  }
});

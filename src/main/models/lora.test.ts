// LoRA adapters applied in our forward graph against PEFT: tiny random Gemma-2 and Llama bases
// (test/fixtures/models) with PEFT-made adapters holding non-zero random A and B, saved by
// save_pretrained and run through PEFT (scripts/reference/make_peft_fixtures.py, peft 0.21.2,
// transformers 5.24, torch 2.15, eager, float32). Every layer's resid_pre/mid/post and the logits
// must match PEFT's within 1e-4 on the real tokens of a right-padded batch of three phrases.
// Then every class of adapter we must refuse, each with a WEIGHTS_INVALID/NOT_FOUND naming it.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { RuntimeHost } from '../engine/runtime-host';
import { openPeftAdapter } from '../io/peft-adapter';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, writeSafetensors } from '../io/safetensors';
import { hookName, HOOK_KINDS } from './forward';
import { LoadedModel, openModelFolder } from './model';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const TOLERANCE = 1e-4;

/** The reference batch (real tokens per phrase) and (B, T, W) outputs at the real tokens. */
function reference(file: string) {
  const header = readSafetensorsHeader(file);
  const ids = new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer);
  const mask = new BigInt64Array(readTensorBytes(header.tensors.get('attention_mask')!).slice().buffer);
  const [B, T] = header.tensors.get('input_ids')!.shape;
  const phrases = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => b * T + t).filter((i) => mask[i] === 1n).map((i) => Number(ids[i])));
  const realRows = (name: string) => {
    const entry = header.tensors.get(name)!;
    const W = entry.shape[2];
    const all = readTensorAsFloat32(entry);
    const rows: Float32Array[] = [];
    phrases.forEach((p, b) => p.forEach((_, t) => rows.push(all.subarray((b * T + t) * W, (b * T + t + 1) * W))));
    const out = new Float32Array(rows.length * W);
    rows.forEach((r, i) => out.set(r, i * W));
    return out;
  };
  return { phrases, realRows };
}

const maxAbs = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

describe('LoRA adapter vs PEFT', () => {
  const runtime = new RuntimeHost();
  afterAll(() => runtime.close());

  it.each([
    ['gemma2-lora', 'gemma2', 56],
    ['llama-lora-layers', 'llama', 28],
    ['llama-rslora', 'llama', 10],
  ])('%s: every layer resid_pre/mid/post and the logits within 1e-4', async (name, base, tensors) => {
    const folder = openModelFolder(join(fixtures, 'models', base));
    const adapter = openPeftAdapter(join(fixtures, 'adapters', name), folder.config);
    expect(adapter.modules.size * 2).toBe(tensors);
    const ref = reference(join(fixtures, 'adapters', name, 'reference.safetensors'));
    const baseRef = reference(join(fixtures, 'models', base, 'reference.safetensors'));
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat();
    const model = await LoadedModel.load(folder, runtime, { hooks, logits: true }, undefined, undefined, adapter);
    try {
      const result = await model.run(ref.phrases);
      const errors: Record<string, number> = {};
      for (const out of [...hooks, 'logits']) errors[out] = maxAbs(result.outputs[out].data, ref.realRows(out));
      const worst = Math.max(...Object.values(errors));
      console.log(`${name}: max abs error ${worst.toExponential(2)} (logits ${errors.logits.toExponential(2)})`);
      expect(worst, JSON.stringify(errors)).toBeLessThanOrEqual(TOLERANCE);
      // The adapter really moves the outputs (the reference is not the base's).
      expect(maxAbs(result.outputs.logits.data, baseRef.realRows('logits'))).toBeGreaterThan(1e-2);
    } finally {
      await model.release();
    }
  });

  it('rsLoRA scales by alpha/sqrt(r), plain LoRA by alpha/r', () => {
    const llama = openModelFolder(join(fixtures, 'models', 'llama')).config;
    expect(openPeftAdapter(join(fixtures, 'adapters', 'llama-rslora'), llama).scale).toBe(4);
    expect(openPeftAdapter(join(fixtures, 'adapters', 'llama-lora-layers'), llama).scale).toBe(2);
  });
});

describe('adapters we refuse', () => {
  const llama = openModelFolder(join(fixtures, 'models', 'llama')).config;
  const gemma = openModelFolder(join(fixtures, 'models', 'gemma2')).config;
  const source = join(fixtures, 'adapters', 'llama-lora-layers');
  const tmp = mkdtempSync(join(tmpdir(), 'lora-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  /** A copy of the llama adapter with its config edited and/or its tensors rewritten. */
  const variant = (edit: (cfg: Record<string, unknown>) => void = () => {}, tensors?: (names: string[]) => Map<string, string | null>) => {
    const dir = join(tmp, String(n++));
    mkdirSync(dir);
    const cfg = JSON.parse(readFileSync(join(source, 'adapter_config.json'), 'utf8'));
    edit(cfg);
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
    if (tensors) {
      const header = readSafetensorsHeader(join(source, 'adapter_model.safetensors'));
      const rename = tensors([...header.tensors.keys()]);
      const out = [...header.tensors.values()]
        .filter((e) => rename.get(e.name) !== null)
        .map((e) => ({ name: rename.get(e.name) ?? e.name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) }));
      writeSafetensors(join(dir, 'adapter_model.safetensors'), out, { format: 'pt' });
    } else {
      copyFileSync(join(source, 'adapter_model.safetensors'), join(dir, 'adapter_model.safetensors'));
    }
    return dir;
  };
  const refused = (dir: string, config = llama): ApiError => {
    try {
      openPeftAdapter(dir, config);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }
    throw new Error(`${dir} was accepted`);
  };

  it('the untouched copy is accepted (the variants below differ only in what they name)', () => {
    expect(openPeftAdapter(variant(), llama).modules.size).toBe(14);
  });

  it('a misnamed key (PEFT only warns and runs with B = 0) is refused, naming the key', () => {
    const key = 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight';
    const e = refused(variant(undefined, () => new Map([[key, key.replace('q_proj', 'query')]])));
    expect(e.code).toBe('WEIGHTS_INVALID');
    expect(e.message).toContain(key);
  });

  it('an extra tensor the graph would not read is refused, naming it', () => {
    const key = 'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight';
    const e = refused(variant(undefined, () => new Map([['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', null]])));
    expect(e.message).toContain('layers.0.self_attn.q_proj.lora_A.weight');
    const dir = variant();
    const header = readSafetensorsHeader(join(source, 'adapter_model.safetensors'));
    const all = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readTensorBytes(t) }));
    const a0 = all.find((t) => t.name.includes('layers.0.self_attn.q_proj.lora_A'))!;
    writeSafetensors(join(dir, 'adapter_model.safetensors'), [...all, { ...a0, name: key }], { format: 'pt' });
    const extra = refused(dir);
    expect(extra.code).toBe('WEIGHTS_INVALID');
    expect(extra.message).toContain(key);
    expect(extra.message).toContain('would not be read');
  });

  it.each([
    ['use_dora', true],
    ['bias', 'all'],
    ['bias', 'lora_only'],
    ['modules_to_save', ['lm_head']],
    ['fan_in_fan_out', true],
    ['rank_pattern', { q_proj: 8 }],
    ['alpha_pattern', { q_proj: 16 }],
    ['lora_bias', true],
    ['layer_replication', [[0, 2]]],
    ['target_parameters', ['mlp.experts.down_proj']],
    ['some_future_option', 3],
  ])('%s = %j is refused by name', (key, value) => {
    const e = refused(variant((c) => (c[key] = value)));
    expect(e.code).toBe('WEIGHTS_INVALID');
    expect(e.message).toContain(key);
    expect(e.details?.key).toBe(key);
  });

  it.each([
    ['peft_type', 'PREFIX_TUNING'],
    ['r', 0],
    ['r', 2.5],
    ['lora_alpha', -1],
    ['layers_to_transform', [0, 3]],
    ['target_modules', null],
    ['target_modules', ['lm_head']],
    ['target_modules', ['input_layernorm']],
    ['target_modules', '(unclosed'],
  ])('%s = %j is refused, naming the key', (key, value) => {
    const e = refused(variant((c) => (c[key] = value)));
    expect(e.code).toBe('WEIGHTS_INVALID');
    expect(e.details?.key).toBe(key);
  });

  it('a different r than the tensors have is a shape mismatch naming tensor and shapes', () => {
    const e = refused(variant((c) => (c.r = 8)));
    expect(e.message).toMatch(/lora_A\.weight' has shape \[4, 64\], expected \[8, 64\]/);
  });

  it('an adapter made for another model is refused, naming what does not fit', () => {
    // The Gemma-2 fixture has a 4th layer the 3-layer Llama lacks: its tensors are named.
    const e = refused(join(fixtures, 'adapters', 'gemma2-lora'), llama);
    expect(e.code).toBe('WEIGHTS_INVALID');
    expect(e.message).toContain('base_model.model.model.layers.3.');
    expect(e.message).toContain('another model');
    expect(openPeftAdapter(join(fixtures, 'adapters', 'gemma2-lora'), gemma).modules.size).toBe(28);
  });

  it('missing folder, config or weights: WEIGHTS_NOT_FOUND; adapter_model.bin only: refused naming it; bad JSON: WEIGHTS_INVALID', () => {
    expect(refused(join(tmp, 'nowhere')).code).toBe('WEIGHTS_NOT_FOUND');
    const noWeights = variant();
    rmSync(join(noWeights, 'adapter_model.safetensors'));
    expect(refused(noWeights).code).toBe('WEIGHTS_NOT_FOUND');
    writeFileSync(join(noWeights, 'adapter_model.bin'), 'PK');
    const bin = refused(noWeights);
    expect(bin.code).toBe('WEIGHTS_INVALID');
    expect(bin.message).toContain('adapter_model.bin');
    const badJson = variant();
    writeFileSync(join(badJson, 'adapter_config.json'), '{"r": 4,');
    expect(refused(badJson).code).toBe('WEIGHTS_INVALID');
    const noConfig = variant();
    rmSync(join(noConfig, 'adapter_config.json'));
    expect(refused(noConfig).code).toBe('WEIGHTS_NOT_FOUND');
  });

  it('the sha256 changes with either file', () => {
    const a = openPeftAdapter(variant(), llama).sha256;
    expect(openPeftAdapter(variant(), llama).sha256).toBe(a);
    expect(openPeftAdapter(variant((c) => (c.lora_alpha = 16)), llama).sha256).not.toBe(a);
  });
});

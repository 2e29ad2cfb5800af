// The PEFT adapter writer: what it writes our loader reads back to the same forward as the adapter
// held in memory, PEFT loads without a missing/unexpected-key warning and runs to the same numbers
// (scripts/reference/check_written_adapter.py over test/fixtures/adapters/written-llama, whose
// bytes this writer must still produce), and every bad spec is refused before anything is written.
// LINGUASCOPE_WRITE_FIXTURES=1 rewrites the committed folder (then rerun the Python check).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { RuntimeHost } from '../engine/runtime-host';
import type { ModelConfig } from '../models/config';
import { hookName, HOOK_KINDS } from '../models/forward';
import { LoadedModel, openModelFolder, type ModelFolder } from '../models/model';
import { openPeftAdapter, type PeftAdapter } from './peft-adapter';
import { peftConfigJson, writePeftAdapter, type PeftAdapterSpec } from './peft-adapter-writer';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes } from './safetensors';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const WRITTEN = join(fixtures, 'adapters', 'written-llama');
const PEFT_REF = join(fixtures, 'adapters', 'written-llama-peft', 'reference.safetensors');

/** Seeded N(0, 0.1)-ish values (Box–Muller over mulberry32): B is non-zero, or the test is blind. */
function gaussian(seed: number, n: number): Float32Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.1 * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

/** rsLoRA r 4 α 8 (s = 4) on q, v and down of layers 0 and 2 of the tiny Llama. */
function spec(config: ModelConfig): PeftAdapterSpec {
  const r = 4;
  const d = config.hiddenSize;
  const dims: Record<string, [number, number]> = {
    'self_attn.q_proj': [config.numHeads * config.headDim, d],
    'self_attn.v_proj': [config.numKvHeads * config.headDim, d],
    'mlp.down_proj': [d, config.intermediateSize],
  };
  const factors = [0, 2].flatMap((L, i) =>
    Object.entries(dims).map(([part, [out, inp]], j) => ({ module: `model.layers.${L}.${part}`, a: gaussian(100 * i + 2 * j, r * inp), b: gaussian(100 * i + 2 * j + 1, out * r) })),
  );
  return { rank: r, alpha: 8, rslora: true, dropout: 0, targetModules: ['q_proj', 'v_proj', 'down_proj'], layersToTransform: [0, 2], baseModel: 'test/fixtures/models/llama', factors };
}

/** The spec as an adapter held in memory (what training will hold), without any file. */
function inMemory(s: PeftAdapterSpec, config: ModelConfig): PeftAdapter {
  const modules = new Map(
    s.factors.map((f) => {
      const entry = (x: Float32Array, shape: number[], n: string) => ({ name: n, dtype: 'F32' as const, shape, file: '/nowhere', offset: 0, byteLength: x.byteLength, data: new Uint8Array(x.buffer, x.byteOffset, x.byteLength) });
      const inp = f.a.length / s.rank;
      return [f.module, { module: f.module, a: entry(f.a, [s.rank, inp], `${f.module}.A`), b: entry(f.b, [f.b.length / s.rank, s.rank], `${f.module}.B`) }];
    }),
  );
  return { path: '/in-memory', rank: s.rank, alpha: s.alpha, rslora: s.rslora, scale: s.rslora ? s.alpha / Math.sqrt(s.rank) : s.alpha / s.rank, modules, sha256: '' };
}

const maxAbs = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

/** The PEFT reference's batch (real tokens per phrase) and its outputs at the real tokens. */
function reference(file: string) {
  const header = readSafetensorsHeader(file);
  const ids = new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer);
  const mask = new BigInt64Array(readTensorBytes(header.tensors.get('attention_mask')!).slice().buffer);
  const [B, T] = header.tensors.get('input_ids')!.shape;
  const real = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => b * T + t).filter((i) => mask[i] === 1n));
  const phrases = real.map((p) => p.map((i) => Number(ids[i])));
  const rows = (name: string) => {
    const entry = header.tensors.get(name)!;
    const W = entry.shape[2];
    const all = readTensorAsFloat32(entry);
    const flat = real.flat();
    const out = new Float32Array(flat.length * W);
    flat.forEach((i, k) => out.set(all.subarray(i * W, (i + 1) * W), k * W));
    return out;
  };
  return { phrases, rows };
}

describe('PEFT adapter writer', () => {
  const runtime = new RuntimeHost();
  const folder: ModelFolder = openModelFolder(join(fixtures, 'models', 'llama'));
  const config = folder.config;
  const tmp = mkdtempSync(join(tmpdir(), 'adapter-writer-'));
  afterAll(async () => {
    await runtime.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const outputs = () => [...Array.from({ length: config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat(), 'logits'];
  const forward = async (adapter: PeftAdapter | undefined, phrases: number[][]) => {
    const model = await LoadedModel.load(folder, runtime, { hooks: outputs().slice(0, -1), logits: true }, undefined, undefined, adapter);
    try {
      return (await model.run(phrases)).outputs;
    } finally {
      await model.release();
    }
  };

  it('round trip: written, read by our loader, the same forward as the adapter in memory (and not the base)', async () => {
    const s = spec(config);
    const dir = join(tmp, 'round-trip');
    const files = writePeftAdapter(dir, s, config);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const read = openPeftAdapter(dir, config);
    expect(read.modules.size).toBe(6);
    expect(read.scale).toBe(4);
    const phrases = [[2, 17, 40, 9], [2, 5]];
    const [fromFile, fromMemory, base] = [await forward(read, phrases), await forward(inMemory(s, config), phrases), await forward(undefined, phrases)];
    let worst = 0;
    for (const o of outputs()) worst = Math.max(worst, maxAbs(fromFile[o].data as Float32Array, fromMemory[o].data as Float32Array));
    console.log(`written vs in-memory adapter: max abs difference ${worst.toExponential(2)}`);
    expect(worst).toBe(0);
    expect(maxAbs(fromFile.logits.data as Float32Array, base.logits.data as Float32Array)).toBeGreaterThan(1e-2);
    // Written again: replaced whole (it is our output), the same bytes.
    const before = readFileSync(join(dir, 'adapter_model.safetensors'));
    writePeftAdapter(dir, s, config);
    expect(readFileSync(join(dir, 'adapter_model.safetensors')).equals(before)).toBe(true);
  });

  it('the committed written-llama folder is still what the writer writes, and our forward matches PEFT on it within 1e-4', async () => {
    if (process.env.LINGUASCOPE_WRITE_FIXTURES === '1') writePeftAdapter(WRITTEN, spec(config), config);
    const dir = join(tmp, 'again');
    writePeftAdapter(dir, spec(config), config);
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) expect(readFileSync(join(dir, f)).equals(readFileSync(join(WRITTEN, f))), f).toBe(true);
    const header = readSafetensorsHeader(join(WRITTEN, 'adapter_model.safetensors'));
    expect(header.metadata).toEqual({ format: 'pt' });
    expect([...header.tensors.keys()]).toContain('base_model.model.model.layers.2.mlp.down_proj.lora_B.weight');
    const ref = reference(PEFT_REF);
    const ours = await forward(openPeftAdapter(WRITTEN, config), ref.phrases);
    const errors: Record<string, number> = {};
    for (const o of outputs()) errors[o] = maxAbs(ours[o].data as Float32Array, ref.rows(o));
    const worst = Math.max(...Object.values(errors));
    console.log(`written-llama vs PEFT: max abs error ${worst.toExponential(2)} (logits ${errors.logits.toExponential(2)})`);
    expect(worst, JSON.stringify(errors)).toBeLessThanOrEqual(1e-4);
  });

  it('adapter_config.json: sorted keys, plain LoRA, lora_dropout a float', () => {
    const cfg = JSON.parse(peftConfigJson(spec(config)));
    expect(Object.keys(cfg)).toEqual(Object.keys(cfg).sort());
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', inference_mode: true, bias: 'none', fan_in_fan_out: false, use_dora: false, r: 4, lora_alpha: 8, use_rslora: true, layers_to_transform: [0, 2] });
    expect(peftConfigJson(spec(config))).toContain('"lora_dropout": 0.0,');
    expect(peftConfigJson({ ...spec(config), dropout: 0.05 })).toContain('"lora_dropout": 0.05,');
  });

  const refusedSpec = (edit: (s: PeftAdapterSpec) => PeftAdapterSpec, dir = join(tmp, 'refused')) => {
    try {
      writePeftAdapter(dir, edit(spec(config)), config);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect(existsSync(dir)).toBe(false);
      return error as ApiError;
    }
    throw new Error('accepted');
  };

  it.each<[string, (s: PeftAdapterSpec) => PeftAdapterSpec, RegExp]>([
    ['rank 0', (s) => ({ ...s, rank: 0 }), /rank must be a positive integer/],
    ['a fractional rank', (s) => ({ ...s, rank: 2.5 }), /rank/],
    ['alpha < 0', (s) => ({ ...s, alpha: -1 }), /alpha/],
    ['alpha NaN', (s) => ({ ...s, alpha: NaN }), /alpha/],
    ['dropout 1', (s) => ({ ...s, dropout: 1 }), /dropout/],
    ['a layer beyond the model', (s) => ({ ...s, layersToTransform: [0, 3] }), /layer 3/],
    ['no module selected', (s) => ({ ...s, targetModules: ['lm_head'] }), /lm_head/],
    ['a selected module without factors', (s) => ({ ...s, factors: s.factors.slice(1) }), /model\.layers\.0\.self_attn\.q_proj.*no factors/],
    ['factors for a module not selected', (s) => ({ ...s, factors: [...s.factors, { ...s.factors[0], module: 'model.layers.1.self_attn.q_proj' }] }), /layers\.1\.self_attn\.q_proj.*do not select/],
    ['a module given twice', (s) => ({ ...s, factors: [...s.factors, s.factors[0]] }), /given twice/],
    ['A of the wrong shape', (s) => ({ ...s, factors: [{ ...s.factors[0], a: new Float32Array(7) }, ...s.factors.slice(1)] }), /A holds 7 values/],
    ['B of the wrong shape (another rank)', (s) => ({ ...s, factors: [{ ...s.factors[0], b: new Float32Array(64 * 8) }, ...s.factors.slice(1)] }), /B holds 512 values/],
  ])('%s is refused (INVALID_ARGUMENT) and nothing is written', (_, edit, message) => {
    const e = refusedSpec(edit);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(message);
  });

  it('a folder holding files we did not write is refused (OUTPUT_EXISTS) and left as it was', () => {
    const dir = join(tmp, 'foreign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    expect(() => writePeftAdapter(dir, spec(config), config)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, 'adapter_config.json'))).toBe(false);
  });
});

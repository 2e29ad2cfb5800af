// The merged export (W' = dtype(W + s·B·A), float32 math) against the adapter applied at run time
// and against PEFT itself: the merged folder, opened by our loader with no adapter, gives every
// layer's residual streams and the logits of the base + adapter within 1e-4, and of PEFT's own
// run of the same adapter (test/fixtures/adapters/*/reference.safetensors: a PEFT-made adapter and
// one written by our writer). A bfloat16 base (with a bf16 shard layout) stays bfloat16, each merged
// value the rounding of the float64 sum to within one bf16 step; other tensors are copied bit for bit.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeHost } from '../engine/runtime-host';
import { openPeftAdapter, type PeftAdapter } from '../io/peft-adapter';
import { writePeftAdapter } from '../io/peft-adapter-writer';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, readWeightIndex } from '../io/safetensors';
import { hookName, HOOK_KINDS } from './forward';
import { writeMergedModel } from './merge-adapter';
import { LoadedModel, openModelFolder, type ModelFolder } from './model';
import { makeRandomModel } from './random-model';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

function reference(file: string) {
  const header = readSafetensorsHeader(file);
  const ids = new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer);
  const mask = new BigInt64Array(readTensorBytes(header.tensors.get('attention_mask')!).slice().buffer);
  const [B, T] = header.tensors.get('input_ids')!.shape;
  const real = Array.from({ length: B }, (_, b) => Array.from({ length: T }, (_, t) => b * T + t).filter((i) => mask[i] === 1n));
  const rows = (name: string) => {
    const entry = header.tensors.get(name)!;
    const W = entry.shape[2];
    const all = readTensorAsFloat32(entry);
    const flat = real.flat();
    const out = new Float32Array(flat.length * W);
    flat.forEach((i, k) => out.set(all.subarray(i * W, (i + 1) * W), k * W));
    return out;
  };
  return { phrases: real.map((p) => p.map((i) => Number(ids[i]))), rows };
}

const maxAbs = (a: Float32Array, b: Float32Array) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

describe('merged model export', () => {
  const runtime = new RuntimeHost();
  const tmp = mkdtempSync(join(tmpdir(), 'merge-'));
  afterAll(async () => {
    await runtime.close();
    rmSync(tmp, { recursive: true, force: true });
  });
  const names = (folder: ModelFolder) => [...Array.from({ length: folder.config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat(), 'logits'];
  const forward = async (folder: ModelFolder, phrases: number[][], adapter?: PeftAdapter) => {
    const model = await LoadedModel.load(folder, runtime, { hooks: names(folder).slice(0, -1), logits: true }, undefined, undefined, adapter);
    try {
      return (await model.run(phrases)).outputs;
    } finally {
      await model.release();
    }
  };

  it.each([
    ['gemma2', 'gemma2-lora', 'gemma2-lora'],
    ['llama', 'written-llama', 'written-llama-peft'],
  ])('%s + %s: merged folder = base + adapter at run time = PEFT, within 1e-4', async (baseName, adapterName, refName) => {
    const base = openModelFolder(join(fixtures, 'models', baseName));
    const adapter = openPeftAdapter(join(fixtures, 'adapters', adapterName), base.config);
    const dir = join(tmp, adapterName);
    const files = writeMergedModel(dir, base, adapter);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['config.json', 'model.safetensors']);
    const merged = openModelFolder(dir);
    expect(merged.config).toEqual(base.config);
    const ref = reference(join(fixtures, 'adapters', refName, 'reference.safetensors'));
    const [m, a, b] = [await forward(merged, ref.phrases), await forward(base, ref.phrases, adapter), await forward(base, ref.phrases)];
    let vsRuntime = 0;
    let vsPeft = 0;
    for (const o of names(base)) {
      vsRuntime = Math.max(vsRuntime, maxAbs(m[o].data as Float32Array, a[o].data as Float32Array));
      vsPeft = Math.max(vsPeft, maxAbs(m[o].data as Float32Array, ref.rows(o)));
    }
    console.log(`${adapterName} merged: max abs vs run-time adapter ${vsRuntime.toExponential(2)}, vs PEFT ${vsPeft.toExponential(2)}`);
    expect(vsRuntime).toBeLessThanOrEqual(1e-4);
    expect(vsPeft).toBeLessThanOrEqual(1e-4);
    expect(maxAbs(m.logits.data as Float32Array, b.logits.data as Float32Array)).toBeGreaterThan(1e-2);
    // Untouched tensors are copied bit for bit; adapted ones changed.
    const out = readWeightIndex(dir);
    for (const [name, entry] of base.index.tensors) {
      const same = Buffer.from(readTensorBytes(entry)).equals(Buffer.from(readTensorBytes(out.tensors.get(name)!)));
      expect(same, name).toBe(!adapter.modules.has(name.replace(/\.weight$/, '')));
    }
  });

  it('a bfloat16, sharded base stays bfloat16 and sharded; merged values = bf16(W + s·B·A) to one bf16 step', async () => {
    const baseDir = join(tmp, 'bf16-base');
    await makeRandomModel({ arch: 'llama', preset: 'tiny', dtype: 'bf16', out: baseDir, seed: 3, maxShardBytes: 40_000 });
    const base = openModelFolder(baseDir);
    expect(base.index.files.length).toBeGreaterThan(1);
    const c = base.config;
    const r = 2;
    const rand = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + k * 78.233) * 0.3);
    const adapterDir = join(tmp, 'bf16-adapter');
    writePeftAdapter(adapterDir, { rank: r, alpha: 4, rslora: false, dropout: 0, targetModules: ['o_proj'], layersToTransform: [1], baseModel: baseDir, factors: [{ module: 'model.layers.1.self_attn.o_proj', a: rand(r * c.numHeads * c.headDim, 1), b: rand(c.hiddenSize * r, 2) }] }, c);
    const adapter = openPeftAdapter(adapterDir, c);
    const dir = join(tmp, 'bf16-merged');
    const files = writeMergedModel(dir, base, adapter).map((f) => f.slice(dir.length + 1));
    expect(files).toEqual(readdirSync(baseDir).filter((f) => !f.startsWith('.')).sort());
    expect(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')).toBe(readFileSync(join(baseDir, 'model.safetensors.index.json'), 'utf8'));
    const out = readWeightIndex(dir);
    for (const e of out.tensors.values()) expect(e.dtype, e.name).toBe('BF16');
    const name = 'model.layers.1.self_attn.o_proj.weight';
    const w = readTensorAsFloat32(base.index.tensors.get(name)!);
    const got = readTensorAsFloat32(out.tensors.get(name)!);
    const [O, I] = base.index.tensors.get(name)!.shape;
    const A = rand(r * I, 1);
    const B = rand(O * r, 2);
    let changed = 0;
    for (let o = 0; o < O; o++) {
      for (let i = 0; i < I; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += B[o * r + k] * A[k * I + i];
        const exact = w[o * I + i] + 2 * d; // s = alpha / r = 2, float64
        // One bf16 step at this magnitude: 2^(exponent - 7).
        const step = 2 ** (Math.floor(Math.log2(Math.abs(exact) || 1e-30)) - 7);
        expect(Math.abs(got[o * I + i] - exact), `${o},${i}`).toBeLessThanOrEqual(step);
        if (got[o * I + i] !== w[o * I + i]) changed++;
      }
    }
    expect(changed).toBeGreaterThan((O * I) / 2);
  });

  it('refuses an adapter for another model (naming the tensor) and a folder with foreign files, writing nothing', () => {
    const llama = openModelFolder(join(fixtures, 'models', 'llama'));
    const gemma = openModelFolder(join(fixtures, 'models', 'gemma2'));
    const gemmaAdapter = openPeftAdapter(join(fixtures, 'adapters', 'gemma2-lora'), gemma.config);
    expect(() => writeMergedModel(join(tmp, 'other'), llama, gemmaAdapter)).toThrow(/layers\.3\..*another model/);
    // Same names, other shapes (factors of another rank or width than the weight they name).
    const llamaAdapter = openPeftAdapter(join(fixtures, 'adapters', 'written-llama'), llama.config);
    expect(() => writeMergedModel(join(tmp, 'other'), llama, { ...llamaAdapter, rank: 8 })).toThrow(/is \[\d+, \d+\] but the adapter's factors are A \[4, /);
    const q = llamaAdapter.modules.get('model.layers.0.self_attn.q_proj')!;
    const narrow = new Map(llamaAdapter.modules).set(q.module, { ...q, a: { ...q.a, shape: [4, 32] } });
    expect(() => writeMergedModel(join(tmp, 'other'), llama, { ...llamaAdapter, modules: narrow })).toThrow(/A \[4, 32\]/);
    expect(readdirSync(tmp)).not.toContain('other');
    const foreign = join(tmp, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'mine.txt'), 'x');
    const adapter = openPeftAdapter(join(fixtures, 'adapters', 'written-llama'), llama.config);
    expect(() => writeMergedModel(foreign, llama, adapter)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readdirSync(foreign)).toEqual(['mine.txt']);
  });
});

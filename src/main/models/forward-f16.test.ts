// The float16 compute graph (ForwardOutputs.dtype = 'float16', meant for GPU providers), run here
// on onnxruntime's CPU provider and compared with Hugging Face transformers run in float16 and in
// float32 (scripts/reference/make_f16_fixtures.py, make_model_fixtures.py; transformers 5.24,
// torch 2.15, eager attention), on the real tokens of the fixtures' right-padded batch.
//
// On the CPU, onnxruntime 1.30 has float16 kernels only for data movement (Gather, Reshape,
// Transpose, Slice, Unsqueeze, Shape) and IsNaN/IsInf; every arithmetic node (Gemm, MatMul, Add,
// Mul, Div, Sqrt, Neg, Tanh, Sigmoid, Where, Softmax, ReduceMean/Sum, and Gelu, which it expands
// into Pow/Tanh/Sum/Mul) gets float32 Casts inserted around it at load (its InsertCastTransformer;
// nodes "InsertedPrecisionFreeCast_*"), and runs of such nodes stay in float32 between them. So this
// CPU run rounds to float16 at fewer points than a GPU provider or transformers does (every op's
// output): it checks the graph (ops, casts, weights, outputs) and its numbers to float16
// precision, not the exact rounding a GPU will do; the GPU script (bench/gpu) measures that.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { hfConfigJson } from '../io/config-writer';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, writeSafetensors, type TensorToWrite } from '../io/safetensors';
import { readFileSync, writeFileSync } from 'node:fs';
import { Graph } from '../engine/graph';
import { buildForwardGraph, hookName, HOOK_KINDS } from './forward';
import { LoadedModel, openModelFolder } from './model';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/models/', import.meta.url));

// Relative RMS error ‖ours − ref‖ / ‖ref‖ per hook and for the logits, over the real tokens.
// Measured on the 2-core Intel Xeon (AVX-512 F/BW/VL/VNNI/BF16/FP16, no AMX), ORT 1.30 CPU, worst
// over every hook and the logits:
//   ours float16 vs transformers float16: gemma2 1.4e-3, llama 2.7e-3, mistral 2.1e-3, qwen2 2.6e-3
//   ours float16 vs transformers float32: gemma2 7.2e-4, llama 2.2e-3, mistral 1.7e-3, qwen2 2.0e-3
//   (transformers' own float16 vs its float32: 1.6e-3, 3.1e-3, 2.4e-3, 2.8e-3; ours is nearer
//   float32 than transformers' float16 is because the CPU rounds to float16 at fewer points, above)
// Bound: 5e-3 against either reference (about 2x the worst seen; float16's unit roundoff is 4.9e-4).
// On a GPU, where every op rounds, expect the transformers-float16 figures against float32.
const TOL_VS_HF_F16 = 5e-3;
const TOL_VS_HF_F32 = 5e-3;

function reference(dir: string, file: string) {
  const header = readSafetensorsHeader(join(dir, file));
  const ids = new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer);
  const mask = new BigInt64Array(readTensorBytes(header.tensors.get('attention_mask')!).slice().buffer);
  const [B, T] = header.tensors.get('input_ids')!.shape;
  const phrases: number[][] = [];
  for (let b = 0; b < B; b++) {
    const phrase: number[] = [];
    for (let t = 0; t < T; t++) if (mask[b * T + t] === 1n) phrase.push(Number(ids[b * T + t]));
    phrases.push(phrase);
  }
  const realRows = (name: string): Float32Array => {
    const entry = header.tensors.get(name)!;
    const W = entry.shape[2];
    const all = readTensorAsFloat32(entry);
    const out: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < phrases[b].length; t++) out.push(...all.subarray((b * T + t) * W, (b * T + t + 1) * W));
    return Float32Array.from(out);
  };
  return { phrases, realRows };
}

function relRms(ours: Float32Array, ref: Float32Array): number {
  expect(ours.length).toBe(ref.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
}

const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

describe('float16 compute graph vs transformers float16 and float32', () => {
  it.each(['gemma2', 'llama', 'mistral', 'qwen2'])('%s: every hook and the logits within 5e-3 relative RMS of both', async (name) => {
    const dir = join(fixtures, name);
    const folder = openModelFolder(dir);
    const ref16 = reference(dir, 'reference-f16.safetensors');
    const ref32 = reference(dir, 'reference.safetensors');
    expect(ref16.phrases).toEqual(ref32.phrases);
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat();
    const half = await LoadedModel.load(folder, runtime, { hooks, logits: true, dtype: 'float16' });
    const full = await LoadedModel.load(folder, runtime, { hooks, logits: true });
    try {
      const ours16 = await half.run(ref16.phrases);
      const ours32 = await full.run(ref16.phrases);
      const vs16: Record<string, number> = {};
      const vs32: Record<string, number> = {};
      const vsOurs32: Record<string, number> = {};
      for (const out of [...hooks, 'logits']) {
        // The outputs stay float32 whatever the compute dtype.
        expect(ours16.outputs[out].data).toBeInstanceOf(Float32Array);
        vs16[out] = relRms(ours16.outputs[out].data, ref16.realRows(out));
        vs32[out] = relRms(ours16.outputs[out].data, ref32.realRows(out));
        vsOurs32[out] = relRms(ours16.outputs[out].data, ours32.outputs[out].data);
      }
      expect(Math.max(...Object.values(vs16)), JSON.stringify(vs16)).toBeLessThanOrEqual(TOL_VS_HF_F16);
      expect(Math.max(...Object.values(vs32)), JSON.stringify(vs32)).toBeLessThanOrEqual(TOL_VS_HF_F32);
      // The option takes effect: float16 weights alone move every output past float32's noise (~1e-7).
      expect(Math.min(...Object.values(vsOurs32)), JSON.stringify(vsOurs32)).toBeGreaterThan(1e-5);
    } finally {
      await half.release();
      await full.release();
    }
  }, 60_000);
});

describe('float16 graph structure', () => {
  it.each(['gemma2', 'llama', 'qwen2'])('%s: every projection and attention product reads float16; norms and softmax run in float32; inputs and outputs are float32', (name) => {
    const folder = openModelFolder(join(fixtures, name));
    const hooks = [hookName(0, 'resid_mid'), hookName(folder.config.numLayers - 1, 'resid_post')];
    const { graph } = buildForwardGraph(folder.config, folder.path, folder.index, { hooks, logits: true, dtype: 'float16' });
    const live = graph.liveNodes();
    const products = live.filter((n) => n.opType === 'Gemm' || n.opType === 'MatMul');
    expect(products.length).toBeGreaterThan(0);
    for (const n of products) expect(n.inputs.map((v) => v?.dtype).filter(Boolean), `${n.opType}_${n.id}`).toEqual(n.inputs.filter(Boolean).map(() => 'float16'));
    for (const type of ['Softmax', 'ReduceMean', 'Sqrt']) {
      const nodes = live.filter((n) => n.opType === type);
      expect(nodes.length, type).toBeGreaterThan(0);
      for (const n of nodes) expect(n.inputs[0]!.dtype, `${type}_${n.id}`).toBe('float32');
    }
    expect(graph.inputs.filter((v) => v.name.startsWith('rope_')).map((v) => v.dtype)).toEqual(['float32', 'float32']);
    expect(graph.outputs.map((v) => v.dtype)).toEqual(graph.outputs.map(() => 'float32'));
  });
});

describe('float16 graph constants', () => {
  it('round to nearest even as numpy does: 1, 65504, 65520 -> inf, -0.1, 2^-25 -> 0, 3·2^-25 -> 2^-23', () => {
    const g = new Graph('c');
    const v = g.constant([1, 65504, 65520, -0.1, 2 ** -25, 3 * 2 ** -25], 'float16');
    const bytes = g.initializers.find((i) => i.value.id === v.id)!.data as Uint8Array;
    // numpy.float16([...]).view(numpy.uint16)
    expect(Array.from(new Uint16Array(bytes.slice().buffer))).toEqual([0x3c00, 0x7bff, 0x7c00, 0xae66, 0x0000, 0x0002]);
  });
});

describe('values float32 holds but float16 does not', () => {
  /** The gemma2 fixture with embedding entry (token, 0) set to `value` (stored F32). */
  function withEmbedding(token: number, value: number): string {
    const src = join(fixtures, 'gemma2');
    const dir = join(tmp.dir, `gemma2-embed-${value}`);
    const header = readSafetensorsHeader(join(src, 'model.safetensors'));
    const d = JSON.parse(readFileSync(join(src, 'config.json'), 'utf8')).hidden_size as number;
    const tensors: TensorToWrite[] = [...header.tensors.values()].map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e).slice() }));
    const embed = tensors.find((t) => t.name === 'model.embed_tokens.weight')!;
    expect(embed.dtype).toBe('F32');
    const bytes = embed.data as Uint8Array;
    new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setFloat32(token * d * 4, value, true);
    writeSafetensors(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
    writeFileSync(join(dir, 'config.json'), hfConfigJson(JSON.parse(readFileSync(join(src, 'config.json'), 'utf8'))));
    return dir;
  }

  // An activation past 65504 (an embedding of 1e4 times Gemma's sqrt(64) = 8) and a weight past it
  // (1e5, infinite once rounded to float16): float32 runs both; float16 stops with the site named.
  it.each([
    ['an activation', 1e4],
    ['a weight', 1e5],
  ])('%s past float16\'s range: float32 runs, float16 is WEIGHTS_INVALID naming float16 and the site', async (_what, value) => {
    const folder = openModelFolder(withEmbedding(5, value));
    const phrases = [[2, 5, 9, 17], [2, 30]];
    const full = await LoadedModel.load(folder, runtime, { hooks: [hookName(0, 'resid_post')], logits: true });
    const half = await LoadedModel.load(folder, runtime, { hooks: [hookName(0, 'resid_post')], logits: true, dtype: 'float16' });
    try {
      const ok = await full.run(phrases);
      expect(ok.outputs.logits.data.every(Number.isFinite)).toBe(true);
      await expect(half.run(phrases)).rejects.toMatchObject({
        code: 'WEIGHTS_INVALID',
        message: expect.stringMatching(/in the token embeddings from finite weights \(an overflow: weights or activations too large for float16 \(largest 65504\); run it in float32\)/),
      });
    } finally {
      await full.release();
      await half.release();
    }
  }, 60_000);
});

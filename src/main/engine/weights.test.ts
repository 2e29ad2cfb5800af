// Initializers that point into safetensors files (ONNX external data): onnxruntime reads the
// reference library's files (scripts/reference/make_safetensors_fixtures.py) through them and
// returns exactly the reference values, F32 as stored, BF16/F16/F64 cast to float32; the model
// handed to onnxruntime carries no weight bytes.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readWeightIndex } from '../io/safetensors';
import { Graph } from './graph';
import { EngineSession } from './session';
import { externalWeight, WeightFolder } from './weights';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/safetensors/', import.meta.url));
interface ExpectedTensor {
  file: string;
  name: string;
  dtype: string;
  shape: number[];
  values: (number | string)[];
}
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8')) as { tensors: ExpectedTensor[] };
const FLOATS = new Set(['F32', 'BF16', 'F16', 'F64']);
const asNumber = (v: number | string) => (typeof v === 'number' ? v : Number(v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : NaN));

async function runIdentity(g: Graph, folder: string): Promise<{ data: Float32Array; dims: readonly number[]; modelBytes: number }> {
  const model = g.toModel();
  const session = await EngineSession.create(model, { provider: 'cpu', externalDataFolder: folder });
  try {
    const out = (await session.run({})).y;
    return { data: out.data as Float32Array, dims: out.dims, modelBytes: model.byteLength };
  } finally {
    await session.release();
  }
}

describe('external-data weights from safetensors', () => {
  const cases = expected.tensors.filter((t) => FLOATS.has(t.dtype) && t.values.length > 0);
  it.each(cases.map((t) => [`${t.file} ${t.name} (${t.dtype} [${t.shape.join(',')}])`, t] as const))('%s', async (_, t) => {
    const file = join(fixtures, t.file);
    const folder = dirname(file);
    const entry = readSafetensorsHeader(file).tensors.get(t.name)!;
    const g = new Graph();
    g.output(g.op1('Identity', [externalWeight(g, entry, folder, { shape: t.shape })]), 'y');
    const { data, dims, modelBytes } = await runIdentity(g, folder);
    expect(dims).toEqual(t.shape);
    // Not even the smallest tensor is copied into the model.
    expect(modelBytes).toBeLessThan(400 + t.name.length * 3);
    const want = Float32Array.from(t.values.map(asNumber));
    expect(Array.from(data).map((v) => (Number.isNaN(v) ? 'NaN' : v))).toEqual(Array.from(want).map((v) => (Number.isNaN(v) ? 'NaN' : v)));
  });

  it('reads a sharded checkpoint through one folder, each tensor from its own shard', async () => {
    const folder = join(fixtures, 'sharded');
    const g = new Graph();
    const weights = new WeightFolder(folder, readWeightIndex(folder), g);
    const a = weights.get('model.layers.0.self_attn.q_proj.weight', { shape: [4, 4] });
    const b = weights.get('model.layers.1.self_attn.o_proj.weight', { shape: [4, 4] });
    g.output(g.op1('Add', [a, b]), 'y');
    const { data } = await runIdentity(g, folder);
    const value = (name: string) => expected.tensors.find((t) => t.file.startsWith('sharded/') && t.name === name)!.values.map(asNumber);
    const qa = value('model.layers.0.self_attn.q_proj.weight');
    const ob = value('model.layers.1.self_attn.o_proj.weight');
    expect(Array.from(data)).toEqual(qa.map((v, i) => Math.fround(v + ob[i])));
    expect(weights.get('model.layers.0.self_attn.q_proj.weight')).toBe(a);
    expect(weights.bytesUsed).toBe(2 * 16 * 2);
  });

  it('names the file, tensor and both shapes when the stored shape differs from the config', () => {
    const folder = join(fixtures, 'sharded');
    const weights = new WeightFolder(folder, readWeightIndex(folder), new Graph());
    expect(() => weights.get('model.norm.weight', { shape: [8] })).toThrow(
      expect.objectContaining({ code: 'WEIGHTS_INVALID', message: expect.stringMatching(/model-00002-of-00002\.safetensors: tensor 'model\.norm\.weight' has shape \[4\], expected \[8\]/) }),
    );
    expect(() => weights.get('model.layers.7.mlp.up_proj.weight')).toThrow(
      expect.objectContaining({ code: 'WEIGHTS_INVALID', details: expect.objectContaining({ tensor: 'model.layers.7.mlp.up_proj.weight' }) }),
    );
  });

  it('refuses integer tensors as float weights and tensors from outside the folder', () => {
    const file = join(fixtures, 'mixed.safetensors');
    const header = readSafetensorsHeader(file);
    expect(() => externalWeight(new Graph(), header.tensors.get('counts.i16')!, fixtures)).toThrow(expect.objectContaining({ code: 'WEIGHTS_INVALID', message: expect.stringContaining("'counts.i16' is I16") }));
    expect(() => externalWeight(new Graph(), header.tensors.get('model.embed_tokens.weight')!, join(fixtures, 'sharded'))).toThrow(expect.objectContaining({ code: 'GRAPH_ERROR' }));
  });
});

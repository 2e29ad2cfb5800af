// Checkpoints that do not match their config.json, by class: a tensor missing, a tensor of the
// wrong shape, a tensor we would not read, a tied copy of the embeddings that differs, stored
// positions that are not Marian's sinusoid, a non-float weight, and a config asking for more
// layers than the file has. Each is WEIGHTS_INVALID naming the tensor (details.tensor). Also:
// the opus-mt layouts that are fine load (transformers 5's, the old one with every tied copy, and
// pytorch_model.bin read by io/torch-bin.ts gives the same encoder output as model.safetensors).
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MARIAN_FIXTURES, MARIAN_MODEL_DIR, MARIAN_OPUS_LAYOUT_DIR } from '../../../../test/helpers/marian-fixture';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readTensorBytes, readWeightIndex, writeSafetensors, type TensorToWrite } from '../../io/safetensors';
import { readFolderWeights } from '../../io/torch-bin';
import { readMarianConfig } from './config';
import { generate } from './generate';
import { MarianModel } from './model';
import { checkMarianWeights, EMBEDDING_ALIASES, marianLayerTensors, sinusoidalPositions } from './weights';

const temp = tempDir('marian-weights-');
afterAll(() => temp.cleanup());
let counter = 0;

/** The opus-layout fixture's tensors, edited, written as a new folder with the same config. */
function variant(edit: (tensors: Map<string, TensorToWrite>) => void, config?: (raw: Record<string, unknown>) => void): string {
  const dir = join(temp.dir, `v${counter++}`);
  const index = readWeightIndex(MARIAN_OPUS_LAYOUT_DIR);
  const tensors = new Map<string, TensorToWrite>();
  for (const [name, e] of index.tensors) tensors.set(name, { name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) });
  edit(tensors);
  writeSafetensors(join(dir, 'model.safetensors'), [...tensors.values()]);
  const raw = JSON.parse(readFileSync(join(MARIAN_OPUS_LAYOUT_DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
  config?.(raw);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(raw));
  copyFileSync(join(MARIAN_OPUS_LAYOUT_DIR, 'generation_config.json'), join(dir, 'generation_config.json'));
  return dir;
}

function check(dir: string) {
  const { config } = readMarianConfig(dir);
  return checkMarianWeights(config, readWeightIndex(dir), dir);
}

function refusal(dir: string): ApiError {
  try {
    check(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error(`${dir} was accepted`);
}

const f32 = (values: Float32Array): Uint8Array => new Uint8Array(values.buffer.slice(0));

describe('checkMarianWeights', () => {
  const { config } = readMarianConfig(MARIAN_MODEL_DIR);
  const layerNames = [...marianLayerTensors(config).keys()];

  it('accepts transformers 5 layout (model.shared.weight only) and the old layout (every tied copy, stored positions)', () => {
    expect(check(MARIAN_MODEL_DIR)).toMatchObject({ embedding: 'model.shared.weight', hasFinalLogitsBias: true });
    expect(check(MARIAN_OPUS_LAYOUT_DIR).embedding).toBe('model.shared.weight');
  });

  it('a missing tensor of any kind is named (every layer tensor of one encoder and one decoder layer, each embedding-less case)', () => {
    const sample = layerNames.filter((n) => n.includes('layers.1.') || n.startsWith('model.encoder.layers.0.self_attn.'));
    for (const name of sample) {
      const error = refusal(variant((t) => t.delete(name)));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.details?.tensor).toBe(name);
      expect(error.message).toContain(`'${name}'`);
    }
    const noEmbedding = refusal(variant((t) => EMBEDDING_ALIASES.forEach((a) => t.delete(a))));
    expect(noEmbedding.message).toMatch(/has no embedding matrix/);
  });

  it('embedding copies: any one of them suffices (the others absent)', () => {
    for (const keep of EMBEDDING_ALIASES) {
      const dir = variant((t) => EMBEDDING_ALIASES.filter((a) => a !== keep).forEach((a) => t.delete(a)));
      expect(check(dir).embedding).toBe(keep);
    }
  });

  it('a wrong shape is named with both shapes (transposed projection, a vocabulary of another size, a long bias)', () => {
    const cases: [string, (t: Map<string, TensorToWrite>) => void][] = [
      ['model.decoder.layers.0.fc1.weight', (t) => {
        const e = t.get('model.decoder.layers.0.fc1.weight')!;
        t.set(e.name, { ...e, shape: [e.shape[1], e.shape[0]] });
      }],
      ['model.shared.weight', (t) => {
        const e = t.get('model.shared.weight')!;
        const bytes = e.data as Uint8Array;
        t.set(e.name, { ...e, shape: [e.shape[0] - 1, e.shape[1]], data: bytes.slice(0, bytes.length - e.shape[1] * 4) });
      }],
      ['final_logits_bias', (t) => {
        const e = t.get('final_logits_bias')!;
        t.set(e.name, { ...e, shape: [e.shape[1]] });
      }],
    ];
    for (const [name, edit] of cases) {
      const error = refusal(variant(edit));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.details?.tensor).toBe(name);
      expect(error.message).toMatch(/has shape \[.*\], expected \[/);
    }
  });

  it('a tensor Marian does not read is refused by name, not ignored (a final LayerNorm, an embedding LayerNorm, a stray layer)', () => {
    const d = config.dModel;
    for (const name of ['model.encoder.layer_norm.weight', 'model.decoder.layernorm_embedding.weight', 'model.encoder.layers.9.fc1.bias', 'lm_head.bias']) {
      const error = refusal(variant((t) => t.set(name, { name, dtype: 'F32', shape: [d], data: f32(new Float32Array(d).fill(1)) })));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.details).toMatchObject({ tensor: name, unexpected: true });
    }
  });

  it('a tied copy of the embedding matrix that differs from it is refused, naming the copy', () => {
    for (const alias of EMBEDDING_ALIASES.slice(1)) {
      const error = refusal(
        variant((t) => {
          const e = t.get(alias)!;
          const bytes = (e.data as Uint8Array).slice();
          bytes[5] ^= 1;
          t.set(alias, { ...e, data: bytes });
        }),
      );
      expect(error.details).toMatchObject({ tensor: alias, tiedTo: 'model.shared.weight' });
    }
  });

  it('stored positions that are not the computed sinusoid (interleaved sin/cos, zeros) are refused, naming the table', () => {
    const { maxPositions: n, dModel: d } = config;
    const ours = sinusoidalPositions(0, n, d);
    const interleaved = new Float32Array(n * d);
    for (let p = 0; p < n; p++) for (let i = 0; i < d / 2; i++) {
      interleaved[p * d + 2 * i] = ours[p * d + i];
      interleaved[p * d + 2 * i + 1] = ours[p * d + d / 2 + i];
    }
    for (const table of [interleaved, new Float32Array(n * d)]) {
      const name = 'model.decoder.embed_positions.weight';
      const error = refusal(variant((t) => t.set(name, { name, dtype: 'F32', shape: [n, d], data: f32(table) })));
      expect(error.details?.tensor).toBe(name);
      expect(error.message).toMatch(/not the sinusoidal table/);
    }
  });

  it('a non-float weight is refused by name', () => {
    const name = 'model.encoder.layers.0.fc1.bias';
    const error = refusal(
      variant((t) => {
        const e = t.get(name)!;
        t.set(name, { ...e, dtype: 'I32' });
      }),
    );
    expect(error.details?.tensor).toBe(name);
    expect(error.message).toMatch(/I32/);
  });

  it('a config.json asking for more layers, heads of another size or a wider FFN than the file holds is refused naming a tensor', () => {
    const cases: [(raw: Record<string, unknown>) => void, RegExp][] = [
      [(raw) => (raw.encoder_layers = 3), /'model\.encoder\.layers\.2\./],
      [(raw) => (raw.decoder_ffn_dim = 48), /'model\.decoder\.layers\.0\.fc1\.weight' has shape/],
      [(raw) => (raw.d_model = 32), /has shape/],
    ];
    for (const [edit, message] of cases) {
      const error = refusal(variant(() => {}, edit));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.message).toMatch(message);
    }
    // Fewer layers in config.json than in the file: the extra layer's tensors are refused.
    const extra = refusal(variant(() => {}, (raw) => (raw.decoder_layers = 1)));
    expect(extra.details).toMatchObject({ unexpected: true });
    expect(String(extra.details?.tensor)).toMatch(/^model\.decoder\.layers\.1\./);
  });

  it('NaN/Inf weights stop decoding with WEIGHTS_INVALID naming the tensor; finite weights that overflow are named as an overflow', async () => {
    const poison = (name: string, index: number, value: number, count = 1) =>
      variant((t) => {
        const e = t.get(name)!;
        const values = new Float32Array((e.data as Uint8Array).slice().buffer);
        values.fill(value, index, index + count);
        t.set(name, { ...e, data: new Uint8Array(values.buffer) });
      });
    const cases: [string, number, RegExp, string | undefined][] = [
      ['model.encoder.layers.0.self_attn.v_proj.weight', 3, /tensor 'model\.encoder\.layers\.0\.self_attn\.v_proj\.weight' holds 1 non-finite/, 'model.encoder.layers.0.self_attn.v_proj.weight'],
      ['model.decoder.layers.1.fc2.weight', 0, /tensor 'model\.decoder\.layers\.1\.fc2\.weight' holds 1 non-finite/, 'model.decoder.layers.1.fc2.weight'],
      ['final_logits_bias', 7, /tensor 'final_logits_bias' holds/, 'final_logits_bias'],
    ];
    const { generation } = readMarianConfig(MARIAN_MODEL_DIR);
    for (const [name, index, message, tensor] of cases) {
      const dir = poison(name, index, name === 'final_logits_bias' ? Infinity : NaN);
      const model = await MarianModel.open({ path: dir, config, weights: readWeightIndex(dir) }, { intraOpThreads: 1 });
      try {
        for (const numBeams of [1, 4]) {
          const error = await generate(model, [[5, 6, 0]], { ...generation, numBeams }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ApiError);
          expect((error as ApiError).code).toBe('WEIGHTS_INVALID');
          expect((error as ApiError).message).toMatch(message);
          expect((error as ApiError).details?.tensor).toBe(tensor);
        }
      } finally {
        await model.release();
      }
    }
    // Finite but huge decoder biases: their sum overflows in the LayerNorm's mean, inf − inf is NaN.
    const dir = poison('model.decoder.layers.0.fc2.bias', 2, 3e38, 4);
    const model = await MarianModel.open({ path: dir, config, weights: readWeightIndex(dir) }, { intraOpThreads: 1 });
    try {
      const error = await generate(model, [[5, 6, 0]], generation).catch((e: unknown) => e);
      expect((error as ApiError).code).toBe('WEIGHTS_INVALID');
      expect((error as ApiError).message).toMatch(/NaN or infinite logit\(s\) from finite weights/);
    } finally {
      await model.release();
    }
  });

  it('pytorch_model.bin (read by io/torch-bin.ts) and model.safetensors of one model give the same encoder output', async () => {
    const outputs: Float32Array[] = [];
    for (const name of ['tiny-en-mul-bin', 'tiny-en-mul-safetensors']) {
      const dir = join(MARIAN_FIXTURES, name);
      const { config: c } = readMarianConfig(dir);
      const model = await MarianModel.load(c, checkMarianWeights(c, await readFolderWeights(dir), dir), { intraOpThreads: 1 });
      try {
        outputs.push((await model.encode([[5, 9, 14, c.eosTokenId]])).hidden.data as Float32Array);
      } finally {
        await model.release();
      }
    }
    expect(Array.from(outputs[0])).toEqual(Array.from(outputs[1]));
  });
});

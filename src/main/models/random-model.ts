// Config-correct model folders with deterministic random weights, for benchmarks (full-size
// Gemma-2-2B, with the bundled Gemma tokenizer) and tests (tiny presets, with the byte-level
// tokenizer). Every tensor is drawn from its own stream seeded by
// (seed, tensor name), so a tensor's values do not depend on the order or sharding of the files.
// Values: uniform with standard deviation 0.02 (HF's initializer_range); RMSNorm weights are
// 1 + that noise (Llama style) or that noise alone (Gemma's 1 + w form).
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { stageOutputFolder, writeError } from '../io/output';
import { float32ToBf16, float32ToF16, writeSafetensors, type TensorToWrite } from '../io/safetensors';
import { bundledTokenizerDir } from '../io/tokenizer';
import { BYTE_VOCAB, byteTokenizerFiles } from './byte-tokenizer';
import { hfConfigJson, tokenizerConfigJson } from '../io/config-writer';
import { expectedTensors, parseModelConfig, type ArchName } from './config';

export type RandomDtype = 'f32' | 'bf16' | 'f16';

const GEMMA_2_2B = {
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  attention_bias: false,
  attention_dropout: 0.0,
  attn_logit_softcapping: 50.0,
  bos_token_id: 2,
  eos_token_id: 1,
  pad_token_id: 0,
  final_logit_softcapping: 30.0,
  head_dim: 256,
  hidden_act: 'gelu_pytorch_tanh',
  hidden_activation: 'gelu_pytorch_tanh',
  hidden_size: 2304,
  initializer_range: 0.02,
  intermediate_size: 9216,
  max_position_embeddings: 8192,
  num_attention_heads: 8,
  num_hidden_layers: 26,
  num_key_value_heads: 4,
  query_pre_attn_scalar: 256,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  sliding_window: 4096,
  vocab_size: 256000,
};

const TINY = { hidden_size: 96, intermediate_size: 192, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, num_hidden_layers: 4, vocab_size: 512, max_position_embeddings: 4096, rms_norm_eps: 1e-6, initializer_range: 0.02, bos_token_id: 2, eos_token_id: 1, pad_token_id: 0 };

export const PRESETS: Readonly<Record<ArchName, Readonly<Record<string, Record<string, unknown>>>>> = {
  gemma2: {
    'gemma-2-2b': GEMMA_2_2B,
    tiny: { ...GEMMA_2_2B, ...TINY, query_pre_attn_scalar: 16, sliding_window: 8 },
  },
  llama: { tiny: { architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_act: 'silu', rope_theta: 500000.0, tie_word_embeddings: false, ...TINY } },
  mistral: { tiny: { architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_act: 'silu', rope_theta: 10000.0, sliding_window: 8, tie_word_embeddings: false, ...TINY } },
  qwen2: { tiny: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', rope_theta: 1000000.0, tie_word_embeddings: false, use_sliding_window: false, ...TINY } },
};

/** FNV-1a of the tensor name mixed with the seed: one independent stream per tensor. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Uniform noise with standard deviation `std` (xorshift32), plus `offset`. */
export function randomTensor(count: number, seed: number, std: number, offset = 0): Float32Array {
  const out = new Float32Array(count);
  const half = std * Math.sqrt(3);
  let x = seed || 0x9e3779b9;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = offset + ((x >>> 0) / 4294967296 - 0.5) * 2 * half;
  }
  return out;
}

export interface MakeRandomModelOptions {
  arch: ArchName;
  preset: string;
  dtype: RandomDtype;
  out: string;
  seed?: number;
  /** Largest shard in bytes (default 2 GiB); more than one shard writes an index. */
  maxShardBytes?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

const ST_DTYPE = { f32: 'F32', bf16: 'BF16', f16: 'F16' } as const;
const ITEM = { f32: 4, bf16: 2, f16: 2 } as const;

/** Writes config.json, the weights (sharded past maxShardBytes) and, for vocabularies that match
 * it, the bundled Gemma tokenizer. The folder appears complete or not at all. */
export async function makeRandomModel(options: MakeRandomModelOptions): Promise<{ path: string; files: string[] }> {
  const presets = PRESETS[options.arch];
  if (!presets) throw new ApiError('INVALID_ARGUMENT', `unknown architecture "${options.arch}" (gemma2, llama, mistral, qwen2)`);
  const raw = presets[options.preset];
  if (!raw) throw new ApiError('INVALID_ARGUMENT', `unknown preset "${options.preset}" for ${options.arch} (presets: ${Object.keys(presets).join(', ')})`);
  const seed = options.seed ?? 0;
  const configJson = { ...raw, torch_dtype: { f32: 'float32', bf16: 'bfloat16', f16: 'float16' }[options.dtype], linguascope_random_seed: seed };
  const config = parseModelConfig(configJson);
  // Missing, empty or an earlier output of ours (else OUTPUT_EXISTS); replaced whole at the end.
  const staged = stageOutputFolder(options.out, 'random model');
  const staging = staged.dir;
  let files: string[];
  try {
    writeFileSync(join(staging, 'config.json'), hfConfigJson(configJson));
    const tensors = expectedTensors(config);
    const maxShard = options.maxShardBytes ?? 2 ** 31;
    const shards: (typeof tensors)[] = [[]];
    let size = 0;
    for (const t of tensors) {
      const bytes = t.shape.reduce((a, b) => a * b, 1) * ITEM[options.dtype];
      if (size > 0 && size + bytes > maxShard) {
        shards.push([]);
        size = 0;
      }
      shards.at(-1)!.push(t);
      size += bytes;
    }
    const names = shards.length === 1 ? ['model.safetensors'] : shards.map((_, i) => `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`);
    const weightMap: Record<string, string> = {};
    let total = 0;
    for (const [i, shard] of shards.entries()) {
      const toWrite: TensorToWrite[] = [];
      for (const t of shard) {
        // Lets a cancel (and other requests) in between tensors.
        await new Promise((r) => setImmediate(r));
        if (options.signal?.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
        const count = t.shape.reduce((a, b) => a * b, 1);
        const values = randomTensor(count, streamSeed(seed, t.name), 0.02, t.norm && !config.gemmaStyle ? 1 : 0);
        const data = options.dtype === 'f32' ? values : options.dtype === 'bf16' ? float32ToBf16(values) : float32ToF16(values);
        weightMap[t.name] = names[i];
        total += data.byteLength;
        toWrite.push({ name: t.name, dtype: ST_DTYPE[options.dtype], shape: t.shape, data });
      }
      writeSafetensors(join(staging, names[i]), toWrite, { format: 'pt' });
      options.onProgress?.(i + 1, shards.length);
    }
    if (shards.length > 1) {
      writeFileSync(join(staging, 'model.safetensors.index.json'), `${JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2)}\n`);
    }
    if (config.vocabSize === 256000) {
      for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(bundledTokenizerDir(), f), join(staging, f));
    } else if (config.vocabSize >= BYTE_VOCAB) {
      const { tokenizer, config: tokenizerConfig } = byteTokenizerFiles();
      writeFileSync(join(staging, 'tokenizer.json'), JSON.stringify(tokenizer));
      writeFileSync(join(staging, 'tokenizer_config.json'), tokenizerConfigJson(tokenizerConfig));
    }
    files = staged.commit();
  } catch (error) {
    staged.discard();
    throw writeError(staged.target, error, `${staged.target}: cannot be written`);
  }
  return { path: staged.target, files };
}

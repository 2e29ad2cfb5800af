// config.json as transformers reads it. Against the reference: test/fixtures/models/config-keys.json
// (scripts/reference/make_config_key_fixture.py, transformers 5.24) lists every field of each
// config class and what models BUILT from small configs use (windows, scaling, soft-caps, biases,
// RoPE frequencies), so our defaults and rules are transformers', not our own guess. Then the
// class of hostile configs: out-of-range numbers and unsupported keys per architecture, each
// refused with WEIGHTS_INVALID naming the key.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FLOAT_KEYS } from '../io/config-writer';
import { parseModelConfig } from './config';
import { GUARDED_KEYS, INERT_KEYS, READ_KEYS, type ArchName } from './config-keys';
import { ropeTables } from './model';
import { PRESETS } from './random-model';

interface Fixture {
  versions: Record<string, string>;
  classes: Record<ArchName, { class: string; fields: Record<string, { type: string; default: unknown }>; float_fields: string[]; modeling_reads: string[] }>;
  cases: { arch: ArchName; name: string; config: Record<string, unknown>; effective: Record<string, unknown> & { invFreq: number[]; windows: (number | null)[] } }[];
}
const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/models/config-keys.json', import.meta.url)), 'utf8')) as Fixture;
const ARCHS: ArchName[] = ['gemma2', 'llama', 'mistral', 'qwen2'];

/** transformers' activation modules and the function each is. */
const ACTIVATION_CLASSES: Record<string, string> = { GELUTanh: 'gelu_tanh', PytorchGELUTanh: 'gelu_tanh', NewGELUActivation: 'gelu_tanh', FastGELUActivation: 'gelu_tanh', SiLUActivation: 'silu', SiLU: 'silu' };

describe('config.json read as transformers reads it', () => {
  it.each(fixture.cases.map((c) => [`${c.arch}: ${c.name}`, c] as const))('%s', (_, c) => {
    const ours = parseModelConfig(c.config);
    const e = c.effective;
    for (const key of ['numLayers', 'hiddenSize', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize', 'vocabSize', 'windows', 'attnSoftcap', 'finalSoftcap', 'tieEmbeddings', 'qkvBias', 'oBias', 'mlpBias', 'gemmaStyle'] as const) {
      expect(ours[key], key).toEqual(e[key]);
    }
    expect(ours.rmsNormEps).toBeCloseTo(e.rmsNormEps as number, 12);
    expect(ours.attentionScale).toBeCloseTo(e.attentionScale as number, 12);
    expect(ours.activation).toBe(ACTIVATION_CLASSES[e.activation as string]);
    // Our inverse frequencies, read back from the angle at position 1 of our cos/sin tables.
    const { cos, sin } = ropeTables(ours.rope, ours.headDim, 2);
    const inv = Array.from({ length: ours.headDim / 2 }, (_, i) => Math.atan2(sin[ours.headDim + i], cos[ours.headDim + i]));
    inv.forEach((v, i) => expect(Math.abs(v - e.invFreq[i]) / e.invFreq[i], `inv_freq[${i}]`).toBeLessThan(1e-6));
  });

  it.each(ARCHS)('%s: every key transformers declares or its modeling code reads is read, inert or guarded', (arch) => {
    const { fields, modeling_reads } = fixture.classes[arch];
    const unclassified = [...Object.keys(fields), ...modeling_reads].filter((k) => !READ_KEYS[arch].has(k) && !INERT_KEYS.has(k) && !(k in GUARDED_KEYS));
    expect(unclassified).toEqual([]);
  });

  it('writes every float-typed field of every class as a float', () => {
    const floats = new Set(ARCHS.flatMap((a) => fixture.classes[a].float_fields));
    expect([...floats].filter((k) => !FLOAT_KEYS.has(k))).toEqual([]);
  });
});

const TINY = { hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, num_hidden_layers: 2, vocab_size: 300, max_position_embeddings: 64, rms_norm_eps: 1e-6 };
const BASE: Record<ArchName, Record<string, unknown>> = {
  gemma2: { architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', ...TINY, sliding_window: 8, query_pre_attn_scalar: 16, attn_logit_softcapping: 50.0, final_logit_softcapping: 30.0, rope_theta: 10000.0 },
  llama: { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...TINY, rope_theta: 500000.0, attention_bias: false, mlp_bias: false },
  mistral: { architectures: ['MistralForCausalLM'], model_type: 'mistral', ...TINY, sliding_window: 8, rope_parameters: { rope_type: 'default', rope_theta: 10000.0 } },
  qwen2: { architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', ...TINY, use_sliding_window: false, rope_theta: 1000000.0 },
};
const ACT_KEY: Record<ArchName, string> = { gemma2: 'hidden_activation', llama: 'hidden_act', mistral: 'hidden_act', qwen2: 'hidden_act' };

/** [what, change to the base config (undefined deletes), the key the error must name]. */
type Variant = [string, Record<string, unknown>, string];
const every = (arch: ArchName): Variant[] => [
  ['model_type of another architecture', { model_type: arch === 'llama' ? 'mistral' : 'llama' }, 'model_type'],
  ['absurd layer count', { num_hidden_layers: 1e9 }, 'num_hidden_layers'],
  ['no layers', { num_hidden_layers: 0 }, 'num_hidden_layers'],
  ['fractional layers', { num_hidden_layers: 2.5 }, 'num_hidden_layers'],
  ['layers as a string', { num_hidden_layers: '2' }, 'num_hidden_layers'],
  ['negative width', { hidden_size: -64 }, 'hidden_size'],
  ['width not a multiple of the heads', { hidden_size: 66, head_dim: undefined }, 'hidden_size'],
  ['absurd vocabulary', { vocab_size: 1e12 }, 'vocab_size'],
  ['no MLP', { intermediate_size: 0 }, 'intermediate_size'],
  ['no heads', { num_attention_heads: 0 }, 'num_attention_heads'],
  ['kv heads that do not divide the heads', { num_key_value_heads: 3 }, 'num_key_value_heads'],
  ['more kv heads than heads', { num_key_value_heads: 8 }, 'num_key_value_heads'],
  ['odd head_dim', { head_dim: 15 }, 'head_dim'],
  ['zero head_dim', { head_dim: 0 }, 'head_dim'],
  ['negative rms_norm_eps', { rms_norm_eps: -1 }, 'rms_norm_eps'],
  ['zero rms_norm_eps', { rms_norm_eps: 0 }, 'rms_norm_eps'],
  ['infinite rms_norm_eps (1e400 in JSON)', { rms_norm_eps: Infinity }, 'rms_norm_eps'],
  ['rms_norm_eps as a string', { rms_norm_eps: '1e-6' }, 'rms_norm_eps'],
  ['negative context', { max_position_embeddings: -1 }, 'max_position_embeddings'],
  ['rope_theta 0', { rope_theta: 0, rope_parameters: undefined }, 'rope_theta'],
  ['negative rope_theta', { rope_theta: -10000, rope_parameters: undefined }, 'rope_theta'],
  ['rope_theta 0 inside rope_parameters', { rope_parameters: { rope_type: 'default', rope_theta: 0 } }, 'rope_parameters.rope_theta'],
  ['yarn RoPE', { rope_parameters: { rope_type: 'yarn', factor: 4.0, original_max_position_embeddings: 64 } }, 'rope_parameters.rope_type'],
  ['linear RoPE scaling (legacy key)', { rope_scaling: { type: 'linear', factor: 2.0 } }, 'rope_scaling.rope_type'],
  ['dynamic RoPE scaling', { rope_scaling: { rope_type: 'dynamic', factor: 2.0 } }, 'rope_scaling.rope_type'],
  ['per-layer-type RoPE', { rope_parameters: { full_attention: { rope_type: 'default' }, sliding_attention: { rope_type: 'default' } } }, 'rope_parameters'],
  ['unknown RoPE parameter', { rope_parameters: { rope_type: 'default', rope_theta: 10000.0, mrope_section: [4, 2, 2] } }, 'rope_parameters.mrope_section'],
  ['llama3 RoPE with high_freq_factor <= low_freq_factor', { rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 8.0, low_freq_factor: 4.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 } }, 'rope_parameters.high_freq_factor'],
  ['llama3 RoPE with factor 0', { rope_parameters: { rope_type: 'llama3', rope_theta: 5e5, factor: 0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 64 } }, 'rope_parameters.factor'],
  ['partial rotary factor', { partial_rotary_factor: 0.5 }, 'partial_rotary_factor'],
  ['partial rotary factor inside rope_parameters', { rope_parameters: { rope_type: 'default', rope_theta: 10000.0, partial_rotary_factor: 0.25 } }, 'rope_parameters.partial_rotary_factor'],
  ['exact GELU', { [ACT_KEY[arch]]: 'gelu' }, ACT_KEY[arch]],
  ['ReLU', { [ACT_KEY[arch]]: 'relu' }, ACT_KEY[arch]],
  ['negative sliding window', { sliding_window: -3 }, 'sliding_window'],
  ['zero sliding window', { sliding_window: 0 }, 'sliding_window'],
  ['fractional sliding window', { sliding_window: 7.5 }, 'sliding_window'],
  ['quantized weights', { quantization_config: { quant_method: 'gptq', bits: 4 } }, 'quantization_config'],
  ['bidirectional attention', { use_bidirectional_attention: true }, 'use_bidirectional_attention'],
  ['non-causal masks (is_causal false)', { is_causal: false }, 'is_causal'],
  ['chunked attention', { attention_chunk_size: 8192 }, 'attention_chunk_size'],
  ['another RoPE fallback base', { default_theta: 500000.0 }, 'default_theta'],
  ['tie_word_embeddings as a string', { tie_word_embeddings: 'true' }, 'tie_word_embeddings'],
  ['bos id outside the vocabulary', { bos_token_id: 1e6 }, 'bos_token_id'],
  ['an activation named like an Object member', { [ACT_KEY[arch]]: 'constructor' }, ACT_KEY[arch]],
  ['a RoPE type named like an Object member', { rope_parameters: { rope_type: 'toString' } }, 'rope_parameters.rope_type'],
  ['query/key norms', { use_qk_norm: true }, 'use_qk_norm'],
  ['Granite multipliers', { embedding_multiplier: 12.0 }, 'embedding_multiplier'],
];
const PER_ARCH: Record<ArchName, Variant[]> = {
  gemma2: [
    ['MLP biases (Gemma-2 has none)', { mlp_bias: true }, 'mlp_bias'],
    ['attention_bias not a boolean', { attention_bias: 'yes' }, 'attention_bias'],
    ['zero final soft-cap', { final_logit_softcapping: 0 }, 'final_logit_softcapping'],
    ['negative final soft-cap', { final_logit_softcapping: -30.0 }, 'final_logit_softcapping'],
    ['zero attention soft-cap', { attn_logit_softcapping: 0 }, 'attn_logit_softcapping'],
    ['zero query scalar', { query_pre_attn_scalar: 0 }, 'query_pre_attn_scalar'],
    ['layer_types of the wrong length', { layer_types: ['full_attention'] }, 'layer_types'],
    ['unknown layer type', { layer_types: ['chunked_attention', 'full_attention'] }, 'layer_types'],
    ['no window for the sliding layers', { sliding_window: null }, 'sliding_window'],
    ['hidden_act disagreeing with hidden_activation', { hidden_act: 'silu' }, 'hidden_act'],
  ],
  llama: [
    ['attention_bias not a boolean', { attention_bias: 1 }, 'attention_bias'],
    ['mlp_bias not a boolean', { mlp_bias: 'true' }, 'mlp_bias'],
    ['Gemma soft-capping', { attn_logit_softcapping: 50.0 }, 'attn_logit_softcapping'],
    ['final soft-capping', { final_logit_softcapping: 30.0 }, 'final_logit_softcapping'],
    ['Gemma query scalar', { query_pre_attn_scalar: 256 }, 'query_pre_attn_scalar'],
    ['sliding layers (Llama has none)', { layer_types: ['sliding_attention', 'full_attention'] }, 'layer_types'],
    ['use_sliding_window', { use_sliding_window: true }, 'use_sliding_window'],
  ],
  mistral: [
    ['attention biases (Mistral has none)', { attention_bias: true }, 'attention_bias'],
    ['MLP biases (Mistral has none)', { mlp_bias: true }, 'mlp_bias'],
    ['alternating layer types (Ministral)', { layer_types: ['sliding_attention', 'full_attention'] }, 'layer_types'],
    ['hidden_activation disagreeing with hidden_act', { hidden_activation: 'gelu_pytorch_tanh' }, 'hidden_activation'],
  ],
  qwen2: [
    ['attention_bias (Qwen2 fixes its own biases)', { attention_bias: true }, 'attention_bias'],
    ['MLP biases (Qwen2 has none)', { mlp_bias: true }, 'mlp_bias'],
    ['use_sliding_window not a boolean', { use_sliding_window: 'yes', sliding_window: 8 }, 'use_sliding_window'],
    ['negative max_window_layers', { use_sliding_window: true, sliding_window: 8, max_window_layers: -1 }, 'max_window_layers'],
    ['sliding layer_types with use_sliding_window false', { layer_types: ['sliding_attention', 'full_attention'], sliding_window: 8 }, 'layer_types'],
  ],
};

function variantOf(arch: ArchName, change: Record<string, unknown>): Record<string, unknown> {
  const cfg: Record<string, unknown> = { ...BASE[arch] };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete cfg[k];
    else cfg[k] = v;
  }
  return cfg;
}

describe('absurd or unsupported configs are refused naming the key', () => {
  it.each(ARCHS)('%s: the base config parses', (arch) => {
    expect(parseModelConfig(BASE[arch]).arch).toBe(arch);
  });

  const table = ARCHS.flatMap((arch) => [...every(arch), ...PER_ARCH[arch]].map(([what, change, key]) => [arch, what, change, key] as const));
  it.each(table)('%s: %s', (arch, _, change, key) => {
    let error: unknown;
    const started = performance.now();
    try {
      parseModelConfig(variantOf(arch, change), '/models/x/config.json');
    } catch (e) {
      error = e;
    }
    expect(error, 'refused').toMatchObject({ code: 'WEIGHTS_INVALID', details: { key, file: '/models/x/config.json' } });
    expect((error as Error).message).toContain(`"${key}"`);
    // Refused up front: nothing was allocated from the absurd numbers.
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('keys named like Object members are ordinary unknown keys, and long values are not echoed whole', () => {
    const hostile = JSON.parse(`{"__proto__": {"polluted": 1}, "constructor": 1, "toString": "x", "hasOwnProperty": null, ${JSON.stringify(BASE.llama).slice(1)}`);
    expect(parseModelConfig(hostile).arch).toBe('llama');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const long = 'gelu'.repeat(100_000);
    expect(() => parseModelConfig({ ...BASE.llama, hidden_act: long })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^config\.json: "hidden_act" is "(gelu){14}\.\.\.; supported/) }));
  });

  it('every random-model preset we write parses', () => {
    for (const [arch, presets] of Object.entries(PRESETS)) for (const [name, cfg] of Object.entries(presets)) expect(parseModelConfig(cfg).arch, `${arch} ${name}`).toBe(arch);
    expect(parseModelConfig(PRESETS.gemma2['gemma-2-2b'])).toMatchObject({ numLayers: 26, headDim: 256, attnSoftcap: 50, finalSoftcap: 30, windows: expect.arrayContaining([4096, null]) });
  });

  it('keys transformers does not read for the architecture, and our own keys, are accepted', () => {
    const cfg = parseModelConfig({ ...BASE.llama, sliding_window_size: 4096, linguascope_random_seed: 3, _name_or_path: 'x', pretraining_tp: 2, use_cache: false });
    expect(cfg.windows).toEqual([null, null]);
  });
});

// What every config.json key means to us, in one table: a key is READ (implemented, with
// transformers' default when absent), INERT (cannot change a loaded checkpoint's forward pass) or
// GUARDED (changes the math somewhere, is not implemented here, so it is accepted only at the
// value that leaves the computation as we run it). Keys that none of the three names are ones
// transformers' config class for the architecture does not read either, so they cannot change
// its numbers; test/fixtures/models/config-keys.json (scripts/reference/make_config_key_fixture.py)
// lists every field transformers 5.24 declares per class, and config.test.ts checks each is here.

export type ArchName = 'gemma2' | 'llama' | 'mistral' | 'qwen2';

export const ARCHITECTURES: Readonly<Record<string, ArchName>> = {
  Gemma2ForCausalLM: 'gemma2',
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};

/** transformers 5.24's defaults (its config dataclasses) for the keys we read; `null` is None. */
export const HF_DEFAULTS: Readonly<Record<ArchName, Readonly<Record<string, unknown>>>> = {
  gemma2: {
    vocab_size: 256000, hidden_size: 2304, intermediate_size: 9216, num_hidden_layers: 26, num_attention_heads: 8, num_key_value_heads: 4,
    head_dim: 256, hidden_activation: 'gelu_pytorch_tanh', max_position_embeddings: 8192, rms_norm_eps: 1e-6, tie_word_embeddings: true,
    attention_bias: false, query_pre_attn_scalar: 256, sliding_window: 4096, layer_types: null, final_logit_softcapping: 30.0,
    attn_logit_softcapping: 50.0, rope_parameters: null, bos_token_id: 2,
  },
  llama: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: null,
    head_dim: null, hidden_act: 'silu', max_position_embeddings: 2048, rms_norm_eps: 1e-6, tie_word_embeddings: false, attention_bias: false,
    mlp_bias: false, rope_parameters: null, bos_token_id: 1,
  },
  mistral: {
    vocab_size: 32000, hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 8,
    head_dim: null, hidden_act: 'silu', max_position_embeddings: 131072, rms_norm_eps: 1e-6, tie_word_embeddings: false, sliding_window: 4096,
    rope_parameters: null, bos_token_id: 1,
  },
  qwen2: {
    vocab_size: 151936, hidden_size: 4096, intermediate_size: 22016, num_hidden_layers: 32, num_attention_heads: 32, num_key_value_heads: 32,
    hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6, tie_word_embeddings: false, use_sliding_window: false,
    sliding_window: 4096, max_window_layers: 28, layer_types: null, rope_parameters: null, bos_token_id: null,
  },
};

/** Keys read by every architecture besides its HF_DEFAULTS keys (RoPE comes in three spellings). */
const READ_ALWAYS = ['rope_parameters', 'rope_scaling', 'rope_theta', 'original_max_position_embeddings'];

/** Read beyond the class's fields: Qwen2's attention takes head_dim when present; Mistral's
 * layer_types is ignored by transformers, so it is checked against the one window Mistral uses. */
const READ_EXTRA: Readonly<Partial<Record<ArchName, readonly string[]>>> = { qwen2: ['head_dim'], mistral: ['layer_types'] };

/** Keys the parser reads for each architecture. */
export const READ_KEYS: Readonly<Record<ArchName, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(HF_DEFAULTS).map(([arch, defaults]) => [arch, new Set([...Object.keys(defaults), ...READ_ALWAYS, ...(READ_EXTRA[arch as ArchName] ?? [])])]),
) as unknown as Record<ArchName, ReadonlySet<string>>;

/** Keys that do not change the forward pass of a loaded checkpoint: bookkeeping, training-only
 * settings (dropout and initialisation: inference runs without dropout on stored weights),
 * generation and cache settings, label maps, and ids the tokenizer uses (bos is read separately). */
export const INERT_KEYS: ReadonlySet<string> = new Set([
  'architectures', 'model_type', 'transformers_version', '_name_or_path', 'dtype', 'torch_dtype', 'use_cache', 'cache_implementation',
  'initializer_range', 'attention_dropout', 'pad_token_id', 'eos_token_id', 'id2label', 'label2id', 'problem_type', 'return_dict',
  'output_hidden_states', 'output_attentions', 'chunk_size_feed_forward', 'is_encoder_decoder', 'tokenizer_class', 'torchscript',
  // Llama's tensor-parallel slicing of the projections at pretraining: the same products, summed in pieces.
  'pretraining_tp',
]);

/** Our own keys in config.json files we write (e.g. linguascope_random_seed): never read by transformers. */
export const OWN_KEY_PREFIX = 'linguascope_';

export interface Guard {
  /** Values that leave the computation as we run it. */
  accepts: (value: unknown, cfg: Readonly<Record<string, unknown>>) => boolean;
  /** Why another value is refused (completes "config.json: "key" is ... ; "). */
  why: string;
}

const offOrAbsent = (v: unknown) => v === null || v === undefined || v === false;
const noneOrOne = (v: unknown) => v === null || v === undefined || v === 1;

/** Keys that change the math where they apply and that we do not implement for the architecture
 * at hand (a key the architecture READs is never looked up here). */
export const GUARDED_KEYS: Readonly<Record<string, Guard>> = {
  attention_bias: { accepts: offOrAbsent, why: 'transformers gives this architecture no attention biases, so the intended biases would be dropped' },
  mlp_bias: { accepts: offOrAbsent, why: 'transformers gives this architecture no MLP biases, so the intended biases would be dropped' },
  partial_rotary_factor: { accepts: noneOrOne, why: 'partial rotary embeddings (RoPE on part of each head) are not implemented' },
  use_bidirectional_attention: { accepts: offOrAbsent, why: 'bidirectional (non-causal) attention is not implemented' },
  // Read by transformers' mask code from any config (a config.json key becomes an attribute even
  // when the class does not declare it): false makes every mask bidirectional.
  is_causal: { accepts: (v) => v === undefined || v === null || v === true, why: 'bidirectional (non-causal) attention is not implemented' },
  attention_chunk_size: { accepts: (v) => v === null || v === undefined, why: 'chunked attention (Llama-4) is not implemented' },
  per_layer_config: { accepts: (v) => v === null || v === undefined, why: 'per-layer configs are not implemented' },
  // The RoPE base transformers falls back to when no rope_theta is given (a class constant, 10000).
  default_theta: { accepts: (v) => v === undefined || v === 10000, why: 'a RoPE base other than rope_theta is not read here; set rope_theta' },
  quantization_config: { accepts: (v) => v === null || v === undefined, why: 'quantized checkpoints are not supported; use float32/bfloat16/float16 weights' },
  attn_logit_softcapping: { accepts: (v) => v === null || v === undefined, why: 'only Gemma-2 soft-caps attention scores' },
  final_logit_softcapping: { accepts: (v) => v === null || v === undefined, why: 'only Gemma-2 soft-caps the logits' },
  query_pre_attn_scalar: { accepts: (v) => v === null || v === undefined, why: 'only Gemma-2 scales queries by query_pre_attn_scalar' },
  // Llama has no sliding window in transformers; Mistral applies sliding_window to every layer.
  sliding_window: { accepts: (v) => v === null || v === undefined, why: 'this architecture has no sliding-window attention in transformers' },
  use_sliding_window: { accepts: offOrAbsent, why: 'only Qwen2 reads use_sliding_window' },
  max_window_layers: { accepts: () => true, why: '' }, // meaningful only with use_sliding_window, which is guarded
  // Llama: every layer is global in transformers.
  layer_types: {
    accepts: (v) => v === null || v === undefined || (Array.isArray(v) && v.every((t) => t === 'full_attention')),
    why: 'transformers ignores layer_types for this architecture and runs every layer with full attention',
  },
  // The activation key of the other family: transformers ignores it, so it must not disagree.
  hidden_act: { accepts: (v, cfg) => v === null || v === undefined || v === (cfg.hidden_activation ?? 'gelu_pytorch_tanh'), why: 'Gemma-2 uses hidden_activation, and the two disagree' },
  hidden_activation: { accepts: (v, cfg) => v === null || v === undefined || v === (cfg.hidden_act ?? 'silu'), why: 'this architecture uses hidden_act, and the two disagree' },
  // Scalings of related architectures (Granite, Gemma-3, Llama-4, OLMo...): a config carrying
  // them belongs to a model whose numbers we would not reproduce.
  attention_multiplier: { accepts: (v) => v === null || v === undefined, why: 'attention multipliers (Granite) are not implemented' },
  embedding_multiplier: { accepts: (v) => v === null || v === undefined, why: 'embedding multipliers (Granite) are not implemented' },
  residual_multiplier: { accepts: (v) => v === null || v === undefined, why: 'residual multipliers (Granite) are not implemented' },
  logits_scaling: { accepts: (v) => v === null || v === undefined, why: 'logit scaling (Granite) is not implemented' },
  rope_local_base_freq: { accepts: (v) => v === null || v === undefined, why: 'per-layer RoPE bases (Gemma-3) are not implemented' },
  no_rope_layers: { accepts: (v) => v === null || v === undefined, why: 'layers without RoPE (Llama-4) are not implemented' },
  use_qk_norm: { accepts: offOrAbsent, why: 'query/key norms are not implemented' },
  qk_layernorm: { accepts: offOrAbsent, why: 'query/key norms are not implemented' },
};

/** Sub-keys of rope_parameters / rope_scaling per RoPE type. */
export const ROPE_KEYS: Readonly<Record<string, readonly string[]>> = {
  default: ['rope_type', 'type', 'rope_theta', 'partial_rotary_factor'],
  llama3: ['rope_type', 'type', 'rope_theta', 'partial_rotary_factor', 'factor', 'low_freq_factor', 'high_freq_factor', 'original_max_position_embeddings'],
};

/** Integer keys: inclusive bounds. The upper bounds are far above any released model (e.g. 126
 * layers, hidden 16384, vocabulary 262144) and far below what would exhaust memory. */
export const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  vocab_size: [1, 1 << 22],
  hidden_size: [1, 1 << 16],
  intermediate_size: [1, 1 << 19],
  num_hidden_layers: [1, 1024],
  num_attention_heads: [1, 1024],
  num_key_value_heads: [1, 1024],
  head_dim: [2, 1024],
  max_position_embeddings: [1, 1 << 28],
  sliding_window: [1, 1 << 28],
  max_window_layers: [0, 1 << 20],
  original_max_position_embeddings: [1, 1 << 28],
};

/** Float keys: exclusive lower bound, inclusive upper bound. */
export const FLOAT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  rms_norm_eps: [0, 0.5],
  rope_theta: [0, 1e15],
  query_pre_attn_scalar: [0, 1e9],
  attn_logit_softcapping: [0, 1e9],
  final_logit_softcapping: [0, 1e9],
  factor: [0, 1e6],
  low_freq_factor: [0, 1e6],
  high_freq_factor: [0, 1e6],
};

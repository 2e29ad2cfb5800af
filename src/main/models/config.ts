// A Hugging Face `config.json` turned into the one description our graph builder needs, read the
// way transformers 5.24 reads it: its per-architecture defaults for absent keys, both config
// generations (the hub's `rope_theta` + `rope_scaling` + `torch_dtype`, and transformers >= 5's
// `rope_parameters` + `dtype` + `layer_types`). Every key that changes the math is implemented or
// refused with WEIGHTS_INVALID naming it (config-keys.ts holds the table), and every number is
// range-checked before anything is allocated from it.
import { ApiError } from '../../shared/errors';
import { ARCHITECTURES, FLOAT_RANGES, GUARDED_KEYS, HF_DEFAULTS, INERT_KEYS, INT_RANGES, OWN_KEY_PREFIX, READ_KEYS, ROPE_KEYS, type ArchName } from './config-keys';

export { ARCHITECTURES, type ArchName } from './config-keys';
export { hfConfigJson } from '../io/config-writer';

export interface RopeConfig {
  theta: number;
  /** 'default' or 'llama3' (Llama 3.x frequency scaling). */
  type: 'default' | 'llama3';
  factor?: number;
  lowFreqFactor?: number;
  highFreqFactor?: number;
  originalMaxPositions?: number;
}

export interface ModelConfig {
  architecture: string;
  arch: ArchName;
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  intermediateSize: number;
  rmsNormEps: number;
  maxPositions: number;
  rope: RopeConfig;
  tieEmbeddings: boolean;
  activation: 'gelu_tanh' | 'silu';
  /** q/k/v projections carry biases (Qwen2; Llama's and Gemma-2's attention_bias). */
  qkvBias: boolean;
  /** o_proj carries a bias (Llama's and Gemma-2's attention_bias). */
  oBias: boolean;
  /** gate/up/down projections carry biases (Llama's mlp_bias). */
  mlpBias: boolean;
  /** Per layer: the sliding window (keys i - window < j <= i) or null for global attention. */
  windows: (number | null)[];
  /** Multiplies q·k. */
  attentionScale: number;
  attnSoftcap: number | null;
  finalSoftcap: number | null;
  /** Gemma: embeddings × sqrt(hidden), RMSNorm × (1 + w), post-attention/post-MLP norms. */
  gemmaStyle: boolean;
  /** Stored dtype named by the config (the weights decide in the end). */
  dtype: string;
  bosTokenId: number | null;
}

type Json = Record<string, unknown>;

function invalid(file: string, key: string, message: string): ApiError {
  return new ApiError('WEIGHTS_INVALID', `config.json: "${key}" ${message}`, { file, key });
}

/** A config value in a message: short (a hostile config may hold megabytes under one key). */
function shown(v: unknown): string {
  const text = v === undefined ? 'nothing' : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Own keys only: a config key or value such as "constructor" or "__proto__" must not find
 * Object.prototype's members in our tables. */
const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

/** Reads config keys with transformers' defaults, checking type and range. */
class Reader {
  constructor(
    readonly cfg: Json,
    readonly arch: ArchName,
    readonly file: string,
  ) {}

  /** The stored value, else transformers' default (null stays null: it is None in Python). */
  raw(key: string, from: Json = this.cfg): unknown {
    return Object.hasOwn(from, key) ? from[key] : from === this.cfg ? own(HF_DEFAULTS[this.arch], key) : undefined;
  }

  int(key: string, from: Json = this.cfg, fallback?: number): number {
    const v = this.raw(key, from) ?? fallback;
    const [lo, hi] = own(INT_RANGES, key) ?? [0, Number.MAX_SAFE_INTEGER];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(this.file, this.name(key, from), `must be an integer, got ${shown(v)}`);
    if (v < lo || v > hi) throw invalid(this.file, this.name(key, from), `must be between ${lo} and ${hi}, got ${v}`);
    return v;
  }

  optionalInt(key: string, from: Json = this.cfg): number | null {
    return this.raw(key, from) === null || this.raw(key, from) === undefined ? null : this.int(key, from);
  }

  float(key: string, from: Json = this.cfg, fallback?: number): number {
    const v = this.raw(key, from) ?? fallback;
    const [lo, hi] = own(FLOAT_RANGES, key) ?? [-Infinity, Infinity];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(this.file, this.name(key, from), `must be a finite number, got ${shown(v)}`);
    if (!(v > lo && v <= hi)) throw invalid(this.file, this.name(key, from), `must be greater than ${lo} and at most ${hi}, got ${v}`);
    return v;
  }

  optionalFloat(key: string, from: Json = this.cfg): number | null {
    return this.raw(key, from) === null ? null : this.float(key, from);
  }

  bool(key: string): boolean {
    const v = this.raw(key) ?? false;
    if (typeof v !== 'boolean') throw invalid(this.file, key, `must be true or false, got ${shown(v)}`);
    return v;
  }

  /** Sub-keys are named with their parent, e.g. rope_parameters.factor. */
  private name(key: string, from: Json): string {
    return from === this.cfg ? key : `${this.ropeKey}.${key}`;
  }

  ropeKey = 'rope_parameters';
}

/** Keys we neither read nor know to be inert are refused when they change the math (GUARDED_KEYS);
 * others are keys transformers does not read for this architecture either. */
function checkKeys(cfg: Json, arch: ArchName, file: string): void {
  for (const [key, value] of Object.entries(cfg)) {
    if (READ_KEYS[arch].has(key) || INERT_KEYS.has(key) || key.startsWith(OWN_KEY_PREFIX)) continue;
    const guard = own(GUARDED_KEYS, key);
    if (guard && !guard.accepts(value, cfg)) {
      throw invalid(file, key, `is ${shown(value)}, which changes the computation and is not supported for ${arch}: ${guard.why}`);
    }
  }
}

function rope(r: Reader, maxPositions: number): RopeConfig {
  const { cfg, file } = r;
  // transformers: `rope_scaling or rope_parameters` (the legacy key wins when both are set); the
  // theta in the dict, else the top-level rope_theta, else 10000.
  const fromScaling = cfg.rope_scaling !== undefined && cfg.rope_scaling !== null;
  r.ropeKey = fromScaling ? 'rope_scaling' : 'rope_parameters';
  const params = (fromScaling ? cfg.rope_scaling : cfg.rope_parameters) ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) throw invalid(file, r.ropeKey, `must be an object, got ${shown(params)}`);
  const p = params as Json;
  if (Object.values(p).some((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
    throw invalid(file, r.ropeKey, 'holds one RoPE setting per layer type; per-layer-type RoPE is not supported');
  }
  const type = p.rope_type ?? p.type ?? 'default';
  const allowed = typeof type === 'string' ? own(ROPE_KEYS, type) : undefined;
  if (!allowed) {
    throw invalid(file, `${r.ropeKey}.rope_type`, `is ${shown(type)}; supported RoPE types: ${Object.keys(ROPE_KEYS).join(', ')} (other scalings change positions in ways not implemented)`);
  }
  for (const key of Object.keys(p)) {
    if (!allowed.includes(key)) throw invalid(file, `${r.ropeKey}.${key}`, `is not a "${String(type)}" RoPE parameter this engine implements (expected: ${allowed.join(', ')})`);
  }
  const partial = p.partial_rotary_factor ?? cfg.partial_rotary_factor;
  if (partial !== undefined && partial !== null && partial !== 1) {
    throw invalid(file, p.partial_rotary_factor !== undefined ? `${r.ropeKey}.partial_rotary_factor` : 'partial_rotary_factor', `is ${shown(partial)}; partial rotary embeddings (RoPE on part of each head) are not implemented`);
  }
  const theta = p.rope_theta !== undefined ? r.float('rope_theta', p) : r.float('rope_theta', cfg, 10000);
  if (type === 'default') return { theta, type: 'default' };
  const lowFreqFactor = r.float('low_freq_factor', p);
  const highFreqFactor = r.float('high_freq_factor', p);
  if (highFreqFactor <= lowFreqFactor) throw invalid(file, `${r.ropeKey}.high_freq_factor`, `(${highFreqFactor}) must be greater than low_freq_factor (${lowFreqFactor})`);
  // transformers prefers a top-level original_max_position_embeddings (Phi-3 style), then the
  // dict's, then max_position_embeddings.
  const originalMaxPositions = cfg.original_max_position_embeddings !== undefined ? r.int('original_max_position_embeddings') : r.int('original_max_position_embeddings', p, maxPositions);
  return { theta, type: 'llama3', factor: r.float('factor', p), lowFreqFactor, highFreqFactor, originalMaxPositions };
}

/** transformers' ACT2FN names and the function each computes (gelu_new and gelu_fast are the same
 * tanh approximation written differently). */
const ACTIVATIONS: Readonly<Record<string, ModelConfig['activation']>> = {
  gelu_pytorch_tanh: 'gelu_tanh',
  gelu_new: 'gelu_tanh',
  gelu_fast: 'gelu_tanh',
  silu: 'silu',
  swish: 'silu',
};

function activation(r: Reader): ModelConfig['activation'] {
  const key = r.arch === 'gemma2' ? 'hidden_activation' : 'hidden_act';
  const name = r.raw(key);
  const act = typeof name === 'string' ? own(ACTIVATIONS, name) : undefined;
  if (!act) throw invalid(r.file, key, `is ${shown(name)}; supported activations: ${Object.keys(ACTIVATIONS).join(', ')}`);
  return act;
}

/** Which layers use a sliding window, as each architecture's transformers code decides it. */
function windows(r: Reader, layers: number): (number | null)[] {
  const { cfg, arch, file } = r;
  // Checked wherever it is set, used or not: a negative window is never a typo worth running.
  const stored = r.optionalInt('sliding_window');
  const fromTypes = (window: number | null) => {
    const types = cfg.layer_types;
    if (!Array.isArray(types)) throw invalid(file, 'layer_types', `must be a list, got ${shown(types)}`);
    if (types.length !== layers) throw invalid(file, 'layer_types', `has ${types.length} entries for ${layers} layers`);
    return types.map((t, i) => {
      if (t === 'full_attention') return null;
      if (t === 'sliding_attention') {
        if (window === null) throw invalid(file, 'layer_types', `makes layer ${i} "sliding_attention" but no sliding window is in force ("sliding_window" is null${arch === 'qwen2' ? ' or use_sliding_window is false' : ''})`);
        return window;
      }
      throw invalid(file, 'layer_types', `entry ${i} is ${shown(t)} (supported: full_attention, sliding_attention)`);
    });
  };
  const hasTypes = cfg.layer_types !== undefined && cfg.layer_types !== null;
  switch (arch) {
    case 'gemma2': // even layers slide (layer 0 is local)
      return hasTypes ? fromTypes(stored) : Array.from({ length: layers }, (_, i) => (i % 2 === 0 ? stored : null)).map((w, i) => {
        if (i % 2 === 0 && w === null) throw invalid(file, 'sliding_window', 'is null, but Gemma-2 layers 0, 2, 4, ... use a sliding window');
        return w;
      });
    case 'mistral': {
      // transformers' Mistral applies sliding_window to every layer and ignores layer_types.
      const all = Array.from({ length: layers }, () => stored);
      if (hasTypes && JSON.stringify(fromTypes(stored === null ? null : stored)) !== JSON.stringify(all)) {
        throw invalid(file, 'layer_types', 'mixes layer types, but MistralForCausalLM in transformers ignores layer_types and uses sliding_window in every layer (alternating layers are another architecture, e.g. Ministral)');
      }
      return all;
    }
    case 'qwen2': {
      const window = r.bool('use_sliding_window') ? stored : null;
      if (hasTypes) return fromTypes(window);
      const from = r.int('max_window_layers');
      return Array.from({ length: layers }, (_, i) => (window !== null && i >= from ? window : null));
    }
    default:
      return Array.from({ length: layers }, () => null);
  }
}

export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ApiError('WEIGHTS_INVALID', 'config.json: is not a JSON object', { file });
  const cfg = raw as Json;
  const names = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : [];
  const architecture = names.find((n) => Object.hasOwn(ARCHITECTURES, n));
  if (!architecture) {
    const named = names.length ? names.join(', ') : `model_type "${String(cfg.model_type ?? 'unknown')}"`;
    throw new ApiError('WEIGHTS_INVALID', `config.json: architecture ${named} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, {
      file,
      architecture: named,
    });
  }
  const arch = ARCHITECTURES[architecture];
  // transformers' Auto classes pick the config and model class by model_type, not architectures:
  // a disagreement would make transformers build another model than we do.
  if (cfg.model_type !== undefined && cfg.model_type !== arch) {
    throw invalid(file, 'model_type', `is ${shown(cfg.model_type)}, but architectures names ${architecture} (model_type "${arch}"); transformers would build another model`);
  }
  checkKeys(cfg, arch, file);
  const r = new Reader(cfg, arch, file);
  const hiddenSize = r.int('hidden_size');
  const numHeads = r.int('num_attention_heads');
  const numKvHeads = r.raw('num_key_value_heads') === null ? numHeads : r.int('num_key_value_heads');
  if (numKvHeads > numHeads || numHeads % numKvHeads) throw invalid(file, 'num_key_value_heads', `(${numKvHeads}) must divide num_attention_heads (${numHeads})`);
  // Llama and Gemma-2 configs refuse hidden_size % heads != 0 even with head_dim set (their
  // validate_architecture); Mistral/Qwen2 floor-divide when head_dim is absent, which we refuse.
  const explicitHeadDim = r.raw('head_dim') !== null && r.raw('head_dim') !== undefined;
  if ((arch === 'gemma2' || arch === 'llama' || !explicitHeadDim) && hiddenSize % numHeads) {
    throw invalid(file, 'hidden_size', `(${hiddenSize}) must be a multiple of num_attention_heads (${numHeads})${explicitHeadDim ? '' : ' when head_dim is not set'}`);
  }
  const headDim = explicitHeadDim ? r.int('head_dim') : hiddenSize / numHeads;
  if (headDim % 2) throw invalid(file, explicitHeadDim ? 'head_dim' : 'hidden_size', `gives a head dimension of ${headDim}; RoPE needs an even one`);
  const numLayers = r.int('num_hidden_layers');
  const vocabSize = r.int('vocab_size');
  const maxPositions = r.int('max_position_embeddings');
  const gemma = arch === 'gemma2';
  const attentionBias = arch === 'gemma2' || arch === 'llama' ? r.bool('attention_bias') : false;
  const bos = r.raw('bos_token_id');
  if (bos !== null && bos !== undefined && (typeof bos !== 'number' || !Number.isSafeInteger(bos) || bos < 0 || bos >= vocabSize)) {
    throw invalid(file, 'bos_token_id', `must be a token id below vocab_size (${vocabSize}), got ${shown(bos)}`);
  }
  const tie = r.raw('tie_word_embeddings');
  if (typeof tie !== 'boolean') throw invalid(file, 'tie_word_embeddings', `must be true or false, got ${shown(tie)}`);
  return {
    architecture,
    arch,
    vocabSize,
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: r.int('intermediate_size'),
    rmsNormEps: r.float('rms_norm_eps'),
    maxPositions,
    rope: rope(r, maxPositions),
    tieEmbeddings: tie,
    activation: activation(r),
    qkvBias: arch === 'qwen2' || attentionBias,
    oBias: attentionBias,
    mlpBias: arch === 'llama' ? r.bool('mlp_bias') : false,
    windows: windows(r, numLayers),
    attentionScale: (gemma ? r.float('query_pre_attn_scalar') : headDim) ** -0.5,
    attnSoftcap: gemma ? r.optionalFloat('attn_logit_softcapping') : null,
    finalSoftcap: gemma ? r.optionalFloat('final_logit_softcapping') : null,
    gemmaStyle: gemma,
    dtype: String(cfg.dtype ?? cfg.torch_dtype ?? 'float32'),
    bosTokenId: typeof bos === 'number' ? bos : null,
  };
}

/** Parameter count implied by the config (tied embeddings counted once). */
export function parameterCount(c: ModelConfig): number {
  const attn = c.hiddenSize * c.headDim * (c.numHeads * 2 + c.numKvHeads * 2) + (c.qkvBias ? c.headDim * (c.numHeads + 2 * c.numKvHeads) : 0) + (c.oBias ? c.hiddenSize : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize + (c.mlpBias ? 2 * c.intermediateSize + c.hiddenSize : 0);
  const norms = c.hiddenSize * (c.gemmaStyle ? 4 : 2);
  const embed = c.vocabSize * c.hiddenSize * (c.tieEmbeddings ? 1 : 2);
  return c.numLayers * (attn + mlp + norms) + embed + c.hiddenSize;
}

/** Every weight tensor an architecture reads, with its shape (HF names and layouts). */
export function expectedTensors(c: ModelConfig): { name: string; shape: number[]; norm: boolean }[] {
  const d = c.hiddenSize;
  const out: { name: string; shape: number[]; norm: boolean }[] = [{ name: 'model.embed_tokens.weight', shape: [c.vocabSize, d], norm: false }];
  for (let L = 0; L < c.numLayers; L++) {
    const p = `model.layers.${L}`;
    const norms = c.gemmaStyle
      ? ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']
      : ['input_layernorm', 'post_attention_layernorm'];
    for (const n of norms) out.push({ name: `${p}.${n}.weight`, shape: [d], norm: true });
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    for (const [n, rows] of [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] as const) {
      out.push({ name: `${p}.self_attn.${n}.weight`, shape: [rows, d], norm: false });
      if (c.qkvBias) out.push({ name: `${p}.self_attn.${n}.bias`, shape: [rows], norm: false });
    }
    out.push({ name: `${p}.self_attn.o_proj.weight`, shape: [d, q], norm: false });
    if (c.oBias) out.push({ name: `${p}.self_attn.o_proj.bias`, shape: [d], norm: false });
    for (const [n, rows, cols] of [['gate_proj', c.intermediateSize, d], ['up_proj', c.intermediateSize, d], ['down_proj', d, c.intermediateSize]] as const) {
      out.push({ name: `${p}.mlp.${n}.weight`, shape: [rows, cols], norm: false });
      if (c.mlpBias) out.push({ name: `${p}.mlp.${n}.bias`, shape: [rows], norm: false });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [d], norm: true });
  if (!c.tieEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, d], norm: false });
  return out;
}

/** Stored tensors no architecture reads that a checkpoint may carry harmlessly: RoPE inverse
 * frequencies saved as buffers by older transformers (we compute them from the config). The one
 * list of exceptions to "a weight file holding a tensor the graph never reads is refused". */
export const IGNORABLE_TENSORS: readonly RegExp[] = [/(^|\.)rotary_emb\.inv_freq$/];

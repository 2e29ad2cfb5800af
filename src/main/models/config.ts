// A Hugging Face `config.json` turned into the one description our graph builder needs.
// Both config generations are read: the hub's files (`rope_theta`, `rope_scaling`, `torch_dtype`)
// and transformers >= 5 (`rope_parameters`, `dtype`, `layer_types`).
import { ApiError } from '../../shared/errors';

export type ArchName = 'gemma2' | 'llama' | 'mistral' | 'qwen2';

export const ARCHITECTURES: Readonly<Record<string, ArchName>> = {
  Gemma2ForCausalLM: 'gemma2',
  LlamaForCausalLM: 'llama',
  MistralForCausalLM: 'mistral',
  Qwen2ForCausalLM: 'qwen2',
};

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
  /** q/k/v projections carry biases (Qwen2; Llama's attention_bias). */
  qkvBias: boolean;
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

function invalid(file: string, message: string): ApiError {
  return new ApiError('WEIGHTS_INVALID', `config.json: ${message}`, { file });
}

type Json = Record<string, unknown>;

function int(cfg: Json, key: string, file: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (!Number.isSafeInteger(v) || (v as number) < 0) throw invalid(file, `"${key}" must be a non-negative integer, got ${JSON.stringify(cfg[key])}`);
  return v as number;
}

function num(cfg: Json, key: string, file: string, fallback?: number): number {
  const v = cfg[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(file, `"${key}" must be a number, got ${JSON.stringify(cfg[key])}`);
  return v;
}

function optionalNum(cfg: Json, key: string, file: string): number | null {
  return cfg[key] === undefined || cfg[key] === null ? null : num(cfg, key, file);
}

function rope(cfg: Json, file: string): RopeConfig {
  // transformers >= 5: rope_parameters {rope_type, rope_theta, ...}; before: rope_theta + rope_scaling.
  const params = (cfg.rope_parameters ?? cfg.rope_scaling ?? null) as Json | null;
  const theta = num(params && params.rope_theta !== undefined ? params : cfg, 'rope_theta', file, 10000);
  const type = String(params?.rope_type ?? params?.type ?? 'default');
  if (type === 'default') return { theta, type: 'default' };
  if (type === 'llama3') {
    return {
      theta,
      type: 'llama3',
      factor: num(params!, 'factor', file),
      lowFreqFactor: num(params!, 'low_freq_factor', file),
      highFreqFactor: num(params!, 'high_freq_factor', file),
      originalMaxPositions: int(params!, 'original_max_position_embeddings', file),
    };
  }
  throw new ApiError('WEIGHTS_INVALID', `config.json: rope scaling "${type}" is not supported (supported: default, llama3)`, { file });
}

function activation(cfg: Json, arch: ArchName, file: string): ModelConfig['activation'] {
  const name = String(cfg.hidden_activation ?? cfg.hidden_act ?? (arch === 'gemma2' ? 'gelu_pytorch_tanh' : 'silu'));
  if (name === 'gelu_pytorch_tanh' || name === 'gelu_new' || name === 'gelu_fast') return 'gelu_tanh';
  if (name === 'silu' || name === 'swish') return 'silu';
  throw invalid(file, `hidden activation "${name}" is not supported (supported: gelu_pytorch_tanh, silu)`);
}

/** Which layers use a sliding window: `layer_types` when present, else each architecture's rule. */
function windows(cfg: Json, arch: ArchName, layers: number, file: string): (number | null)[] {
  const window = optionalNum(cfg, 'sliding_window', file);
  const types = cfg.layer_types;
  if (Array.isArray(types)) {
    if (types.length !== layers) throw invalid(file, `"layer_types" has ${types.length} entries for ${layers} layers`);
    return types.map((t, i) => {
      if (t === 'full_attention') return null;
      if (t === 'sliding_attention') {
        if (window === null) throw invalid(file, `layer ${i} is "sliding_attention" but "sliding_window" is not set`);
        return window;
      }
      throw invalid(file, `layer type "${String(t)}" is not supported (full_attention, sliding_attention)`);
    });
  }
  switch (arch) {
    case 'gemma2': // even layers slide (HF Gemma2: layer 0 is local)
      return Array.from({ length: layers }, (_, i) => (i % 2 === 0 ? (window ?? 4096) : null));
    case 'mistral':
      return Array.from({ length: layers }, () => window);
    case 'qwen2': {
      if (!cfg.use_sliding_window || window === null) return Array.from({ length: layers }, () => null);
      const from = int(cfg, 'max_window_layers', file, layers);
      return Array.from({ length: layers }, (_, i) => (i >= from ? window : null));
    }
    default:
      return Array.from({ length: layers }, () => null);
  }
}

export function parseModelConfig(raw: unknown, file = 'config.json'): ModelConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(file, 'is not a JSON object');
  const cfg = raw as Json;
  const names = Array.isArray(cfg.architectures) ? (cfg.architectures as unknown[]).map(String) : [];
  const architecture = names.find((n) => n in ARCHITECTURES);
  if (!architecture) {
    const named = names.length ? names.join(', ') : `model_type "${String(cfg.model_type ?? 'unknown')}"`;
    throw new ApiError('WEIGHTS_INVALID', `config.json: architecture ${named} is not supported (supported: ${Object.keys(ARCHITECTURES).join(', ')})`, {
      file,
      architecture: named,
    });
  }
  const arch = ARCHITECTURES[architecture];
  const hiddenSize = int(cfg, 'hidden_size', file);
  const numHeads = int(cfg, 'num_attention_heads', file);
  const numKvHeads = int(cfg, 'num_key_value_heads', file, numHeads);
  const headDim = cfg.head_dim === undefined || cfg.head_dim === null ? hiddenSize / numHeads : int(cfg, 'head_dim', file);
  if (!Number.isInteger(headDim) || headDim % 2) throw invalid(file, `head dim ${headDim} must be an even integer`);
  if (numHeads === 0 || numKvHeads === 0 || numHeads % numKvHeads) throw invalid(file, `${numHeads} attention heads cannot share ${numKvHeads} key/value heads`);
  const numLayers = int(cfg, 'num_hidden_layers', file);
  const gemma = arch === 'gemma2';
  const queryScalar = gemma ? num(cfg, 'query_pre_attn_scalar', file, headDim) : headDim;
  return {
    architecture,
    arch,
    vocabSize: int(cfg, 'vocab_size', file),
    hiddenSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    intermediateSize: int(cfg, 'intermediate_size', file),
    rmsNormEps: num(cfg, 'rms_norm_eps', file, 1e-6),
    maxPositions: int(cfg, 'max_position_embeddings', file, 8192),
    rope: rope(cfg, file),
    tieEmbeddings: cfg.tie_word_embeddings === undefined ? gemma : Boolean(cfg.tie_word_embeddings),
    activation: activation(cfg, arch, file),
    qkvBias: arch === 'qwen2' || Boolean(cfg.attention_bias),
    windows: windows(cfg, arch, numLayers, file),
    attentionScale: queryScalar ** -0.5,
    attnSoftcap: gemma ? optionalNum(cfg, 'attn_logit_softcapping', file) : null,
    finalSoftcap: gemma ? optionalNum(cfg, 'final_logit_softcapping', file) : null,
    gemmaStyle: gemma,
    dtype: String(cfg.dtype ?? cfg.torch_dtype ?? 'float32'),
    bosTokenId: typeof cfg.bos_token_id === 'number' ? cfg.bos_token_id : null,
  };
}

/** Parameter count implied by the config (tied embeddings counted once). */
export function parameterCount(c: ModelConfig): number {
  const attn = c.hiddenSize * c.headDim * (c.numHeads * 2 + c.numKvHeads * 2) + (c.qkvBias ? c.headDim * (c.numHeads + 2 * c.numKvHeads) : 0);
  const mlp = 3 * c.hiddenSize * c.intermediateSize;
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
    out.push({ name: `${p}.mlp.gate_proj.weight`, shape: [c.intermediateSize, d], norm: false });
    out.push({ name: `${p}.mlp.up_proj.weight`, shape: [c.intermediateSize, d], norm: false });
    out.push({ name: `${p}.mlp.down_proj.weight`, shape: [d, c.intermediateSize], norm: false });
  }
  out.push({ name: 'model.norm.weight', shape: [d], norm: true });
  if (!c.tieEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, d], norm: false });
  return out;
}

/** config.json keys transformers types as float: JSON.stringify would write 30.0 as 30, which
 * transformers 5's strict configs refuse ("expected float, got int"). */
const FLOAT_KEYS = ['attn_logit_softcapping', 'final_logit_softcapping', 'rope_theta', 'rms_norm_eps', 'initializer_range', 'attention_dropout'];

/** A config object as config.json text that Hugging Face transformers loads. */
export function hfConfigJson(config: object): string {
  let text = JSON.stringify(config, null, 2);
  for (const key of FLOAT_KEYS) text = text.replace(new RegExp(`("${key}": )(-?\\d+)(,?\\n)`, 'g'), '$1$2.0$3');
  return `${text}\n`;
}

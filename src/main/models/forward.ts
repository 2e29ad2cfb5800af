// The forward graph of a decoder LLM (Gemma-2, Llama, Mistral, Qwen2) over a checkpoint folder,
// following Hugging Face transformers' modeling code. Tokens travel flat, (N = B*T, d), through
// norms, projections and MLPs; attention reshapes to (B, H, T, Dh). Weights stay in their
// safetensors files (external data) and are used in the stored (out, in) layout by Gemm.
//
// Inputs:  input_ids (B, T) int64, right-padded; token_index (M) int64 = flat indices b*T + t of
//          the real tokens; rope_cos, rope_sin (T, Dh); one boolean mask (B, 1, T, T) per
//          attention window in use: mask_full, mask_w{W}.
// Outputs: blocks.L.hook_resid_{pre,mid,post} (M, d) for the hooks asked for, logits (M, V);
//          with `guard`, guard.nonfinite (S) float32: how many NaN/±Inf values each site (the
//          embeddings, each layer's attention and MLP sub-blocks, the logits) left in the real
//          tokens' residual stream, so a broken model is named before anything reads its outputs.
// Compute dtype (`ForwardOutputs.dtype`): float32 by default; float16 (for GPU providers) follows
// transformers' float16 eager path: weights rounded to float16, activations, projections, rotary,
// softcaps and residual adds in float16; RMSNorm and the attention softmax in float32 (HF upcasts
// both), rounded back once. Inputs and every output stay float32 (cast at the boundary), so feeds,
// readers and SAE extensions do not change.
import { ApiError } from '../../shared/errors';
import { Graph, type Value } from '../engine/graph';
import { attention, rmsNorm, rotary, softcap } from '../engine/nn';
import { add, cast, geluTanh, mul, sigmoid } from '../engine/ops/elementwise';
import { reduceSum } from '../engine/ops/reduce';
import { isInf, isNaN } from '../engine/ops/select';
import { linear } from '../engine/ops/linalg';
import { int64s, reshapeTo, shapeOf } from '../engine/ops/shapes';
import { concat, gather, reshape, transpose, unsqueeze } from '../engine/ops/tensor';
import type { WeightIndex } from '../io/safetensors';
import type { PeftAdapter } from '../io/peft-adapter';
import { externalWeight, WeightFolder } from '../engine/weights';
import { expectedTensors, type ModelConfig } from './config';

export type HookKind = 'resid_pre' | 'resid_mid' | 'resid_post';
export const HOOK_KINDS: readonly HookKind[] = ['resid_pre', 'resid_mid', 'resid_post'];

export const hookName = (layer: number, kind: HookKind) => `blocks.${layer}.hook_${kind}`;

export function parseHookName(name: string, layers: number): { layer: number; kind: HookKind } {
  const m = /^blocks\.(\d+)\.hook_(resid_pre|resid_mid|resid_post)$/.exec(name);
  if (!m) throw new ApiError('INVALID_ARGUMENT', `unknown hook "${name}" (hooks are blocks.L.hook_resid_pre, hook_resid_mid, hook_resid_post)`);
  const layer = Number(m[1]);
  if (layer >= layers) throw new ApiError('INVALID_ARGUMENT', `hook "${name}": the model has layers 0..${layers - 1}`);
  return { layer, kind: m[2] as HookKind };
}

export interface ForwardOutputs {
  /** TransformerLens hook names, e.g. blocks.12.hook_resid_post. */
  hooks: readonly string[];
  logits: boolean;
  /** The dtype the decoder computes in (default float32); see the header. */
  dtype?: ComputeDtype;
}

export type ComputeDtype = 'float32' | 'float16';

export const maskInput = (window: number | null) => (window === null ? 'mask_full' : `mask_w${window}`);

export interface ForwardGraph {
  graph: Graph;
  /** Mask inputs the graph declares (one per distinct window). */
  maskWindows: (number | null)[];
  /** Stored bytes of the weights the graph reads. */
  weightBytes: number;
  /** With `guard`: what each entry of guard.nonfinite counts after. */
  guardSites: GuardSite[];
}

/** A point of the forward pass the non-finite guard checks: `layer` null for the embeddings
 * (before layer 0) and the logits (after the last layer). */
export interface GuardSite {
  label: string;
  layer: number | null;
  /** The weights read between the previous site and this one. */
  tensors: (config: ModelConfig) => string[];
}

export const GUARD_OUTPUT = 'guard.nonfinite';

/** What a graph built on top of the forward pass (e.g. SAE encoding) gets. */
export interface ForwardContext {
  g: Graph;
  /** Flat (N = B*T, d) residual values of the tapped hooks, every token (padding included). */
  tapped: Map<string, Value>;
  /** Shape(input_ids) = [B, T]. */
  idsShape: Value;
}

export interface ForwardExtension {
  /** Hooks whose flat values `extend` receives. */
  taps: readonly string[];
  extend(ctx: ForwardContext): void;
  /** The folder external-data locations resolve against (an ancestor of every file the graph
   * reads); default: the model folder. */
  root?: string;
}

/** Where a weight comes from: an external-data initializer (inference) or a graph input (training). */
export interface WeightSource {
  get(name: string, options: { shape: number[] }): Value;
  readonly bytesUsed: number;
}

/** LoRA factors of the adapted linears: A (r, in), B (out, r) and the scale s, by module name
 * (model.layers.L.self_attn.q_proj); undefined for a linear left as it is. */
export interface LoraSource {
  factors(module: string): { a: Value; b: Value; scale: number } | undefined;
}

/** A PEFT adapter's factors as in-memory initializers of `g` (small: r·(in+out) per module), so
 * the graph's external-data folder stays the model's. */
export function adapterLora(g: Graph, adapter: PeftAdapter): LoraSource {
  return {
    factors(module) {
      const m = adapter.modules.get(module);
      if (!m) return undefined;
      return { a: externalWeight(g, m.a, adapter.path, { as: `lora.${module}.A` }), b: externalWeight(g, m.b, adapter.path, { as: `lora.${module}.B` }), scale: adapter.scale };
    },
  };
}

export function buildForwardGraph(config: ModelConfig, folder: string, index: WeightIndex, outputs: ForwardOutputs, extension?: ForwardExtension, adapter?: PeftAdapter): ForwardGraph {
  const g = new Graph(`${config.arch}-forward`);
  return buildDecoder(g, config, new WeightFolder(extension?.root ?? folder, index, g), outputs, extension, true, adapter ? adapterLora(g, adapter) : undefined);
}

/** Layer L's attention or MLP sub-block weights, norms and biases included (HF names). */
const layerTensors = (L: number, part: 'attention' | 'mlp') => (c: ModelConfig) => {
  const norms = part === 'attention' ? ['input_layernorm', ...(c.gemmaStyle ? ['post_attention_layernorm'] : [])] : c.gemmaStyle ? ['pre_feedforward_layernorm', 'post_feedforward_layernorm'] : ['post_attention_layernorm'];
  const prefixes = [part === 'attention' ? 'self_attn.' : 'mlp.', ...norms.map((n) => `${n}.`)].map((x) => `model.layers.${L}.${x}`);
  return expectedTensors(c)
    .map((t) => t.name)
    .filter((n) => prefixes.some((x) => n.startsWith(x)));
};

/** The decoder on graph `g` with weights from `w`; see buildForwardGraph for inputs and outputs. */
export function buildDecoder(
  g: Graph,
  config: ModelConfig,
  w: WeightSource,
  outputs: ForwardOutputs,
  extension?: Omit<ForwardExtension, 'root'>,
  guard = false,
  lora?: LoraSource,
): ForwardGraph & { logits?: Value } {
  const c = config;
  const wanted = new Map<string, { layer: number; kind: HookKind }>();
  for (const name of outputs.hooks) wanted.set(name, parseHookName(name, c.numLayers));
  const taps = new Set(extension?.taps ?? []);
  const tapLayers = [...taps].map((name) => parseHookName(name, c.numLayers).layer);
  if (!wanted.size && !outputs.logits && !taps.size) throw new ApiError('INVALID_ARGUMENT', 'ask for at least one hook or the logits');
  // Layers after the last hook are only needed for the logits.
  const lastLayer = outputs.logits ? c.numLayers - 1 : Math.max(...[...wanted.values()].map((h) => h.layer), ...tapLayers);

  const tapped = new Map<string, Value>();
  const dt = outputs.dtype ?? 'float32';
  const half = dt === 'float16';
  const toFloat32 = (x: Value) => (half ? cast(x, 'float32') : x);
  const toCompute = (x: Value) => (half ? cast(x, 'float16') : x);
  // A weight in the compute dtype: onnxruntime folds the Cast(s) once at load.
  const weight = (name: string, shape: number[]) => toCompute(w.get(name, { shape }));
  const d = c.hiddenSize;
  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const tokenIndex = g.input('token_index', 'int64', ['tokens']);
  // HF computes cos/sin in float32 and casts them to the activations' dtype.
  const cosIn = g.input('rope_cos', 'float32', ['seq', c.headDim]);
  const sinIn = g.input('rope_sin', 'float32', ['seq', c.headDim]);
  const cos = toCompute(cosIn);
  const sin = toCompute(sinIn);
  const maskWindows = [...new Set(c.windows.slice(0, lastLayer + 1))];
  const masks = new Map(maskWindows.map((win) => [win, g.input(maskInput(win), 'bool', ['batch', 1, 'seq', 'seq'])]));

  // Non-finite counts at the real tokens only: padding rows may legitimately hold anything.
  const guardSites: GuardSite[] = [];
  const guardCounts: Value[] = [];
  const check = (value: Value, site: GuardSite, real = false) => {
    if (!guard) return;
    const rows = real ? value : gather(value, tokenIndex);
    const count = (test: (v: Value) => Value) => reduceSum(cast(test(rows), 'float32'), [0, 1], false);
    guardCounts.push(unsqueeze(add(count(isNaN), count(isInf)), [0]));
    guardSites.push(site);
  };
  const finishGuard = () => {
    if (guard) g.output(concat(guardCounts, 0), GUARD_OUTPUT);
  };

  const embed = weight('model.embed_tokens.weight', [c.vocabSize, d]);
  let h = reshape(gather(embed, ids), [-1, d]); // (N, d)
  // HF multiplies by sqrt(d) rounded to the activations' dtype.
  if (c.gemmaStyle) h = mul(h, g.scalar(Math.fround(Math.sqrt(d)), dt));
  check(h, { label: 'the token embeddings', layer: null, tensors: () => ['model.embed_tokens.weight'] });

  // float16: normalised in float32 from the float16-rounded weight, rounded once at the end.
  const norm = (x: Value, name: string) =>
    half ? cast(rmsNorm(cast(x, 'float32'), cast(weight(name, [d]), 'float32'), c.rmsNormEps, c.gemmaStyle), 'float16') : rmsNorm(x, w.get(name, { shape: [d] }), c.rmsNormEps, c.gemmaStyle);
  // PEFT's LoRA in factored form: y = x·Wᵀ (+ b) + s·(x·Aᵀ)·Bᵀ, x (N, in), A (r, in), B (out, r);
  // never W + s·B·A, so the (out, in) product is never formed.
  const proj = (x: Value, name: string, out: number, inp: number, bias = false) => {
    const y = linear(x, weight(`${name}.weight`, [out, inp]), bias ? weight(`${name}.bias`, [out]) : undefined);
    const f = lora?.factors(name);
    return f ? add(y, mul(linear(linear(x, toCompute(f.a)), toCompute(f.b)), g.scalar(Math.fround(f.scale), dt))) : y;
  };
  const idsShape = shapeOf(ids);
  // (N, H*Dh) -> (B, H, T, Dh)
  const heads = (x: Value, n: number) => transpose(reshapeTo(x, concat([idsShape, int64s(g, [n, c.headDim])], 0)), [0, 2, 1, 3]);
  const emit = (layer: number, kind: HookKind, value: Value) => {
    const name = hookName(layer, kind);
    if (wanted.has(name)) g.output(toFloat32(gather(value, tokenIndex)), name);
    if (taps.has(name)) tapped.set(name, toFloat32(value));
  };

  for (let L = 0; L <= lastLayer; L++) {
    const p = `model.layers.${L}`;
    emit(L, 'resid_pre', h);
    const x = norm(h, `${p}.input_layernorm.weight`);
    const q = rotary(heads(proj(x, `${p}.self_attn.q_proj`, c.numHeads * c.headDim, d, c.qkvBias), c.numHeads), cos, sin);
    const k = rotary(heads(proj(x, `${p}.self_attn.k_proj`, c.numKvHeads * c.headDim, d, c.qkvBias), c.numKvHeads), cos, sin);
    const v = heads(proj(x, `${p}.self_attn.v_proj`, c.numKvHeads * c.headDim, d, c.qkvBias), c.numKvHeads);
    const a = attention(q, k, v, { scale: c.attentionScale, softcap: c.attnSoftcap ?? undefined, mask: masks.get(c.windows[L])! });
    let attnOut = proj(reshape(transpose(a, [0, 2, 1, 3]), [-1, c.numHeads * c.headDim]), `${p}.self_attn.o_proj`, d, c.numHeads * c.headDim, c.oBias);
    if (c.gemmaStyle) attnOut = norm(attnOut, `${p}.post_attention_layernorm.weight`);
    h = add(h, attnOut);
    check(h, { label: `layer ${L}'s attention`, layer: L, tensors: layerTensors(L, 'attention') });
    emit(L, 'resid_mid', h);
    const m = norm(h, c.gemmaStyle ? `${p}.pre_feedforward_layernorm.weight` : `${p}.post_attention_layernorm.weight`);
    const gate = proj(m, `${p}.mlp.gate_proj`, c.intermediateSize, d, c.mlpBias);
    const act = c.activation === 'gelu_tanh' ? geluTanh(gate) : mul(gate, sigmoid(gate));
    let mlpOut = proj(mul(act, proj(m, `${p}.mlp.up_proj`, c.intermediateSize, d, c.mlpBias)), `${p}.mlp.down_proj`, d, c.intermediateSize, c.mlpBias);
    if (c.gemmaStyle) mlpOut = norm(mlpOut, `${p}.post_feedforward_layernorm.weight`);
    h = add(h, mlpOut);
    check(h, { label: `layer ${L}'s MLP`, layer: L, tensors: layerTensors(L, 'mlp') });
    emit(L, 'resid_post', h);
  }

  if (outputs.logits) {
    // Only the real tokens go through the final norm and the (large) unembedding.
    const last = norm(gather(h, tokenIndex), 'model.norm.weight');
    const unembed = c.tieEmbeddings ? embed : weight('lm_head.weight', [c.vocabSize, d]);
    let logits = linear(last, unembed);
    if (c.finalSoftcap !== null) logits = softcap(logits, c.finalSoftcap);
    logits = toFloat32(logits);
    g.output(logits, 'logits');
    check(logits, { label: 'the final norm and unembedding', layer: null, tensors: (cc) => ['model.norm.weight', cc.tieEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'] }, true);
    finishGuard();
    extension?.extend({ g, tapped, idsShape });
    return { graph: g, maskWindows, weightBytes: w.bytesUsed, guardSites, logits };
  }
  finishGuard();
  extension?.extend({ g, tapped, idsShape });
  return { graph: g, maskWindows, weightBytes: w.bytesUsed, guardSites };
}

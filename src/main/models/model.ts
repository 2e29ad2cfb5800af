// A local Hugging Face model folder: inspection (what the model step shows) and forward runs in
// the compute worker with the hooks asked for. Inputs are prepared on the host: right padding,
// the real tokens' flat indices, rotary tables computed the way transformers computes them
// (float32 inverse frequencies and angles), and one boolean mask per attention window.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { ModelInfo } from '../../shared/dto';
import { externalDataRoot } from '../engine/external-root';
import { attentionMask } from '../engine/nn';
import type { RemoteSession, RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { quantizeGraph, type QuantizeOptions } from '../engine/quantize';
import { jsonErrorWhere, MAX_JSON_BYTES, readRegularFile, WEIGHT_CODES } from '../io/input-file';
import type { PeftAdapter } from '../io/peft-adapter';
import { readWeightIndex, type WeightIndex } from '../io/safetensors';
import { nonFiniteIn } from '../io/safetensors-scan';
import { expectedTensors, IGNORABLE_TENSORS, parameterCount, parseModelConfig, type ModelConfig, type RopeConfig } from './config';
import { buildForwardGraph, GUARD_OUTPUT, maskInput, type ForwardExtension, type ForwardOutputs, type GuardSite } from './forward';

export interface ModelFolder {
  path: string;
  config: ModelConfig;
  index: WeightIndex;
  info: ModelInfo;
}

const BYTES: Record<string, number> = { F32: 4, F64: 8, BF16: 2, F16: 2 };

/** Reads config.json and the safetensors headers (no weights) and checks they fit together. */
export function openModelFolder(folder: string): ModelFolder {
  const path = resolve(folder);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: no such folder; expected a model folder with config.json, *.safetensors and tokenizer.json`, { file: path });
  }
  const configFile = join(path, 'config.json');
  if (!existsSync(configFile)) throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: has no config.json`, { file: configFile });
  let raw: unknown;
  try {
    // Regular file, bounded size, non-blocking open: a FIFO named config.json cannot hang the backend.
    raw = JSON.parse(readRegularFile(configFile, WEIGHT_CODES, MAX_JSON_BYTES, 'config.json').toString('utf8'));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError('WEIGHTS_INVALID', `config.json: is not valid JSON (${jsonErrorWhere(error)})`, { file: configFile });
  }
  const config = parseModelConfig(raw, configFile);
  const index = readWeightIndex(path);
  const dtypes = [...new Set([...index.tensors.values()].map((t) => t.dtype))];
  const weightBytes = [...index.tensors.values()].reduce((sum, t) => sum + t.byteLength, 0);
  const parameters = parameterCount(config);
  const tokenizer = existsSync(join(path, 'tokenizer.json')) ? join(path, 'tokenizer.json') : null;
  const info: ModelInfo = {
    path,
    architecture: config.architecture,
    arch: config.arch,
    layers: config.numLayers,
    dModel: config.hiddenSize,
    vocabSize: config.vocabSize,
    heads: config.numHeads,
    kvHeads: config.numKvHeads,
    parameters,
    dtype: dtypes.join('+'),
    weightBytes,
    files: index.files.length,
    // Weights stored in 16 bits are widened to float32 at load; activations are small beside them.
    memoryBytes: Math.round(parameters * 4 * 1.05),
    maxPositions: config.maxPositions,
    tokenizer,
    slidingWindowLayers: config.windows.filter((w) => w !== null).length,
  };
  // Every tensor the architecture reads must be there with the config's shape.
  for (const { name, shape } of expectedTensors(config)) {
    const t = index.tensors.get(name);
    if (!t) {
      const where = index.files.length === 1 ? basename(index.files[0]) : `the ${index.files.length} shards`;
      throw new ApiError('WEIGHTS_INVALID', `${where}: has no tensor '${name}', which ${config.architecture} needs`, { file: index.files[0], tensor: name });
    }
    if (t.shape.length !== shape.length || t.shape.some((dim, i) => dim !== shape[i])) {
      throw new ApiError('WEIGHTS_INVALID', `${basename(t.file)}: tensor '${name}' has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}]`, {
        file: t.file,
        tensor: name,
        expected: shape,
        found: t.shape,
      });
    }
  }
  // A tensor the graph would never read means the config describes another model than the file
  // holds (e.g. biases of a key we do not know): refused rather than silently left out.
  const expected = new Set(expectedTensors(config).map((t) => t.name));
  for (const t of index.tensors.values()) {
    if (!expected.has(t.name) && !IGNORABLE_TENSORS.some((re) => re.test(t.name))) {
      const why = t.name === 'lm_head.weight' && config.tieEmbeddings ? 'tie_word_embeddings is true, so the head is the embedding matrix and this one would be ignored' : 'a checkpoint of another architecture or a config that does not match its weights';
      throw new ApiError('WEIGHTS_INVALID', `${basename(t.file)}: tensor '${t.name}' is not read by ${config.architecture} as config.json describes it; ${why}`, {
        file: t.file,
        tensor: t.name,
      });
    }
  }
  for (const t of index.tensors.values()) {
    if (!(t.dtype in BYTES)) {
      throw new ApiError('WEIGHTS_INVALID', `${t.file}: tensor '${t.name}' is ${t.dtype}; weights must be F32, BF16, F16 or F64`, { file: t.file, tensor: t.name });
    }
  }
  return { path, config, index, info };
}

/** cos/sin (T, Dh) as transformers computes them in float32 (rotate-half layout). */
export function ropeTables(rope: RopeConfig, headDim: number, T: number): { cos: Float32Array; sin: Float32Array } {
  const f = Math.fround;
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = f(1 / f(rope.theta ** f((2 * i) / headDim)));
  if (rope.type === 'llama3') {
    const { factor = 8, lowFreqFactor = 1, highFreqFactor = 4, originalMaxPositions = 8192 } = rope;
    const lowWavelen = originalMaxPositions / lowFreqFactor;
    const highWavelen = originalMaxPositions / highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = f((2 * Math.PI) / inv[i]);
      const scaled = wavelen > lowWavelen ? f(inv[i] / factor) : inv[i];
      if (wavelen < highWavelen || wavelen > lowWavelen) {
        inv[i] = scaled;
      } else {
        const smooth = f((originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
        inv[i] = f(f(f(1 - smooth) * f(scaled / factor)) + f(smooth * scaled));
      }
    }
  }
  const cos = new Float32Array(T * headDim);
  const sin = new Float32Array(T * headDim);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = f(inv[i] * t);
      const [c, s] = [Math.cos(angle), Math.sin(angle)];
      cos[t * headDim + i] = cos[t * headDim + i + half] = c;
      sin[t * headDim + i] = sin[t * headDim + i + half] = s;
    }
  }
  return { cos, sin };
}

export interface ForwardResult {
  /** Token ids per phrase, as run. */
  tokens: number[][];
  /** Per output name, float32 (M, width) rows of the real tokens, phrase after phrase. */
  outputs: Record<string, { data: Float32Array; width: number }>;
}

/** The decoder graph's inputs for right-padded phrases: input_ids (B, T), token_index of the real
 * tokens, rope tables for T positions and one mask per attention window the graph declares. */
export function decoderFeeds(c: ModelConfig, phrases: readonly (readonly number[])[], maskWindows: readonly (number | null)[]): Record<string, HostTensor> {
  const B = phrases.length;
  const T = Math.max(...phrases.map((p) => p.length));
  const ids = new BigInt64Array(B * T);
  const index: bigint[] = [];
  phrases.forEach((p, b) => {
    p.forEach((id, t) => {
      ids[b * T + t] = BigInt(id);
      index.push(BigInt(b * T + t));
    });
  });
  const { cos, sin } = ropeTables(c.rope, c.headDim, T);
  const lengths = phrases.map((p) => p.length);
  const feeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', dims: [B, T], data: ids },
    token_index: { dtype: 'int64', dims: [index.length], data: BigInt64Array.from(index) },
    rope_cos: { dtype: 'float32', dims: [T, c.headDim], data: cos },
    rope_sin: { dtype: 'float32', dims: [T, c.headDim], data: sin },
  };
  for (const win of maskWindows) {
    feeds[maskInput(win)] = { dtype: 'bool', dims: [B, 1, T, T], data: attentionMask(lengths, T, win ?? undefined) };
  }
  return feeds;
}

/** A model loaded in the compute worker for one set of outputs. */
export class LoadedModel {
  private constructor(
    readonly folder: ModelFolder,
    readonly outputs: ForwardOutputs,
    private readonly session: RemoteSession,
    private readonly maskWindows: (number | null)[],
    private readonly guardSites: GuardSite[],
  ) {}

  get provider(): string {
    return this.session.provider;
  }

  static async load(folder: ModelFolder, runtime: RuntimeHost, outputs: ForwardOutputs, signal?: AbortSignal, extension?: ForwardExtension, adapter?: PeftAdapter, quantize?: Omit<QuantizeOptions, 'root'>): Promise<LoadedModel> {
    // Locations resolve against the weights' real folder (hub caches link every file elsewhere).
    const root = extension?.root ?? externalDataRoot(folder.index.files);
    const built = buildForwardGraph(folder.config, root, folder.index, outputs, extension, adapter);
    // The fast precision: int8 projections (engine/quantize.ts). Their int8 weights are a quarter of
    // the float ones, so onnxruntime may prepack them (its int8 GEMM packs B once at load).
    if (quantize) quantizeGraph(built.graph, { ...quantize, root });
    const session = await runtime.load(built.graph.toModel(), { externalDataFolder: root, disablePrepacking: !quantize }, signal);
    return new LoadedModel(folder, outputs, session, built.maskWindows, built.guardSites);
  }

  /** Checks the phrases against the model's limits before anything runs. */
  validate(phrases: readonly (readonly number[])[]): void {
    const c = this.folder.config;
    if (phrases.length === 0) throw new ApiError('INVALID_ARGUMENT', 'no phrases to run');
    phrases.forEach((ids, p) => {
      if (ids.length === 0) throw new ApiError('INVALID_ARGUMENT', `phrase ${p + 1} has no tokens`);
      if (ids.length > c.maxPositions) {
        throw new ApiError('INVALID_ARGUMENT', `phrase ${p + 1} has ${ids.length} tokens; the model's context is ${c.maxPositions} (max_position_embeddings)`, { limit: c.maxPositions });
      }
      const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= c.vocabSize);
      if (bad !== undefined) throw new ApiError('INVALID_ARGUMENT', `phrase ${p + 1}: token id ${bad} is outside the vocabulary (0..${c.vocabSize - 1})`);
    });
  }

  feeds(phrases: readonly (readonly number[])[]): Record<string, HostTensor> {
    return decoderFeeds(this.folder.config, phrases, this.maskWindows);
  }

  /** Runs the graph with the model's feeds plus `extra` (inputs an extension declared). */
  async runRaw(phrases: readonly (readonly number[])[], extra: Record<string, HostTensor> = {}, signal?: AbortSignal): Promise<Record<string, HostTensor>> {
    this.validate(phrases);
    const out = await this.session.run({ ...this.feeds(phrases), ...extra }, undefined, signal);
    const counts = out[GUARD_OUTPUT]?.data as Float32Array | undefined;
    delete out[GUARD_OUTPUT];
    const site = counts ? counts.findIndex((n) => n !== 0) : -1;
    if (site >= 0) throw this.nonFiniteError(this.guardSites[site], counts![site]);
    return out;
  }

  /** Names the model file and tensor (or, with finite weights, the layer) that produced NaN/Inf:
   * the first guard site where they appear, then its weights scanned in their files. */
  private nonFiniteError(site: GuardSite, count: number): ApiError {
    const { config, index, path } = this.folder;
    for (const name of site.tensors(config)) {
      const entry = index.tensors.get(name);
      const bad = entry && nonFiniteIn(entry);
      if (entry && bad) {
        return new ApiError(
          'WEIGHTS_INVALID',
          `${basename(entry.file)}: model tensor '${name}' holds ${bad.count} non-finite value(s) (${bad.value} at flat index ${bad.first}); the model's weights are broken, not the SAE's`,
          { file: entry.file, tensor: name, layer: site.layer },
        );
      }
    }
    return new ApiError(
      'WEIGHTS_INVALID',
      `${path}: the model's forward pass produced ${count} NaN or infinite value(s) in ${site.label} from finite weights (an overflow: weights or activations too large for ${this.outputs.dtype === 'float16' ? 'float16 (largest 65504); run it in float32' : 'float32'}); the model is at fault, not the SAE`,
      { file: path, layer: site.layer },
    );
  }

  async run(phrases: readonly (readonly number[])[], signal?: AbortSignal): Promise<ForwardResult> {
    const out = await this.runRaw(phrases, {}, signal);
    const outputs: ForwardResult['outputs'] = {};
    for (const [name, t] of Object.entries(out)) outputs[name] = { data: t.data as Float32Array, width: t.dims[1] };
    return { tokens: phrases.map((p) => [...p]), outputs };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

// A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors), read and checked
// against the model it is applied to. What we apply is PEFT's plain LoRA: for every targeted linear
// y = x·Wᵀ (+ b) + s·(x·Aᵀ)·Bᵀ with A (r, in), B (out, r) and s = lora_alpha/r, or lora_alpha/√r
// with use_rslora. Every option that would change that math (DoRA, LoRA bias, per-module ranks,
// fan_in_fan_out, modules_to_save, ...) is refused by name: nothing is silently left out. So is any
// tensor in the file the graph would not read (PEFT warns about a misnamed key and runs with B = 0;
// we refuse), and any tensor the config implies that the file lacks.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AdapterInfo } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { ModelConfig } from '../models/config';
import { jsonErrorWhere, MAX_JSON_BYTES, readRegularFile, WEIGHT_CODES } from './input-file';
import { readSafetensorsHeader, readTensorBytes, type TensorEntry } from './safetensors';

/** The seven linears LoRA may adapt, as (HF module path under the layer, out, in) per config. */
const LINEARS = (c: ModelConfig) => {
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  return [
    ['self_attn.q_proj', q, d],
    ['self_attn.k_proj', kv, d],
    ['self_attn.v_proj', kv, d],
    ['self_attn.o_proj', d, q],
    ['mlp.gate_proj', c.intermediateSize, d],
    ['mlp.up_proj', c.intermediateSize, d],
    ['mlp.down_proj', d, c.intermediateSize],
  ] as const;
};

/** One adapted linear: its module name (model.layers.L.self_attn.q_proj) and factor tensors. */
export interface LoraModule {
  module: string;
  a: TensorEntry & { data: Uint8Array };
  b: TensorEntry & { data: Uint8Array };
}

export interface PeftAdapter {
  path: string;
  rank: number;
  alpha: number;
  rslora: boolean;
  /** s in y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ. */
  scale: number;
  /** Keyed by module name, e.g. model.layers.0.self_attn.q_proj. */
  modules: Map<string, LoraModule>;
  /** sha256 of adapter_config.json and adapter_model.safetensors (the cache keys' part). */
  sha256: string;
}

export const adapterInfo = (a: PeftAdapter): AdapterInfo => ({ path: a.path, sha256: a.sha256, rank: a.rank, alpha: a.alpha, rslora: a.rslora, scale: a.scale, modules: a.modules.size });

/** Options that leave the applied math unchanged, whatever their value (training, bookkeeping). */
const HARMLESS = new Set([
  'peft_type',
  'task_type',
  'base_model_name_or_path',
  'revision',
  'inference_mode',
  'init_lora_weights',
  'lora_dropout',
  'peft_version',
  'auto_mapping',
  'megatron_core',
  'qalora_group_size',
  'loftq_config',
  'eva_config',
  'corda_config',
  'lora_ga_config',
  'r',
  'lora_alpha',
  'use_rslora',
  'target_modules',
  'layers_to_transform',
  'layers_pattern',
]);
/** Options we accept only at their no-op value (the value names what it must be). */
const MUST_BE: Record<string, (v: unknown) => boolean> = {
  bias: (v) => v === 'none' || v === undefined,
  fan_in_fan_out: (v) => v === false,
  use_dora: (v) => v === false,
  modules_to_save: (v) => v === null || (Array.isArray(v) && v.length === 0),
  rank_pattern: (v) => v === null || (isObject(v) && Object.keys(v).length === 0),
  alpha_pattern: (v) => v === null || (isObject(v) && Object.keys(v).length === 0),
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An option unknown to us is accepted only unset (null, false, empty): a newer PEFT writes many. */
const unset = (v: unknown) => v === null || v === false || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

const invalid = (file: string, message: string, details: Record<string, unknown> = {}) => new ApiError('WEIGHTS_INVALID', `${file}: ${message}`, { file, ...details });

/** Reads and checks an adapter folder against `config`; the factor tensors are read into memory
 * (r·(in+out) values per module: small beside the model). */
export function openPeftAdapter(dir: string, config: ModelConfig): PeftAdapter {
  const path = resolve(dir);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: no such folder; expected a PEFT adapter folder with adapter_config.json and adapter_model.safetensors`, { file: path });
  }
  const configFile = join(path, 'adapter_config.json');
  const weightsFile = join(path, 'adapter_model.safetensors');
  if (!existsSync(configFile)) throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: has no adapter_config.json (not a PEFT adapter folder)`, { file: configFile });
  if (!existsSync(weightsFile)) {
    const bin = join(path, 'adapter_model.bin');
    if (existsSync(bin)) throw invalid(bin, 'adapter_model.bin (a pickled PyTorch file) is not read; save the adapter with safe_serialization=True to get adapter_model.safetensors');
    throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: has no adapter_model.safetensors`, { file: weightsFile });
  }
  const configBytes = readRegularFile(configFile, WEIGHT_CODES, MAX_JSON_BYTES, 'adapter_config.json');
  let raw: unknown;
  try {
    raw = JSON.parse(configBytes.toString('utf8'));
  } catch (error) {
    throw invalid(configFile, `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  if (!isObject(raw)) throw invalid(configFile, 'must hold a JSON object');
  const cfg = raw;
  if (cfg.peft_type !== 'LORA') throw invalid(configFile, `peft_type ${JSON.stringify(cfg.peft_type)} is not supported (only "LORA")`, { key: 'peft_type' });
  for (const [key, ok] of Object.entries(MUST_BE)) {
    if (key in cfg && !ok(cfg[key])) throw invalid(configFile, `${key} = ${JSON.stringify(cfg[key])} is not supported (it changes the adapted model's math)`, { key });
  }
  for (const [key, value] of Object.entries(cfg)) {
    if (!HARMLESS.has(key) && !(key in MUST_BE) && !unset(value)) {
      throw invalid(configFile, `option ${key} = ${JSON.stringify(value).slice(0, 80)} is not supported (only plain LoRA is applied)`, { key });
    }
  }
  const rank = cfg.r;
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 1) throw invalid(configFile, `r must be a positive integer, got ${JSON.stringify(rank)}`, { key: 'r' });
  const alpha = cfg.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0) throw invalid(configFile, `lora_alpha must be a finite number ≥ 0, got ${JSON.stringify(alpha)}`, { key: 'lora_alpha' });
  const rslora = cfg.use_rslora ?? false;
  if (typeof rslora !== 'boolean') throw invalid(configFile, `use_rslora must be true or false`, { key: 'use_rslora' });
  const scale = rslora ? alpha / Math.sqrt(rank) : alpha / rank;

  const targeted = targets(cfg, config, configFile);
  const header = readSafetensorsHeader(weightsFile);
  const prefix = 'base_model.model.';
  const modules = new Map<string, LoraModule>();
  const read = new Set<string>();
  for (const { module, out, inp } of targeted) {
    const pick = (factor: 'A' | 'B', shape: number[]) => {
      const key = `${prefix}${module}.lora_${factor}.weight`;
      const entry = header.tensors.get(key);
      if (!entry) throw invalid(weightsFile, `has no tensor '${key}', which adapter_config.json's target_modules imply`, { tensor: key });
      if (entry.shape.length !== 2 || entry.shape[0] !== shape[0] || entry.shape[1] !== shape[1]) {
        throw invalid(weightsFile, `tensor '${key}' has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}] from r = ${rank} and the model's config (an adapter for another model?)`, {
          tensor: key,
          expected: shape,
          found: entry.shape,
        });
      }
      if (!['F32', 'F16', 'BF16', 'F64'].includes(entry.dtype)) throw invalid(weightsFile, `tensor '${key}' is ${entry.dtype}; LoRA factors must be F32, BF16, F16 or F64`, { tensor: key });
      read.add(key);
      return { ...entry, data: readTensorBytes(entry) };
    };
    modules.set(module, { module, a: pick('A', [rank, inp]), b: pick('B', [out, rank]) });
  }
  const unread = [...header.tensors.keys()].filter((k) => !read.has(k)).sort();
  if (unread.length) {
    throw invalid(weightsFile, `tensor(s) ${unread.slice(0, 3).map((k) => `'${k}'`).join(', ')}${unread.length > 3 ? ` and ${unread.length - 3} more` : ''} would not be read: no targeted module of the model has that name (a misnamed key, or an adapter for another model or configuration)`, {
      tensors: unread,
    });
  }
  const hash = createHash('sha256');
  hash.update(createHash('sha256').update(configBytes).digest('hex'));
  hash.update(createHash('sha256').update(readFileSync(weightsFile)).digest('hex'));
  return { path, rank, alpha, rslora, scale, modules, sha256: hash.digest('hex') };
}

/** The model's linears an adapter config selects (also what the writer checks its modules against). */
export const loraTargets = (cfg: Record<string, unknown>, c: ModelConfig, file: string) => targets(cfg, c, file);

/** The model's linears the config targets, by PEFT's rules (tuners_utils.check_target_module_exists):
 * a string target_modules must fully match the module name (layers_to_transform then plays no
 * part); a list matches a name equal to an entry or ending in "." + entry, and layers_to_transform
 * (int or list) keeps the layers whose index follows layers_pattern (or any name part). */
function targets(cfg: Record<string, unknown>, c: ModelConfig, file: string) {
  const tm = cfg.target_modules;
  if (tm === null || tm === undefined) throw invalid(file, 'target_modules is not set (PEFT would pick per-architecture defaults; name the modules)', { key: 'target_modules' });
  if (typeof tm !== 'string' && !(Array.isArray(tm) && tm.length > 0 && tm.every((t) => typeof t === 'string'))) {
    throw invalid(file, 'target_modules must be a regex string or a non-empty list of module names', { key: 'target_modules' });
  }
  let layers: Set<number> | null = null;
  const lt = cfg.layers_to_transform;
  if (lt !== null && lt !== undefined) {
    const list = typeof lt === 'number' ? [lt] : lt;
    if (!Array.isArray(list) || !list.every((n) => Number.isInteger(n) && n >= 0)) throw invalid(file, 'layers_to_transform must be a layer index or a list of them', { key: 'layers_to_transform' });
    const beyond = list.find((n) => n >= c.numLayers);
    if (beyond !== undefined) throw invalid(file, `layers_to_transform names layer ${beyond}; the model has layers 0..${c.numLayers - 1}`, { key: 'layers_to_transform' });
    layers = new Set(list as number[]);
  }
  const lp = cfg.layers_pattern;
  const patterns = lp === null || lp === undefined ? null : typeof lp === 'string' ? [lp] : Array.isArray(lp) && lp.every((p) => typeof p === 'string') ? (lp as string[]) : undefined;
  if (patterns === undefined) throw invalid(file, 'layers_pattern must be a string or a list of strings', { key: 'layers_pattern' });
  let regex: RegExp | null = null;
  if (typeof tm === 'string') {
    try {
      regex = new RegExp(`^(?:${tm})$`);
    } catch (error) {
      throw invalid(file, `target_modules is not a valid regular expression (${(error as Error).message})`, { key: 'target_modules' });
    }
  }
  const matches = (name: string) => (regex ? regex.test(name) : (tm as string[]).some((t) => name === t || name.endsWith(`.${t}`)));
  const layerOf = (name: string): number | null => {
    const res = patterns ? patterns.map((p) => new RegExp(`.*\\.${p}\\.(\\d+)\\.`).exec(name)).find((m) => m) : /.*\.[^.]*\.(\d+)\./.exec(name);
    return res ? Number(res[1]) : null;
  };
  // Modules PEFT could adapt that our graph has no LoRA path for: refused if targeted.
  for (const other of ['model.embed_tokens', 'lm_head']) {
    if (matches(other)) throw invalid(file, `target_modules selects ${other}; LoRA on the embeddings or the head is not supported`, { key: 'target_modules' });
  }
  const out: { module: string; out: number; inp: number }[] = [];
  for (let L = 0; L < c.numLayers; L++) {
    for (const [part, o, i] of LINEARS(c)) {
      const module = `model.layers.${L}.${part}`;
      if (!matches(module)) continue;
      if (!regex && layers) {
        const idx = layerOf(module);
        if (idx === null || !layers.has(idx)) continue;
      }
      out.push({ module, out: o, inp: i });
    }
  }
  if (!out.length) throw invalid(file, `target_modules ${JSON.stringify(tm)} selects none of the model's linears (q/k/v/o/gate/up/down_proj)`, { key: 'target_modules' });
  return out;
}

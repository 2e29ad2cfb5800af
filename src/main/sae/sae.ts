// Sparse autoencoders from disk, in three formats, described by one `SaeSpec`:
// - Gemma Scope: `params.npz` (W_enc (d, w), W_dec (w, d), b_enc, b_dec, threshold), JumpReLU,
//   applied to the raw residual stream (no normalisation, b_dec not subtracted from the input);
//   the layer comes from the path (`layer_{L}/width_{W}/average_l0_{N}/params.npz`).
// - SAELens: a folder with `cfg.json` + `sae_weights.safetensors` (architectures standard = ReLU,
//   jumprelu, topk), honouring apply_b_dec_to_input, normalize_activations (none,
//   constant_norm_rescale, layer_norm) and rescale_acts_by_decoder_norm (topk).
// - LinguaScope: one `.safetensors` whose metadata `linguascope_sae` holds the same settings in
//   SAELens's key names (what `make-random-saes` and SAE training write).
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SaeInfo } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { jsonErrorWhere, MAX_JSON_BYTES, quoteToken, readRegularFile, requireRegular, statInput, WEIGHT_CODES } from '../io/input-file';
import { readSafetensorsHeader, type TensorEntry } from '../io/safetensors';
import { readNpz, type NpzTensor } from './npz';

export type SaeArchitecture = 'jumprelu' | 'standard' | 'topk';
export type SaeNormalization = 'none' | 'constant_norm_rescale' | 'layer_norm';
export type SaeFormat = 'gemmascope' | 'saelens' | 'linguascope';

export interface SaeSpec {
  /** The file or folder the user named. */
  source: string;
  format: SaeFormat;
  architecture: SaeArchitecture;
  dIn: number;
  dSae: number;
  /** TopK's k. */
  k: number | null;
  applyBDecToInput: boolean;
  normalize: SaeNormalization;
  rescaleActsByDecoderNorm: boolean;
  /** TransformerLens hook, e.g. blocks.12.hook_resid_post; null when the files do not say. */
  hookName: string | null;
  modelName: string | null;
  /** Gemma Scope's average_l0 from the path, when present. */
  averageL0: number | null;
  tensors: { W_enc: NpzTensor; W_dec: NpzTensor; b_enc: NpzTensor; b_dec: NpzTensor; threshold: NpzTensor | null };
  /** Content fingerprint for the cache: settings, shapes, sizes and sampled bytes of each tensor. */
  fingerprint: string;
}

export const SAE_LINGUASCOPE_KEY = 'linguascope_sae';

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, ...details });
}

const SUPPORTED_NORMS: readonly SaeNormalization[] = ['none', 'constant_norm_rescale', 'layer_norm'];

/** TransformerLens-style hook names (blocks.12.hook_resid_post, blocks.3.attn.hook_z, hook_embed):
 * letters, digits, dots and underscores only, so a name can be printed on one line as it is. */
const HOOK_NAME = /^[A-Za-z0-9_.]{1,128}$/;

function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'string') return 'a string';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Typed readers of one settings object; a wrong type is WEIGHTS_INVALID naming the key and the
 * expected form (never the value, unless it is a short plain token). null counts as absent. */
function settingsReader(cfg: Record<string, unknown>, file: string, where: string) {
  const bad = (key: string, expected: string) => invalid(file, `${where}"${key}" must be ${expected}, found ${describeJson(cfg[key])}`, { key });
  return {
    string(key: string): string | null {
      const v = cfg[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'string') throw bad(key, 'a string');
      return v;
    },
    boolean(key: string): boolean | null {
      const v = cfg[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'boolean') throw bad(key, 'true or false');
      return v;
    },
    positiveInt(key: string): number | null {
      const v = cfg[key];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 2 ** 31) throw bad(key, 'a positive integer below 2^31');
      return v;
    },
  };
}

/** Settings in SAELens's key names (cfg.json, or our metadata); `raw` is any parsed JSON. */
function settingsFromCfg(raw: unknown, file: string, what = 'cfg.json') {
  if (!isPlainObject(raw)) throw invalid(file, `${what} is ${describeJson(raw)}, not a JSON object of SAE settings (architecture, d_in, d_sae, hook_name, ...)`);
  const cfg = raw;
  const read = settingsReader(cfg, file, '');
  const arch = read.string('architecture') ?? 'standard';
  if (arch !== 'standard' && arch !== 'jumprelu' && arch !== 'topk') {
    throw invalid(file, `SAE architecture ${quoteToken(arch)} is not supported (standard, jumprelu, topk)`);
  }
  const norm = read.string('normalize_activations') ?? 'none';
  if (norm === 'expected_average_only_in') {
    throw invalid(file, 'normalize_activations "expected_average_only_in" needs the release\'s norm scaling factor folded into the weights first (SAELens does this when it loads from its registry); fold it and save with normalize_activations "none"');
  }
  if (!(SUPPORTED_NORMS as readonly string[]).includes(norm)) throw invalid(file, `normalize_activations ${quoteToken(norm)} is not supported (${SUPPORTED_NORMS.join(', ')})`);
  if (cfg.metadata !== undefined && cfg.metadata !== null && !isPlainObject(cfg.metadata)) throw invalid(file, `"metadata" must be an object, found ${describeJson(cfg.metadata)}`, { key: 'metadata' });
  const metadata = isPlainObject(cfg.metadata) ? cfg.metadata : {};
  const fromMeta = settingsReader(metadata, file, 'metadata ');
  const k = read.positiveInt('k');
  if (arch === 'topk' && k === null) throw invalid(file, 'a topk SAE needs a positive integer "k"', { key: 'k' });
  const hook = fromMeta.string('hook_name') ?? read.string('hook_name');
  if (hook !== null && !HOOK_NAME.test(hook)) {
    throw invalid(file, 'hook_name is not a hook name (letters, digits, dots and underscores, e.g. blocks.12.hook_resid_post)', { key: 'hook_name' });
  }
  const model = fromMeta.string('model_name') ?? read.string('model_name');
  return {
    architecture: arch as SaeArchitecture,
    k: arch === 'topk' ? k : null,
    applyBDecToInput: read.boolean('apply_b_dec_to_input') ?? arch !== 'jumprelu',
    normalize: norm as SaeNormalization,
    rescaleActsByDecoderNorm: read.boolean('rescale_acts_by_decoder_norm') ?? false,
    hookName: hook,
    // Shown only as a label: one line, bounded.
    modelName: model !== null && model.length <= 200 && !/\p{Cc}/u.test(model) ? model : null,
    dIn: read.positiveInt('d_in'),
    dSae: read.positiveInt('d_sae'),
  };
}

function sample(entry: NpzTensor): Buffer {
  if (entry.data) return Buffer.from(entry.data.subarray(0, 4096));
  const fd = openSync(entry.file, 'r');
  try {
    const n = Math.min(entry.byteLength, 4096);
    const head = Buffer.alloc(n);
    const tail = Buffer.alloc(n);
    readSync(fd, head, 0, n, entry.offset);
    readSync(fd, tail, 0, n, entry.offset + entry.byteLength - n);
    return Buffer.concat([head, tail]);
  } finally {
    closeSync(fd);
  }
}

function fingerprint(settings: object, tensors: SaeSpec['tensors']): string {
  const h = createHash('sha256').update(JSON.stringify(settings));
  for (const [name, t] of Object.entries(tensors)) {
    if (!t) continue;
    h.update(`${name}:${t.dtype}:${t.shape.join('x')}:${t.byteLength}`);
    h.update(sample(t));
  }
  return h.digest('hex');
}

function finish(source: string, format: SaeFormat, s: ReturnType<typeof settingsFromCfg>, tensors: Map<string, NpzTensor>, file: string, averageL0: number | null): SaeSpec {
  const need = (name: string) => {
    const t = tensors.get(name);
    if (!t) {
      // Names as stored, when plain and short; a file with hundreds of keys is summarised.
      const keys = [...tensors.keys()];
      const found = keys.slice(0, 12).map((k) => quoteToken(k, 64)).join(', ') + (keys.length > 12 ? `, and ${keys.length - 12} more` : '');
      throw invalid(file, `has no '${name}', which a ${s.architecture} SAE needs (found: ${found || 'nothing'})`, { tensor: name });
    }
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16' && t.dtype !== 'F64') throw invalid(file, `'${name}' is ${t.dtype}; SAE weights must be floats`, { tensor: name });
    return t;
  };
  const W_enc = need('W_enc');
  const W_dec = need('W_dec');
  const b_enc = need('b_enc');
  const b_dec = need('b_dec');
  const threshold = s.architecture === 'jumprelu' ? need('threshold') : null;
  if (W_enc.shape.length !== 2) throw invalid(file, `W_enc has shape [${W_enc.shape}], expected [d_in, d_sae]`, { tensor: 'W_enc' });
  const [dIn, dSae] = W_enc.shape;
  const expect = (t: NpzTensor, name: string, shape: number[]) => {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw invalid(file, `${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] (W_enc is [${dIn}, ${dSae}])`, { tensor: name });
    }
  };
  expect(W_dec, 'W_dec', [dSae, dIn]);
  expect(b_enc, 'b_enc', [dSae]);
  expect(b_dec, 'b_dec', [dIn]);
  if (threshold) expect(threshold, 'threshold', [dSae]);
  if (s.dIn !== null && s.dIn !== dIn) throw invalid(file, `d_in is ${s.dIn} but W_enc is [${dIn}, ${dSae}]`);
  if (s.dSae !== null && s.dSae !== dSae) throw invalid(file, `d_sae is ${s.dSae} but W_enc is [${dIn}, ${dSae}]`);
  if (s.k !== null && s.k > dSae) throw invalid(file, `k = ${s.k} exceeds d_sae = ${dSae}`);
  const t = { W_enc, W_dec, b_enc, b_dec, threshold };
  const { dIn: _a, dSae: _b, ...settings } = s;
  return { source, format, ...settings, dIn, dSae, averageL0, tensors: t, fingerprint: fingerprint({ format, ...settings }, t) };
}

const GEMMA_SCOPE_PATH = /layer_(\d+)[\\/]width_([^\\/]+)[\\/]average_l0_(\d+)/;
/** Gemma Scope's release folders name the site: gemma-scope-2b-pt-res (residual stream), -mlp
 * (MLP output), -att (attention output, per head concatenated), -transcoders. */
const GEMMA_SCOPE_SITE = /gemma-scope-[^\\/]*?-(res|mlp|att|transcoders?)(?:[-_][^\\/]*)?[\\/]/;

/** Whether a Gemma Scope folder width (`16k`, `65k`, `131k`, `1m`, `16384`) names `dSae` features:
 * the releases round powers of two down to thousands (65k = 65536, 131k = 131072, 1m = 1048576).
 * null: the name is not a width. */
export function gemmaScopeWidthFits(text: string, dSae: number): boolean | null {
  const m = /^(\d+)([km]?)$/i.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2].toLowerCase();
  if (unit === 'k') return Math.floor(dSae / 1000) === n || dSae === n * 1024;
  if (unit === 'm') return Math.floor(dSae / 1e6) === n || dSae === n * 1024 * 1024;
  return dSae === n;
}

async function loadGemmaScope(source: string, file: string): Promise<SaeSpec> {
  const site = GEMMA_SCOPE_SITE.exec(file)?.[1];
  if (site && site !== 'res') {
    const what = site === 'mlp' ? 'the MLP output' : site === 'att' ? 'the attention output' : 'MLP transcoders';
    throw invalid(file, `is a Gemma Scope SAE of ${what} (gemma-scope-*-${site}); LinguaScope analyses the residual stream: use the gemma-scope-*-res SAEs`);
  }
  const tensors = await readNpz(file);
  const m = GEMMA_SCOPE_PATH.exec(file);
  const hook = m ? `blocks.${m[1]}.hook_resid_post` : null;
  const settings = { architecture: 'jumprelu' as const, k: null, applyBDecToInput: false, normalize: 'none' as const, rescaleActsByDecoderNorm: false, hookName: hook, modelName: null, dIn: null, dSae: null };
  const spec = finish(source, 'gemmascope', settings, tensors, file, m ? Number(m[3]) : null);
  if (m && gemmaScopeWidthFits(m[2], spec.dSae) === false) throw invalid(file, `its folder says width_${m[2]} but W_enc is [${spec.dIn}, ${spec.dSae}] (${spec.dSae} features)`);
  return spec;
}

async function loadSaeLens(source: string, folder: string): Promise<SaeSpec> {
  const cfgFile = join(folder, 'cfg.json');
  const bytes = readRegularFile(cfgFile, WEIGHT_CODES, MAX_JSON_BYTES, 'SAELens cfg.json');
  let cfg: unknown;
  try {
    cfg = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(cfgFile, error instanceof TypeError ? 'is not valid UTF-8 text' : `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  const weights = join(folder, 'sae_weights.safetensors');
  if (!existsSync(weights)) throw new ApiError('WEIGHTS_NOT_FOUND', `${folder}: has cfg.json but no sae_weights.safetensors`, { file: weights });
  const header = readSafetensorsHeader(weights);
  return finish(source, 'saelens', settingsFromCfg(cfg, cfgFile), header.tensors as Map<string, TensorEntry>, weights, null);
}

function loadOurs(source: string, file: string): SaeSpec {
  const header = readSafetensorsHeader(file);
  const raw = header.metadata[SAE_LINGUASCOPE_KEY];
  if (!raw) throw invalid(file, `has no '${SAE_LINGUASCOPE_KEY}' metadata; not a LinguaScope SAE (SAELens folders need cfg.json + sae_weights.safetensors)`);
  let cfg: unknown;
  try {
    cfg = JSON.parse(raw);
  } catch (error) {
    throw invalid(file, `metadata '${SAE_LINGUASCOPE_KEY}' is not valid JSON (${jsonErrorWhere(error)})`);
  }
  const settings = settingsFromCfg(cfg, file, `metadata '${SAE_LINGUASCOPE_KEY}'`);
  const l0 = (cfg as Record<string, unknown>).average_l0;
  const averageL0 = typeof l0 === 'number' && Number.isFinite(l0) && l0 >= 0 ? l0 : null;
  return finish(source, 'linguascope', settings, header.tensors, file, averageL0);
}

/** One SAE from a params.npz, a SAELens folder, a LinguaScope .safetensors, or a folder holding
 * exactly one of those. */
export async function loadSae(path: string): Promise<SaeSpec> {
  const source = resolve(path);
  const st = statInput(source, WEIGHT_CODES);
  if (st.isDirectory()) {
    if (existsSync(join(source, 'cfg.json'))) return loadSaeLens(source, source);
    if (existsSync(join(source, 'params.npz'))) return loadGemmaScope(source, join(source, 'params.npz'));
    const own = readdirSync(source).filter((n) => n.endsWith('.safetensors'));
    if (own.length === 1) return loadOurs(source, join(source, own[0]));
    throw new ApiError('WEIGHTS_NOT_FOUND', `${source}: has no cfg.json (SAELens), params.npz (Gemma Scope) or single .safetensors SAE`, { file: source });
  }
  requireRegular(source, st, WEIGHT_CODES, 'SAE file or folder');
  if (source.endsWith('.npz')) return loadGemmaScope(source, source);
  if (source.endsWith('.safetensors')) return basename(source) === 'sae_weights.safetensors' ? loadSaeLens(source, dirname(source)) : loadOurs(source, source);
  throw invalid(source, 'is not an SAE file (.npz, .safetensors) or folder');
}

/** Every SAE under a folder (Gemma Scope trees, SAELens folders, our files), sorted by path. */
export async function findSaes(root: string): Promise<SaeSpec[]> {
  const dir = resolve(root);
  if (!statInput(dir, WEIGHT_CODES).isDirectory()) throw new ApiError('WEIGHTS_NOT_FOUND', `${dir}: no such folder`, { file: dir });
  const found: string[] = [];
  const isSaeName = (n: string) => n === 'params.npz' || n === 'cfg.json' || n.endsWith('.safetensors');
  const walk = (d: string, depth: number) => {
    if (depth > 6) return;
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch (error) {
      throw new ApiError('WEIGHTS_INVALID', `${d}: the folder cannot be listed (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { file: d });
    }
    if (names.includes('cfg.json')) return void found.push(d);
    for (const n of names) {
      const p = join(d, n);
      let st: Stats;
      try {
        st = statInput(p, WEIGHT_CODES);
      } catch (error) {
        // A dangling or looping link is only an error where an SAE file was expected.
        if (isSaeName(n)) throw error;
        continue;
      }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (n === 'params.npz') found.push(p);
      else if (n.endsWith('.safetensors') && n !== 'sae_weights.safetensors' && isOurs(p)) found.push(p);
    }
  };
  walk(dir, 0);
  if (found.length === 0) throw new ApiError('WEIGHTS_NOT_FOUND', `${dir}: holds no SAE (params.npz, cfg.json + sae_weights.safetensors, or a LinguaScope .safetensors)`, { file: dir });
  return Promise.all(found.map((p) => loadSae(p)));
}

function isOurs(file: string): boolean {
  try {
    return SAE_LINGUASCOPE_KEY in readSafetensorsHeader(file).metadata;
  } catch {
    return false;
  }
}

/** Layer of an SAE's hook, e.g. 12 for blocks.12.hook_resid_post. */
export function saeLayer(spec: SaeSpec): number | null {
  const m = /^blocks\.(\d+)\./.exec(spec.hookName ?? '');
  return m ? Number(m[1]) : null;
}

/** Checks an SAE against a model: width, d_model, hook point. Says exactly what does not fit. */
export function checkSaeFitsModel(spec: SaeSpec, model: { dModel: number; layers: number; architecture: string }): void {
  const where = spec.source;
  if (spec.dIn !== model.dModel) {
    throw new ApiError('WEIGHTS_INVALID', `${basename(where)}: the SAE reads vectors of size ${spec.dIn} (d_in), the model's residual stream has ${model.dModel} (d_model)`, { file: where });
  }
  if (spec.hookName === null) {
    throw new ApiError('WEIGHTS_INVALID', `${basename(where)}: no hook point is recorded (no cfg metadata.hook_name and no layer_L in the path); assign it a layer`, { file: where });
  }
  const m = /^blocks\.(\d+)\.hook_(resid_pre|resid_mid|resid_post)$/.exec(spec.hookName);
  if (!m) throw new ApiError('WEIGHTS_INVALID', `${basename(where)}: hook ${quoteToken(spec.hookName, 128)} is not a residual-stream hook (blocks.L.hook_resid_pre/mid/post)`, { file: where });
  if (Number(m[1]) >= model.layers) {
    throw new ApiError('WEIGHTS_INVALID', `${basename(where)}: hook ${spec.hookName} needs layer ${m[1]}, ${model.architecture} has layers 0..${model.layers - 1}`, { file: where });
  }
}


export function saeInfo(s: SaeSpec): SaeInfo {
  return {
    layer: saeLayer(s) ?? -1,
    hook: s.hookName ?? '',
    source: s.source,
    format: s.format,
    architecture: s.architecture,
    dIn: s.dIn,
    dSae: s.dSae,
    averageL0: s.averageL0,
    fingerprint: s.fingerprint,
  };
}

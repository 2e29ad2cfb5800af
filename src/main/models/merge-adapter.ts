// A LoRA adapter merged into its base model, written as a Hugging Face model folder that our loader
// and transformers open without the adapter: every adapted linear's weight becomes
//   W' = dtype(W + s·B·A)      W (out, in), B (out, r), A (r, in), s the adapter's scale,
// with W, B, A and the product in float32 and only the sum rounded to the base's dtype (PEFT's
// merge on CPU does the same for half weights). Every other tensor is copied bit for bit. The
// safetensors files mirror the base's (same names, same tensors in each, the index copied), so a
// large model is merged one file at a time; config.json goes through the config writer and the
// tokenizer files are copied. The folder is written whole through the output rules.
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { hfConfigJson } from '../io/config-writer';
import { stageOutputFolder, writeError, writeFileSynced } from '../io/output';
import type { LoraModule, PeftAdapter } from '../io/peft-adapter';
import { f16ToFloat32, float32ToBf16, float32ToF16, readTensorAsFloat32, readTensorBytes, writeSafetensors, type TensorEntry, type TensorToWrite } from '../io/safetensors';
import type { ModelFolder } from './model';

/** Copied as they are when the base has them (tokenizer and generation settings). */
const SIDE_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'tokenizer.model', 'generation_config.json', 'model.safetensors.index.json'];

/** An in-memory factor (any float dtype the loader accepts) as float32. */
function factorAsFloat32(entry: LoraModule['a']): Float32Array {
  const bytes = entry.data.slice(); // aligned copy
  const n = entry.shape.reduce((x, y) => x * y, 1);
  if (entry.dtype === 'F32') return new Float32Array(bytes.buffer, 0, n);
  if (entry.dtype === 'F64') return new Float32Array(new Float64Array(bytes.buffer, 0, n));
  const halves = new Uint16Array(bytes.buffer, 0, n);
  if (entry.dtype === 'F16') return f16ToFloat32(halves);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) bits[i] = halves[i] << 16;
  return out;
}

/** W + s·B·A in float32: each product B·A element accumulated in float32 order as a matmul would,
 * then scaled and added (Math.fround keeps every step in float32). */
export function mergedWeight(w: Float32Array, a: Float32Array, b: Float32Array, out: number, inp: number, r: number, scale: number): Float32Array {
  const merged = new Float32Array(w);
  const s = Math.fround(scale);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inp; i++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc = Math.fround(acc + Math.fround(b[o * r + k] * a[k * inp + i]));
      merged[o * inp + i] = Math.fround(w[o * inp + i] + Math.fround(acc * s));
    }
  }
  return merged;
}

/** The tensor in the base's dtype (the merged values rounded to nearest-even for 16-bit floats). */
function inDtype(entry: TensorEntry, values: Float32Array): TensorToWrite {
  const data = entry.dtype === 'F32' ? values : entry.dtype === 'BF16' ? float32ToBf16(values) : entry.dtype === 'F16' ? float32ToF16(values) : entry.dtype === 'F64' ? new Float64Array(values) : undefined;
  if (!data) throw new ApiError('WEIGHTS_INVALID', `${basename(entry.file)}: tensor '${entry.name}' is ${entry.dtype}; an adapted weight must be a float tensor`, { tensor: entry.name });
  return { name: entry.name, dtype: entry.dtype, shape: entry.shape, data };
}

/** Writes the merged model folder `dir` (replaced whole if it is an earlier output of ours);
 * `adapter` must have been opened against `base.config` (openPeftAdapter checks the shapes). */
export function writeMergedModel(dir: string, base: ModelFolder, adapter: PeftAdapter): string[] {
  const byWeight = new Map([...adapter.modules.values()].map((m) => [`${m.module}.weight`, m]));
  for (const name of byWeight.keys()) {
    if (!base.index.tensors.has(name)) throw new ApiError('WEIGHTS_INVALID', `the model has no tensor '${name}' for the adapter to merge into (an adapter for another model?)`, { tensor: name });
    const [out, inp] = base.index.tensors.get(name)!.shape;
    const m = byWeight.get(name)!;
    if (m.a.shape[1] !== inp || m.b.shape[0] !== out || m.a.shape[0] !== adapter.rank || m.b.shape[1] !== adapter.rank) {
      throw new ApiError('WEIGHTS_INVALID', `'${name}' is [${out}, ${inp}] but the adapter's factors are A [${m.a.shape.join(', ')}], B [${m.b.shape.join(', ')}] (an adapter for another model?)`, { tensor: name });
    }
  }
  const staged = stageOutputFolder(dir, 'merged model');
  try {
    const configJson = JSON.parse(readFileSync(join(base.path, 'config.json'), 'utf8'));
    // Records where the merge came from; transformers keeps unknown config keys as attributes.
    configJson.linguascope_merged_adapter_sha256 = adapter.sha256;
    writeFileSynced(join(staged.dir, 'config.json'), hfConfigJson(configJson));
    for (const file of base.index.files) {
      const tensors: TensorToWrite[] = [];
      for (const entry of [...base.index.tensors.values()].filter((e) => e.file === file).sort((x, y) => x.offset - y.offset)) {
        const lora = byWeight.get(entry.name);
        if (!lora) {
          tensors.push({ name: entry.name, dtype: entry.dtype, shape: entry.shape, data: readTensorBytes(entry) });
          continue;
        }
        const [out, inp] = entry.shape;
        tensors.push(inDtype(entry, mergedWeight(readTensorAsFloat32(entry), factorAsFloat32(lora.a), factorAsFloat32(lora.b), out, inp, adapter.rank, adapter.scale)));
      }
      writeSafetensors(join(staged.dir, basename(file)), tensors, { format: 'pt' });
    }
    for (const f of SIDE_FILES) if (existsSync(join(base.path, f))) copyFileSync(join(base.path, f), join(staged.dir, f));
  } catch (error) {
    staged.discard();
    throw writeError(staged.target, error, `cannot write the merged model folder ${staged.target}`);
  }
  return staged.commit();
}

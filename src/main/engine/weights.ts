// Graph initializers that point into safetensors files as ONNX external data: the model we hand
// onnxruntime holds only names, offsets and lengths, never the weights. onnxruntime resolves the
// locations against one folder (SessionOptions.externalDataFolder) and refuses paths that leave
// it, absolute paths and symbolic links that point elsewhere, so every tensor of one graph must
// come from files under one folder: the checkpoint folder, or the common ancestor of the real
// paths of every file a fused graph reads (`commonRoot`).
// bf16/f16/f64 weights become float32 through a Cast that onnxruntime folds once at load.
import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, sep } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { SafetensorsDtype, TensorEntry, WeightIndex } from '../io/safetensors';
import { graphError, type Graph, type Value } from './graph';
import type { DType } from './onnx-proto';
import { cast } from './ops/elementwise';

const STORED: Partial<Record<SafetensorsDtype, DType>> = {
  F32: 'float32',
  BF16: 'bfloat16',
  F16: 'float16',
  F64: 'float64',
  I64: 'int64',
  I32: 'int32',
};

export interface WeightOptions {
  /** The initializer's name in the graph (default: the tensor's name). */
  as?: string;
  /** The shape the architecture expects; a different stored shape is WEIGHTS_INVALID. */
  shape?: readonly number[];
  /** The dtype the graph computes in (default float32); other stored floats are cast. */
  dtype?: 'float32' | 'float64';
}

/** Weights of one checkpoint folder, turned into initializers of one graph on demand. */
export class WeightFolder {
  private readonly made = new Map<string, Value>();

  constructor(
    readonly folder: string,
    readonly index: WeightIndex,
    private readonly graph: Graph,
  ) {}

  has(name: string): boolean {
    return this.index.tensors.has(name);
  }

  entry(name: string): TensorEntry {
    const entry = this.index.tensors.get(name);
    if (!entry) {
      const where = this.index.files.length === 1 ? basename(this.index.files[0]) : `the ${this.index.files.length} shards of ${this.folder}`;
      throw new ApiError('WEIGHTS_INVALID', `${where}: has no tensor '${name}', which the architecture needs`, { file: this.index.files[0], tensor: name });
    }
    return entry;
  }

  /** The tensor as a float graph value (an external-data initializer, cast when stored otherwise). */
  get(name: string, options: WeightOptions = {}): Value {
    const key = `${name}:${options.dtype ?? 'float32'}`;
    const known = this.made.get(key);
    if (known) return known;
    const value = externalWeight(this.graph, this.entry(name), this.folder, options);
    this.made.set(key, value);
    return value;
  }

  /** Bytes of the tensors used so far, as stored. */
  get bytesUsed(): number {
    let total = 0;
    for (const key of this.made.keys()) total += this.entry(key.slice(0, key.lastIndexOf(':'))).byteLength;
    return total;
  }
}

export function externalWeight(g: Graph, entry: TensorEntry, folder: string, options: WeightOptions = {}): Value {
  const file = basename(entry.file);
  if (options.shape && (options.shape.length !== entry.shape.length || options.shape.some((d, i) => d !== entry.shape[i]))) {
    throw new ApiError(
      'WEIGHTS_INVALID',
      `${file}: tensor '${entry.name}' has shape [${entry.shape.join(', ')}], expected [${options.shape.join(', ')}] from the model's config`,
      { file: entry.file, tensor: entry.name, expected: [...options.shape], found: entry.shape },
    );
  }
  const stored = STORED[entry.dtype];
  if (!stored) {
    throw new ApiError('WEIGHTS_INVALID', `${file}: tensor '${entry.name}' is ${entry.dtype}; weights must be F32, BF16, F16 or F64`, { file: entry.file, tensor: entry.name });
  }
  const name = options.as ?? entry.name;
  let init: Value;
  const inMemory = (entry as TensorEntry & { data?: Uint8Array }).data;
  if (inMemory) {
    // Inflated in memory (e.g. a compressed .npz entry): the bytes go into the model.
    init = g.initializer(name, stored, entry.shape, inMemory);
  } else {
    // onnxruntime compares real paths: resolve symbolic links (the Hugging Face cache uses them).
    const location = relative(realpathSync(folder), realpathSync(entry.file));
    if (location.startsWith('..') || isAbsolute(location) || location === '') {
      throw graphError(`tensor '${entry.name}' lives in ${entry.file}, outside ${folder}, the folder this graph reads weights from`);
    }
    init = g.initializer(name, stored, entry.shape, { location: location.split(sep).join('/'), offset: entry.offset, length: entry.byteLength });
  }
  const want = options.dtype ?? (stored === 'int64' || stored === 'int32' ? stored : 'float32');
  return init.dtype === want ? init : cast(init, want);
}

/** The deepest folder holding every file (by real path): the external-data root of a graph that
 * reads several checkpoint folders. Windows files on different drives have none. */
export function commonRoot(files: readonly string[]): string {
  const parts = files.map((f) => dirname(realpathSync(f)).split(sep));
  const first = parts[0];
  let n = first.length;
  for (const p of parts) {
    let i = 0;
    while (i < n && i < p.length && p[i] === first[i]) i++;
    n = i;
  }
  const root = first.slice(0, n).join(sep);
  if (n === 0 || (n === 1 && first[0] !== '')) throw graphError(`the weight files have no common folder (${files.slice(0, 2).join(', ')}); put the model and the SAEs on one drive`);
  return root === '' ? sep : root;
}

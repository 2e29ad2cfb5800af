// Safetensors weights: read headers (never the data) and check them as strictly as the reference
// Rust library does, read single tensors, write files atomically, and convert float32 to the
// 16-bit float formats.
//
// File layout: u64 little-endian N | N bytes of UTF-8 JSON header (space-padded) | data buffer.
// Header: {"__metadata__"?: {str: str}, name: {dtype, shape, data_offsets: [begin, end]}}, offsets
// relative to the data buffer; the tensors tile the buffer exactly, with no gap or overlap.
//
// Tensor bytes are little-endian; typed-array views over them assume a little-endian host, which
// every platform Electron ships for is.
import {
  closeSync, existsSync, fstatSync, fsyncSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ApiError } from '../../shared/errors';
import { makeDirs } from './fs';
import { jsonErrorWhere, MAX_JSON_BYTES, openRegularFile, quoteToken, quoteValue, readRegularFile, WEIGHT_CODES } from './input-file';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  file: string; // absolute path
  offset: number; // absolute byte offset in the file
  byteLength: number;
}

export interface SafetensorsHeader {
  file: string;
  dataOffset: number; // 8 + header length
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export interface WeightIndex {
  files: string[]; // absolute paths, sorted
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

export interface TensorToWrite {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian bytes (Uint8Array) or a typed array whose elements are the dtype's values
   * (Uint16Array holds F16/BF16/I16 bit patterns). */
  data: Uint8Array | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint16Array;
}

const ITEM_SIZE: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};
const DTYPES = Object.keys(ITEM_SIZE) as SafetensorsDtype[];

// The reference library's limit; a larger "length" means the file is not safetensors at all.
const MAX_HEADER_BYTES = 100_000_000;
const INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_FILE = 'model.safetensors';
// readSync/writeSync take at most 2 GiB - 1 per call; embedding matrices can be larger.
const IO_CHUNK_BYTES = 1 << 30;

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, ...details });
}

function notFound(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_NOT_FOUND', `${basename(file)}: ${message}`, { file, ...details });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(ITEM_SIZE, value);
}

/** Number of elements, or undefined when a dimension is not a non-negative integer. */
function elementCount(shape: unknown): number | undefined {
  if (!Array.isArray(shape)) return undefined;
  let count = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) return undefined;
    count *= dim;
  }
  return Number.isSafeInteger(count) ? count : undefined;
}

/** A weight file's descriptor; FIFOs, devices and folders are refused before they are read. */
function openForReading(file: string): number {
  return openRegularFile(file, WEIGHT_CODES, 'weight file').fd;
}

/** `length` bytes at `position`, in a fresh buffer (so typed-array views over it are aligned). */
function readExactly(fd: number, file: string, position: number, length: number, what: string): Uint8Array {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const read = readSync(fd, bytes, done, Math.min(length - done, IO_CHUNK_BYTES), position + done);
    if (read === 0) {
      const span = `bytes ${position}..${position + length}`;
      throw invalid(file, `the file ends at byte ${position + done} while reading ${what} (${span}); it changed since its header was read (truncated?)`);
    }
    done += read;
  }
  return bytes;
}

/** Reads and checks the header of one .safetensors file; reads none of the tensor data. */
export function readSafetensorsHeader(file: string): SafetensorsHeader {
  const path = resolve(file);
  const fd = openForReading(path);
  try {
    const fileSize = fstatSync(fd).size;
    if (fileSize === 0) throw invalid(path, 'the file is empty (0 bytes; failed download?)');
    if (fileSize < 8) throw invalid(path, `the file is ${fileSize} bytes, too short to hold the 8-byte header length (truncated?)`);
    const headerLength = new DataView(readExactly(fd, path, 0, 8, 'the header length').buffer).getBigUint64(0, true);
    if (headerLength > BigInt(MAX_HEADER_BYTES)) {
      throw invalid(path, `the header length field says ${headerLength} bytes, over the 100 MB limit (not a safetensors file?)`);
    }
    const length = Number(headerLength);
    if (8 + length > fileSize) {
      throw invalid(path, `the header length field says ${length} bytes but only ${fileSize - 8} follow it (truncated, or not a safetensors file?)`);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(readExactly(fd, path, 8, length, 'the header'));
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw invalid(path, 'the header is not valid UTF-8 (not a safetensors file?)');
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw invalid(path, `the header is not valid JSON (${jsonErrorWhere(error)})`);
    }
    return parseHeader(path, json, 8 + length, fileSize);
  } finally {
    closeSync(fd);
  }
}

interface Placed {
  entry: TensorEntry;
  begin: number; // relative to the data buffer
  end: number;
}

function parseHeader(file: string, json: unknown, dataOffset: number, fileSize: number): SafetensorsHeader {
  if (!isPlainObject(json)) throw invalid(file, 'the header is not a JSON object of tensors');
  const metadata = parseMetadata(file, json.__metadata__);
  const placed: Placed[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name !== '__metadata__') placed.push(parseTensor(file, name, value, dataOffset));
  }
  checkTiling(file, placed, fileSize - dataOffset);
  // Map in data order, which is also the order a sequential reader wants.
  return { file, dataOffset, tensors: new Map(placed.map((p) => [p.entry.name, p.entry])), metadata };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw invalid(file, '__metadata__ is not a JSON object');
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalid(file, `__metadata__ '${key}' is ${quoteValue(item)}, not a string`);
  }
  return { ...(value as Record<string, string>) };
}

function parseTensor(file: string, name: string, value: unknown, dataOffset: number): Placed {
  const details = { tensor: name };
  if (!isPlainObject(value)) throw invalid(file, `tensor '${name}' is not an object with dtype, shape and data_offsets`, details);
  const { dtype, shape, data_offsets: offsets } = value;
  if (!isDtype(dtype)) {
    throw invalid(file, `tensor '${name}' has unknown dtype ${quoteToken(dtype, 16)} (readable: ${DTYPES.join(', ')})`, details);
  }
  const count = elementCount(shape);
  if (count === undefined) {
    throw invalid(file, `tensor '${name}' has shape ${quoteValue(shape)}; dimensions must be non-negative integers`, details);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw invalid(file, `tensor '${name}' has data_offsets ${quoteValue(offsets)}; expected [begin, end] byte offsets`, details);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw invalid(file, `tensor '${name}' has data_offsets [${begin}, ${end}] that end before they begin`, details);
  const byteLength = count * ITEM_SIZE[dtype];
  if (end - begin !== byteLength) {
    const declared = `${dtype} [${(shape as number[]).join(', ')}] = ${byteLength} bytes`;
    throw invalid(file, `tensor '${name}' is ${declared} but data_offsets [${begin}, ${end}] span ${end - begin}`, details);
  }
  const entry: TensorEntry = { name, dtype, shape: [...(shape as number[])], file, offset: dataOffset + begin, byteLength };
  return { entry, begin, end };
}

/** The tensors must cover [0, dataLength) exactly: sorted by offset, each begins where the last ended. */
function checkTiling(file: string, placed: Placed[], dataLength: number): void {
  placed.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: string | undefined;
  for (const { entry, begin, end } of placed) {
    const details = { tensor: entry.name };
    if (begin < cursor) {
      throw invalid(file, `tensors '${previous}' and '${entry.name}' overlap (data bytes ${begin}..${cursor})`, details);
    }
    if (begin > cursor) {
      const after = previous === undefined ? 'the start of the data' : `tensor '${previous}' (ends at ${cursor})`;
      throw invalid(file, `${begin - cursor} unused bytes between ${after} and tensor '${entry.name}' (begins at ${begin})`, details);
    }
    if (end > dataLength) {
      throw invalid(file, `tensor '${entry.name}' ends at byte ${end} but the file's data holds ${dataLength} bytes (truncated?)`, details);
    }
    cursor = end;
    previous = entry.name;
  }
  if (cursor < dataLength) {
    throw invalid(file, `the file has ${dataLength - cursor} bytes after the last tensor's data, which ends at byte ${cursor} of ${dataLength}`);
  }
}

/** The raw little-endian bytes of one tensor. */
export function readTensorBytes(entry: TensorEntry): Uint8Array {
  const fd = openForReading(entry.file);
  try {
    return readExactly(fd, entry.file, entry.offset, entry.byteLength, `tensor '${entry.name}'`);
  } finally {
    closeSync(fd);
  }
}

/** A floating-point tensor as float32 (values flattened in row-major order). F64 is rounded to
 * nearest-even; F16 and BF16 convert exactly, NaN payloads included. */
export function readTensorAsFloat32(entry: TensorEntry): Float32Array {
  if (entry.dtype !== 'F32' && entry.dtype !== 'F64' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') {
    throw invalid(entry.file, `tensor '${entry.name}' is ${entry.dtype}; only F64, F32, F16 and BF16 tensors read as float32`, { tensor: entry.name });
  }
  const bytes = readTensorBytes(entry);
  const count = entry.byteLength / ITEM_SIZE[entry.dtype];
  if (entry.dtype === 'F32') return new Float32Array(bytes.buffer, 0, count);
  if (entry.dtype === 'F64') return new Float32Array(new Float64Array(bytes.buffer, 0, count));
  const halves = new Uint16Array(bytes.buffer, 0, count);
  if (entry.dtype === 'F16') return f16ToFloat32(halves);
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) outBits[i] = halves[i] << 16;
  return out;
}

/** IEEE half-precision bit patterns as float32 values (exact, NaN payloads included). */
export function f16ToFloat32(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  const table = f16ToF32BitsTable();
  for (let i = 0; i < halves.length; i++) outBits[i] = table[halves[i]];
  return out;
}

let f16Table: Uint32Array | undefined;

/** float32 bit pattern of each of the 65536 half-precision values (256 KiB, built once). */
function f16ToF32BitsTable(): Uint32Array {
  if (f16Table) return f16Table;
  f16Table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    let mantissa = h & 0x3ff;
    if (exponent === 0x1f) {
      f16Table[h] = sign | 0x7f800000 | (mantissa << 13); // inf, or NaN with its payload
    } else if (exponent !== 0) {
      f16Table[h] = sign | ((exponent + 112) << 23) | (mantissa << 13); // rebias 15 -> 127
    } else if (mantissa === 0) {
      f16Table[h] = sign;
    } else {
      // Subnormal mantissa * 2^-24: normalise so the leading 1 becomes the implicit bit.
      let shifts = 0;
      while ((mantissa & 0x400) === 0) {
        mantissa <<= 1;
        shifts++;
      }
      f16Table[h] = sign | ((113 - shifts) << 23) | ((mantissa & 0x3ff) << 13);
    }
  }
  return f16Table;
}

/** bfloat16 bit patterns, rounded to nearest-even; NaN becomes the quiet NaN 0x7fc0 with its
 * sign, as ml_dtypes does. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = ((b >>> 16) & 0x8000) | 0x7fc0;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // carries into the exponent, up to inf
  }
  return out;
}

/** IEEE half-precision bit patterns, rounded to nearest-even: |x| >= 65520 becomes inf, tiny values
 * become subnormals or signed zero. NaN keeps its sign and top 10 payload bits, as numpy does. */
export function float32ToF16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < bits.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

function f32BitsToF16(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const abs = b & 0x7fffffff;
  if (abs > 0x7f800000) {
    const payload = (abs >>> 13) & 0x3ff;
    return sign | 0x7c00 | (payload === 0 ? 1 : payload); // a payload of 0 would read as inf
  }
  if (abs >= 0x477ff000) return sign | 0x7c00; // 65520 and above round to inf
  if (abs >= 0x38800000) {
    // Normal: rebias the exponent 127 -> 15 and round away the 13 low mantissa bits.
    const rebased = abs - 0x38000000;
    return sign | ((rebased + 0x0fff + ((rebased >>> 13) & 1)) >>> 13);
  }
  if (abs < 0x33000000) return sign; // below 2^-25, half the smallest subnormal
  // Subnormal: the result counts units of 2^-24; value = significand * 2^(exponent - 150).
  const significand = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - (abs >>> 23);
  const units = significand >>> shift;
  const rest = significand & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return sign | (units + (rest > half || (rest === half && (units & 1) === 1) ? 1 : 0));
}

const TYPED_ARRAY_DTYPES: ReadonlyArray<[new (...args: never[]) => ArrayBufferView, readonly SafetensorsDtype[]]> = [
  [Float32Array, ['F32']],
  [Float64Array, ['F64']],
  [Int32Array, ['I32']],
  [BigInt64Array, ['I64']],
  [Uint16Array, ['F16', 'BF16', 'I16']],
];

function checkTensorToWrite(file: string, tensor: TensorToWrite, seen: Set<string>): void {
  const { name, dtype, shape, data } = tensor;
  const details = { tensor: name };
  if (typeof name !== 'string' || name === '' || name === '__metadata__') {
    throw invalid(file, `cannot write a tensor named ${JSON.stringify(name)}`, details);
  }
  if (seen.has(name)) throw invalid(file, `tensor '${name}' is given twice`, details);
  seen.add(name);
  if (!isDtype(dtype)) throw invalid(file, `tensor '${name}' has unknown dtype ${JSON.stringify(dtype)} (writable: ${DTYPES.join(', ')})`, details);
  const count = elementCount(shape);
  if (count === undefined) {
    throw invalid(file, `tensor '${name}' has shape ${JSON.stringify(shape)}; dimensions must be non-negative integers`, details);
  }
  if (!(data instanceof Uint8Array)) {
    const kind = TYPED_ARRAY_DTYPES.find(([type]) => data instanceof type);
    if (!kind || !kind[1].includes(dtype)) {
      const hint = dtype === 'F16' || dtype === 'BF16' ? `; convert with float32To${dtype === 'F16' ? 'F16' : 'Bf16'} first` : '';
      throw invalid(file, `tensor '${name}' is ${dtype} but its data is a ${data.constructor.name}${hint}`, details);
    }
  }
  const byteLength = count * ITEM_SIZE[dtype];
  if (data.byteLength !== byteLength) {
    throw invalid(file, `tensor '${name}' is ${dtype} [${shape.join(', ')}] = ${byteLength} bytes but its data holds ${data.byteLength}`, details);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.byteLength) done += writeSync(fd, bytes, done, Math.min(bytes.byteLength - done, IO_CHUNK_BYTES));
}

/** Writes tensors in the given order, header space-padded to a multiple of 8 bytes. The file
 * appears at `file` only when complete: it is written to `file.tmp-<pid>`, synced, then renamed. */
export function writeSafetensors(file: string, tensors: TensorToWrite[], metadata?: Record<string, string>): void {
  const path = resolve(file);
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') throw invalid(path, `metadata '${key}' is ${JSON.stringify(value)}, not a string`);
    }
    header.__metadata__ = metadata;
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const tensor of tensors) {
    checkTensorToWrite(path, tensor, seen);
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const paddedLength = Math.ceil(json.byteLength / 8) * 8;
  const prefix = Buffer.alloc(8 + paddedLength, 0x20);
  prefix.writeBigUInt64LE(BigInt(paddedLength), 0);
  json.copy(prefix, 8);

  const temporary = `${path}.tmp-${process.pid}`;
  let fd: number | undefined;
  try {
    makeDirs(dirname(path));
    fd = openSync(temporary, 'w');
    writeAll(fd, prefix);
    for (const { data } of tensors) writeAll(fd, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new ApiError('DISK_FULL', `${basename(path)}: the disk is full (${code}); free some space and run again — nothing was written`, { file: path, path });
    }
    throw new ApiError('OUTPUT_NOT_WRITABLE', `${basename(path)}: cannot be written (${code}: ${oneLine((error as Error).message)})`, { file: path });
  }
}

/** Whether a path is a folder; a link loop or a dangling link is not (the reader then names it). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** All tensors of a checkpoint folder: a sharded one (model.safetensors.index.json), a single
 * model.safetensors, or else every *.safetensors file in it. `files` are absolute and sorted. For a
 * sharded checkpoint `metadata` is the shards' __metadata__ overlaid with the index's metadata
 * (values turned into strings); the index decides which tensors exist. */
export function readWeightIndex(folder: string): WeightIndex {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw notFound(dir, 'no such folder; expected a folder holding model.safetensors or model.safetensors.index.json');
  }
  if (existsSync(join(dir, INDEX_FILE))) return readShardedCheckpoint(dir);
  // statSync follows symbolic links, which the Hugging Face cache uses for every file.
  const names = existsSync(join(dir, SINGLE_FILE))
    ? [SINGLE_FILE]
    : readdirSync(dir).filter((n) => n.endsWith('.safetensors') && !isFolder(join(dir, n))).sort();
  if (names.length === 0) {
    throw notFound(dir, `has no ${SINGLE_FILE}, ${INDEX_FILE} or other .safetensors file`);
  }
  const files = names.map((n) => join(dir, n));
  const tensors = new Map<string, TensorEntry>();
  const metadata: Record<string, string> = {};
  for (const file of files) {
    const header = readSafetensorsHeader(file);
    Object.assign(metadata, header.metadata);
    for (const [name, entry] of header.tensors) {
      const earlier = tensors.get(name);
      if (earlier) throw invalid(file, `tensor '${name}' is also in ${basename(earlier.file)}; which one to use is ambiguous`, { tensor: name });
      tensors.set(name, entry);
    }
  }
  return { files, tensors, metadata };
}

function readShardedCheckpoint(dir: string): WeightIndex {
  const indexPath = join(dir, INDEX_FILE);
  const bytes = readRegularFile(indexPath, WEIGHT_CODES, MAX_JSON_BYTES, 'shard index');
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw invalid(indexPath, error instanceof TypeError ? 'is not valid UTF-8 text' : `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  const weightMap = isPlainObject(index) ? index.weight_map : undefined;
  if (!isPlainObject(weightMap) || !Object.values(weightMap).every((v) => typeof v === 'string')) {
    throw invalid(indexPath, 'has no weight_map object mapping tensor names to shard file names');
  }
  const shardOf = weightMap as Record<string, string>;
  const shardNames = [...new Set(Object.values(shardOf))].sort();
  const headers = new Map<string, SafetensorsHeader>();
  const metadata: Record<string, string> = {};
  for (const shard of shardNames) {
    const shardPath = resolve(dir, shard);
    const inside = relative(dir, shardPath);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
      throw invalid(indexPath, `names shard ${quoteToken(shard, 120)}, which is outside the checkpoint folder`);
    }
    if (!existsSync(shardPath)) {
      const count = Object.values(shardOf).filter((s) => s === shard).length;
      const tensors = `${count} tensor${count === 1 ? '' : 's'}`;
      throw notFound(shardPath, `no such file, though ${INDEX_FILE} places ${tensors} in it (incomplete download?)`, { index: indexPath });
    }
    const header = readSafetensorsHeader(shardPath);
    Object.assign(metadata, header.metadata);
    headers.set(shard, header);
  }
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shard] of Object.entries(shardOf)) {
    const header = headers.get(shard)!;
    const entry = header.tensors.get(name);
    if (!entry) throw invalid(header.file, `has no tensor '${name}', though ${INDEX_FILE} places it in this shard`, { tensor: name, index: indexPath });
    tensors.set(name, entry);
  }
  const indexMetadata = isPlainObject(index) && isPlainObject(index.metadata) ? index.metadata : {};
  for (const [key, value] of Object.entries(indexMetadata)) metadata[key] = typeof value === 'string' ? value : JSON.stringify(value);
  return { files: shardNames.map((s) => resolve(dir, s)), tensors, metadata };
}

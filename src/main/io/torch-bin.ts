// PyTorch `pytorch_model.bin` files (what torch.save writes and many Hugging Face repositories
// still ship instead of safetensors), read into the same WeightIndex the safetensors reader
// returns, so a model loader reads either file alike and weights stay in place as ONNX external
// data: torch.save stores tensor bytes uncompressed, so each tensor is a (file, offset, length).
//
// Two layouts (torch/serialization.py):
// - zip (torch >= 1.6): `<archive>/data.pkl` (the pickled state dict; storages by persistent id
//   ('storage', torch.XStorage, key, location, numel)), `<archive>/data/<key>` (each storage's raw
//   little-endian bytes, stored), `<archive>/byteorder` ('little'; absent in files before 1.10),
//   `<archive>/version`. Read with yauzl, by random access; nothing is extracted.
// - legacy (before 1.6): five pickles one after the other (magic number 0x1950a86a20f9469cfc6c,
//   protocol 1001, sys_info, the state dict, the sorted storage keys), then per key an int64
//   element count and the storage's bytes.
// The pickle is read by torch-pickle.ts, which runs nothing and refuses every opcode or global
// outside the tensor subset. A tensor must be a contiguous view inside its storage (views sharing
// a storage, e.g. tied embeddings, become entries over the same bytes); anything else is refused
// with WEIGHTS_INVALID naming the file and tensor.
import { closeSync, existsSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ApiError } from '../../shared/errors';
import { jsonErrorWhere, MAX_JSON_BYTES, openRegularFile, quoteToken, readRegularFile, WEIGHT_CODES } from './input-file';
import { readWeightIndex, type TensorEntry, type WeightIndex } from './safetensors';
import { ITEM_BYTES, PickleRefused, readPickle, stateDictTensors, storageFromPersistentId, type PickleValue, type StorageRef, type TensorRef } from './torch-pickle';

export const TORCH_BIN_FILE = 'pytorch_model.bin';
const TORCH_BIN_INDEX = 'pytorch_model.bin.index.json';

/** data.pkl of a full-size opus-mt is ~40 KB and of a 7B model ~100 KB; a pickle past this is not
 * a state dict, and a deflated one is never inflated beyond it. */
const MAX_PICKLE_BYTES = 64 * 2 ** 20;
/** A state dict of a few thousand tensors has as many entries; a directory far beyond is not one. */
const MAX_ENTRIES = 1_000_000;
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;
/** First prefix read of a legacy file (grown ×8 while its pickles run past it). */
const LEGACY_FIRST_READ = 1 << 20;

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, ...details });
}

/** A pickle refusal as the typed error users see: what was refused, by name. */
function refused(file: string, error: PickleRefused, where: string): ApiError {
  const details = { reason: error.reason, refused: error.what, position: error.position };
  if (error.reason === 'malformed' || error.reason === 'truncated') return invalid(file, `${where}: ${error.message}`, details);
  // The refused name is quoted only when it is a short plain token: it comes from the file.
  const kind = error.reason === 'opcode' ? 'pickle opcode' : 'Python global';
  const verb = error.reason === 'opcode' ? 'uses' : 'imports or calls';
  return invalid(file, `${where} ${verb} the ${kind} ${quoteToken(error.what, 80)} (at byte ${error.position}), outside the tensor subset a weight file needs; refused, nothing in the file was run`, details);
}

function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** True when `stride` is the row-major stride of `shape` (dimensions of size 1 may have any
 * stride, as torch's is_contiguous allows; an empty tensor is contiguous). */
function isContiguous(shape: number[], stride: number[]): boolean {
  if (shape.some((d) => d === 0)) return true;
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Where each storage's bytes are: absolute file offset and byte length. */
interface StorageBytes {
  offset: number;
  byteLength: number;
}

/** Checks one tensor against its storage and returns its entry. */
function tensorEntry(file: string, name: string, t: TensorRef, bytes: StorageBytes): TensorEntry {
  const details = { tensor: name };
  const label = quoteToken(name, 120);
  const { dtype, key } = t.storage;
  const item = ITEM_BYTES[dtype];
  if (!isContiguous(t.shape, t.stride)) {
    throw invalid(file, `tensor ${label} has shape [${t.shape.join(', ')}] with strides [${t.stride.join(', ')}], not a contiguous layout; re-save it after .contiguous()`, details);
  }
  let count = 1;
  for (const d of t.shape) count *= d;
  if (!Number.isSafeInteger(count * item)) throw invalid(file, `tensor ${label} has shape [${t.shape.join(', ')}], too large to address`, details);
  const storageElements = bytes.byteLength / item;
  if (count > 0 && t.offset + count > storageElements) {
    throw invalid(file, `tensor ${label} reads elements ${t.offset}..${t.offset + count} of storage '${key}', which holds ${storageElements} (damaged file)`, details);
  }
  return { name, dtype, shape: [...t.shape], file, offset: bytes.offset + t.offset * item, byteLength: count * item };
}

/** Every storage the state dict names must be one of the file's, with the size it says. */
function resolveTensors(file: string, tensors: Map<string, TensorRef>, storages: Map<string, StorageBytes>): Map<string, TensorEntry> {
  const out = new Map<string, TensorEntry>();
  for (const [name, t] of tensors) {
    const key = t.storage.key;
    const bytes = storages.get(key);
    if (!bytes) throw invalid(file, `tensor ${quoteToken(name, 120)} lives in storage ${quoteToken(key)}, which the file does not hold (truncated or damaged)`, { tensor: name, storage: key });
    const declared = t.storage.numel * ITEM_BYTES[t.storage.dtype];
    if (declared !== bytes.byteLength) {
      throw invalid(file, `storage ${quoteToken(key)} holds ${bytes.byteLength} bytes, but the pickle says ${t.storage.numel} ${t.storage.dtype} elements (${declared} bytes)`, { tensor: name, storage: key });
    }
    out.set(name, tensorEntry(file, name, t, bytes));
  }
  return out;
}

function stateDict(file: string, value: PickleValue, where: string): Map<string, TensorRef> {
  const tensors = stateDictTensors(value);
  if (typeof tensors === 'string') throw invalid(file, `${where} ${tensors}`);
  return tensors;
}

/** Storages seen while reading a pickle, so one key always resolves to one dtype and size. */
function persistentLoader(file: string): { load: (pid: PickleValue, position: number) => StorageRef; seen: Map<string, StorageRef> } {
  const seen = new Map<string, StorageRef>();
  const load = (pid: PickleValue, position: number): StorageRef => {
    const storage = storageFromPersistentId(pid, position);
    const earlier = seen.get(storage.key);
    if (earlier && (earlier.dtype !== storage.dtype || earlier.numel !== storage.numel)) {
      throw invalid(file, `storage ${quoteToken(storage.key)} is named twice with different types or sizes (${earlier.dtype} x ${earlier.numel}, ${storage.dtype} x ${storage.numel})`);
    }
    seen.set(storage.key, storage);
    return storage;
  };
  return { load, seen };
}

function parsePickle(file: string, bytes: Uint8Array, where: string, load: (pid: PickleValue, position: number) => StorageRef, start = 0): { value: PickleValue; end: number } {
  try {
    return readPickle(bytes, load, start);
  } catch (error) {
    if (error instanceof PickleRefused) throw refused(file, error, where);
    throw error;
  }
}

/** Reads a small entry (data.pkl, byteorder) into memory, never past the size the archive gives
 * it nor past `limit`: a deflated entry that inflates beyond its declared size is refused. */
async function readSmallEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string, limit: number): Promise<Uint8Array> {
  const label = quoteToken(entry.fileName, 120);
  if (entry.uncompressedSize > limit) throw invalid(file, `entry ${label} says it holds ${entry.uncompressedSize} bytes, over the ${limit}-byte limit for it`);
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw invalid(file, `entry ${label} uses zip compression method ${entry.compressionMethod}; torch.save writes entries stored`);
  const out = new Uint8Array(entry.uncompressedSize);
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch {
    throw invalid(file, `entry ${label} cannot be read (damaged local header, or it lies past the end of the file)`);
  }
  let written = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (written + chunk.length > out.length) throw invalid(file, `entry ${label} holds more than the ${out.length} bytes the archive declares for it (damaged or forged sizes)`);
      out.set(chunk, written);
      written += chunk.length;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // yauzl's own size checks and zlib errors: the entry's sizes or data do not agree.
    throw invalid(file, `entry ${label} cannot be read: its data does not match the sizes the archive declares (damaged, truncated or forged)`);
  } finally {
    stream.destroy();
  }
  if (written !== out.length) throw invalid(file, `entry ${label} holds ${written} of the ${out.length} bytes the archive declares (truncated)`);
  return out;
}

async function listEntries(zip: yauzl.ZipFile, file: string): Promise<yauzl.Entry[]> {
  if (zip.entryCount > MAX_ENTRIES) throw invalid(file, `lists ${zip.entryCount} entries, more than a state dict could need`);
  return new Promise<yauzl.Entry[]>((done, fail) => {
    const list: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      list.push(entry);
      zip.readEntry();
    });
    zip.on('end', () => done(list));
    zip.on('error', fail);
    zip.readEntry();
  }).catch((error: unknown) => {
    if (error instanceof ApiError) throw error;
    throw invalid(file, 'the zip directory is damaged (truncated, or not written by torch.save)');
  });
}

async function readZip(file: string, fd: number, size: number): Promise<Map<string, TensorEntry>> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromFdPromise(fd, { lazyEntries: true, autoClose: false });
  } catch {
    closeSync(fd); // yauzl never took it over
    throw invalid(file, `is not a readable zip archive (no end-of-archive record: truncated, or an incomplete download?)`);
  }
  try {
    const entries = await listEntries(zip, file);
    const pickles = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.fileName));
    if (pickles.length !== 1) {
      throw invalid(file, pickles.length === 0 ? 'is a zip without <archive>/data.pkl, so not a torch.save file' : `holds ${pickles.length} data.pkl entries; torch.save writes one`);
    }
    const archive = pickles[0].fileName.slice(0, -'data.pkl'.length);
    const byName = new Map(entries.filter((e) => e.fileName.startsWith(archive)).map((e) => [e.fileName.slice(archive.length), e]));
    const order = byName.get('byteorder');
    if (order) {
      const text = new TextDecoder().decode(await readSmallEntry(zip, order, file, 16));
      if (text === 'big') throw invalid(file, `was written on a big-endian machine (byteorder 'big'); only little-endian tensor data is read. Re-save it on a little-endian machine`, { byteorder: 'big' });
      if (text !== 'little') throw invalid(file, `has byteorder ${quoteToken(text, 16)}; expected 'little'`);
    }
    const pickle = await readSmallEntry(zip, pickles[0], file, MAX_PICKLE_BYTES);
    const { load } = persistentLoader(file);
    const { value, end } = parsePickle(file, pickle, 'data.pkl', load);
    if (end !== pickle.length) throw invalid(file, `data.pkl has ${pickle.length - end} bytes after its STOP opcode`);
    const tensors = stateDict(file, value, 'data.pkl');
    const storages = new Map<string, StorageBytes>();
    for (const t of tensors.values()) {
      const key = t.storage.key;
      if (storages.has(key)) continue;
      const entry = byName.get(`data/${key}`);
      if (!entry) throw invalid(file, `has no entry ${quoteToken(`${archive}data/${key}`, 120)}, the storage its tensors need (truncated or damaged)`, { storage: key });
      if (entry.compressionMethod !== 0) {
        throw invalid(file, `storage entry ${quoteToken(entry.fileName, 120)} is compressed (method ${entry.compressionMethod}); torch.save stores storages uncompressed so they can be read in place — re-save it with torch.save`);
      }
      let fileDataStart: number;
      try {
        ({ fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true }));
      } catch {
        throw invalid(file, `storage entry ${quoteToken(entry.fileName, 120)}: its local header is damaged, or its data runs past the end of the file (truncated, or forged sizes)`, { storage: key });
      }
      if (entry.compressedSize !== entry.uncompressedSize || fileDataStart + entry.uncompressedSize > size) {
        throw invalid(file, `storage entry ${quoteToken(entry.fileName, 120)} says it holds ${entry.uncompressedSize} bytes from byte ${fileDataStart}, past the end of the ${size}-byte file (truncated, or forged sizes)`, { storage: key });
      }
      storages.set(key, { offset: fileDataStart, byteLength: entry.uncompressedSize });
    }
    return resolveTensors(file, tensors, storages);
  } finally {
    // yauzl closes the descriptor once the archive and its last stream let go of it.
    zip.close();
  }
}

/** The legacy format: the pickles are read from the start of the file; storages follow. */
function readLegacy(file: string, fd: number, size: number): Map<string, TensorEntry> {
  // The pickles come first and are small (~40 KB for opus-mt); the storages after them are never
  // read. Read a prefix, and a larger one only when the pickles run past it.
  for (let limit = LEGACY_FIRST_READ; ; limit *= 8) {
    const head = readAt(fd, 0, Math.min(size, limit, MAX_PICKLE_BYTES));
    try {
      return readLegacyFrom(file, fd, size, head);
    } catch (error) {
      const more = head.length < size && head.length < MAX_PICKLE_BYTES;
      if (!(more && error instanceof ApiError && error.details?.reason === 'truncated')) throw error;
    }
  }
}

function readLegacyFrom(file: string, fd: number, size: number, head: Uint8Array): Map<string, TensorEntry> {
  const none = (): StorageRef => {
    throw invalid(file, 'the legacy header pickles name a storage, which they never do');
  };
  let at = 0;
  const next = (where: string, load: (pid: PickleValue, position: number) => StorageRef = none): PickleValue => {
    const { value, end } = parsePickle(file, head, where, load, at);
    at = end;
    return value;
  };
  const magic = next('the magic number');
  if (magic !== LEGACY_MAGIC) throw invalid(file, 'starts with a pickle that is not torch.save\'s magic number (not a PyTorch file)');
  const protocol = next('the protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw invalid(file, `has legacy protocol version ${quoteToken(String(protocol))}; only ${LEGACY_PROTOCOL} is read`);
  const info = next('sys_info');
  if (!(info instanceof Map) || info.get('little_endian') !== true) {
    throw invalid(file, `was written on a big-endian machine (sys_info little_endian is not True); only little-endian tensor data is read`, { byteorder: 'big' });
  }
  const { load } = persistentLoader(file);
  const tensors = stateDict(file, next('the state dict pickle', load), 'the state dict pickle');
  const keys = next('the storage key list');
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw invalid(file, 'the storage key list is not a list of strings');
  // Storages follow in the listed order: int64 element count, then count × item size bytes.
  const dtypeOf = new Map<string, StorageRef>();
  for (const t of tensors.values()) dtypeOf.set(t.storage.view?.key ?? t.storage.key, t.storage);
  const storages = new Map<string, StorageBytes>();
  let offset = at;
  for (const key of keys as string[]) {
    const count = readAt(fd, offset, 8);
    if (count.length < 8) throw invalid(file, `ends before storage ${quoteToken(key)} (truncated)`, { storage: key });
    const elements = Number(new DataView(count.buffer, count.byteOffset, 8).getBigInt64(0, true));
    const storage = dtypeOf.get(key);
    const item = storage ? ITEM_BYTES[storage.dtype] : undefined;
    if (item === undefined) throw invalid(file, `lists storage ${quoteToken(key)}, which no tensor uses, so its element size is unknown`, { storage: key });
    const byteLength = elements * item;
    if (!Number.isSafeInteger(byteLength) || elements < 0 || offset + 8 + byteLength > size) {
      throw invalid(file, `storage ${quoteToken(key)} says it holds ${elements} elements, past the end of the ${size}-byte file (truncated)`, { storage: key });
    }
    storages.set(key, { offset: offset + 8, byteLength });
    offset += 8 + byteLength;
  }
  // A legacy view names (view key, offset, size) within a listed storage.
  const resolved = new Map<string, TensorRef>();
  for (const [name, t] of tensors) {
    const view = t.storage.view;
    if (!view) {
      resolved.set(name, t);
      continue;
    }
    const base = storages.get(t.storage.key);
    const item = ITEM_BYTES[t.storage.dtype];
    if (!base || (view.offset + view.size) * item > base.byteLength) throw invalid(file, `tensor ${quoteToken(name, 120)} is a view outside its storage`, { tensor: name });
    storages.set(view.key, { offset: base.offset + view.offset * item, byteLength: view.size * item });
    resolved.set(name, { ...t, storage: { ...t.storage, key: view.key, numel: view.size } });
  }
  return resolveTensors(file, resolved, storages);
}

/** The tensors of one torch.save file, in place (file offsets), without running its pickle. */
export async function readTorchBin(file: string): Promise<WeightIndex> {
  const path = resolve(file);
  const { fd, size } = openRegularFile(path, WEIGHT_CODES, 'weight file');
  let tensors: Map<string, TensorEntry>;
  let zipped = false;
  try {
    if (size === 0) throw invalid(path, 'the file is empty (0 bytes; failed download?)');
    const head = readAt(fd, 0, 4);
    if (head[0] === 0x50 && head[1] === 0x4b) {
      zipped = true; // readZip owns the descriptor from here
      return { files: [path], tensors: await readZip(path, fd, size), metadata: { format: 'pt' } };
    }
    if (head[0] !== 0x80) throw invalid(path, 'is neither a zip archive nor a pickle, so not a torch.save file (an HTML error page or a Git LFS pointer?)');
    tensors = readLegacy(path, fd, size);
  } finally {
    if (!zipped) closeSync(fd);
  }
  return { files: [path], tensors, metadata: { format: 'pt' } };
}

/** A sharded torch checkpoint: pytorch_model.bin.index.json's weight_map names each tensor's
 * shard; shards must stay inside the folder. */
async function readShardedTorch(dir: string): Promise<WeightIndex> {
  const indexPath = join(dir, TORCH_BIN_INDEX);
  let index: unknown;
  try {
    index = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readRegularFile(indexPath, WEIGHT_CODES, MAX_JSON_BYTES, 'shard index')));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalid(indexPath, error instanceof TypeError ? 'is not valid UTF-8 text' : `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  const map = typeof index === 'object' && index !== null ? (index as Record<string, unknown>).weight_map : undefined;
  if (typeof map !== 'object' || map === null || !Object.values(map).every((v) => typeof v === 'string')) {
    throw invalid(indexPath, 'has no weight_map object mapping tensor names to shard file names');
  }
  const shardOf = map as Record<string, string>;
  const shards = new Map<string, WeightIndex>();
  for (const shard of [...new Set(Object.values(shardOf))].sort()) {
    const shardPath = resolve(dir, shard);
    const inside = relative(dir, shardPath);
    if (inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw invalid(indexPath, `names shard ${quoteToken(shard, 120)}, which is outside the checkpoint folder`);
    if (!existsSync(shardPath)) throw new ApiError('WEIGHTS_NOT_FOUND', `${basename(shardPath)}: no such file, though ${TORCH_BIN_INDEX} names it (incomplete download?)`, { file: shardPath, index: indexPath });
    shards.set(shard, await readTorchBin(shardPath));
  }
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shard] of Object.entries(shardOf)) {
    const entry = shards.get(shard)!.tensors.get(name);
    if (!entry) throw invalid(resolve(dir, shard), `has no tensor ${quoteToken(name, 120)}, though ${TORCH_BIN_INDEX} places it in this shard`, { tensor: name });
    tensors.set(name, entry);
  }
  return { files: [...shards.keys()].map((s) => resolve(dir, s)), tensors, metadata: { format: 'pt' } };
}

function hasSafetensors(dir: string): boolean {
  // A sharded index, model.safetensors, or any other *.safetensors: what readWeightIndex reads.
  return existsSync(join(dir, 'model.safetensors.index.json')) || readdirSync(dir).some((n) => n.endsWith('.safetensors'));
}

/** The weights of a model folder as users download it: safetensors when the folder has any (the
 * safer format, read by readWeightIndex), else pytorch_model.bin or its sharded index. */
export async function readFolderWeights(folder: string): Promise<WeightIndex> {
  const dir = resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ApiError('WEIGHTS_NOT_FOUND', `${dir}: no such folder; expected a model folder with model.safetensors or pytorch_model.bin`, { file: dir });
  }
  if (hasSafetensors(dir)) return readWeightIndex(dir);
  if (existsSync(join(dir, TORCH_BIN_INDEX))) return readShardedTorch(dir);
  if (existsSync(join(dir, TORCH_BIN_FILE))) return readTorchBin(join(dir, TORCH_BIN_FILE));
  throw new ApiError('WEIGHTS_NOT_FOUND', `${basename(dir)}: has no model.safetensors, ${TORCH_BIN_FILE} or shard index (incomplete download?)`, { file: dir });
}

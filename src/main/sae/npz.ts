// NumPy .npz archives (Gemma Scope's params.npz): a zip of .npy files, read with yauzl. Entries
// stored uncompressed (np.savez) are located, not read: their data offset in the zip becomes an
// external-data location, so the weights are memory-mapped by onnxruntime like safetensors.
// Deflated entries (np.savez_compressed) are inflated into memory, and only after every size that
// can be checked first agrees: the central directory's uncompressed size, deflate's best ratio
// (1032:1) over the compressed size, the .npy header's shape × dtype (read from the first inflated
// bytes), and a bound on what may be held in memory. The inflate then writes into a buffer of
// exactly that size and stops at its end, so a zip bomb costs at most the bytes it promised.
import { closeSync, readSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { ApiError } from '../../shared/errors';
import { openRegularFile, quoteToken, WEIGHT_CODES } from '../io/input-file';
import type { SafetensorsDtype, TensorEntry } from '../io/safetensors';

/** A tensor of an npz: in place (offset into the zip) or inflated (`data`). */
export type NpzTensor = TensorEntry & { data?: Uint8Array };

const DESCR: Record<string, { dtype: SafetensorsDtype; size: number }> = {
  '<f4': { dtype: 'F32', size: 4 },
  '<f2': { dtype: 'F16', size: 2 },
  '<f8': { dtype: 'F64', size: 8 },
  '<i8': { dtype: 'I64', size: 8 },
  '<i4': { dtype: 'I32', size: 4 },
};

/** The .npy preamble and header of version 1 fit in 10 + 65535 bytes; longer ones are refused. */
const NPY_HEADER_PROBE = 65536 + 12;
/** Deflate's largest expansion is about 1032:1 (258-byte matches coded in 2 bits); an entry that
 * claims more than this over its compressed size lies about one of them. */
const DEFLATE_MAX_RATIO = 1032;
/** SAE archives hold five arrays; a directory of thousands of entries is not one. */
const MAX_ENTRIES = 4096;
/** Inflated entries live in memory: at most half the machine's memory and under 4 GiB each. */
export function maxInflatedBytes(): number {
  return Math.min(2 ** 32 - 1, Math.floor(totalmem() / 2));
}

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, ...details });
}

/** An entry's name for messages: the name as stored when it is a short plain token. */
function entryLabel(name: string): string {
  return quoteToken(name, 64);
}

export interface NpyHeader {
  dtype: SafetensorsDtype;
  itemSize: number;
  shape: number[];
  /** Bytes before the data (magic, version, header). */
  headerBytes: number;
  /** shape × item size. */
  dataBytes: number;
}

/** Parses the header at the start of `bytes` (the first bytes of a .npy). Messages name the entry
 * and what is wrong, never the header's text. */
export function parseNpyHeader(bytes: Uint8Array, file: string, name: string): NpyHeader {
  const entry = entryLabel(name);
  const details = { tensor: name };
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw invalid(file, `entry ${entry} is not a .npy array (no \\x93NUMPY magic)`, details);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [lenBytes, headerLen] = major === 1 ? [2, view.getUint16(8, true)] : major === 2 || major === 3 ? [4, bytes.length >= 12 ? view.getUint32(8, true) : -1] : [0, -1];
  if (headerLen < 0) throw invalid(file, `entry ${entry}: .npy format version ${major} is not supported (1, 2, 3)`, details);
  const start = 8 + lenBytes;
  if (start + headerLen > NPY_HEADER_PROBE) throw invalid(file, `entry ${entry}: the .npy header says it is ${headerLen} bytes long, over the 64 KiB a header needs`, details);
  if (bytes.length < start + headerLen) throw invalid(file, `entry ${entry}: the .npy header is cut short`, details);
  const text = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw invalid(file, `entry ${entry}: the .npy header is not a dict with 'descr', 'fortran_order' and 'shape'`, details);
  }
  const kind = Object.hasOwn(DESCR, descr) ? DESCR[descr] : undefined;
  const shown = /^[<>|=][a-zA-Z]\d{0,2}$/.test(descr) ? ` '${descr}'` : ' that is not a NumPy type code';
  if (!kind) throw invalid(file, `entry ${entry} has dtype${shown}; supported: little-endian float32, float16, float64 ('<f4', '<f2', '<f8')`, details);
  if (fortran === 'True') throw invalid(file, `entry ${entry} is stored in Fortran order; re-save it C-contiguous (np.ascontiguousarray)`, details);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (/^\d{1,15}$/.test(s) ? Number(s) : NaN));
  let count = 1;
  for (const d of shape) count *= d;
  if (shape.some((d) => !Number.isSafeInteger(d)) || !Number.isSafeInteger(count * kind.size)) {
    throw invalid(file, `entry ${entry}: the .npy shape is not a tuple of non-negative integers with a size under 2^53 bytes`, details);
  }
  return { dtype: kind.dtype, itemSize: kind.size, shape, headerBytes: start + headerLen, dataBytes: count * kind.size };
}

function readAt(fd: number, position: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const read = readSync(fd, out, 0, length, position);
  return out.subarray(0, read);
}

/** Whether the end-of-archive record's central directory (offset + size) ends at or before the
 * record itself, as it must; yauzl reads entries by count and never checks the size. Zip64
 * archives (0xFFFFFFFF markers) are left to yauzl. */
function centralDirectoryFits(fd: number, size: number): boolean {
  const tail = readAt(fd, Math.max(0, size - 65557), Math.min(size, 65557));
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail[i] !== 0x50 || tail[i + 1] !== 0x4b || tail[i + 2] !== 0x05 || tail[i + 3] !== 0x06) continue;
    const view = new DataView(tail.buffer, tail.byteOffset + i, 22);
    const cdSize = view.getUint32(12, true);
    const cdOffset = view.getUint32(16, true);
    if (cdSize === 0xffffffff || cdOffset === 0xffffffff) return true;
    return cdOffset + cdSize <= size - tail.length + i;
  }
  return true; // no record: yauzl has already refused the archive
}

/** Inflates one deflated .npy entry into a buffer of exactly the size its header gives. */
async function inflateEntry(zip: yauzl.ZipFile, entry: yauzl.Entry, file: string, name: string): Promise<NpzTensor> {
  const details = { tensor: name };
  const label = entryLabel(name);
  const claimed = entry.uncompressedSize;
  if (claimed > entry.compressedSize * DEFLATE_MAX_RATIO + 1024) {
    throw invalid(file, `entry ${label}: the archive says ${entry.compressedSize} compressed bytes inflate to ${claimed}, beyond what deflate can produce (damaged or forged sizes)`, details);
  }
  const limit = maxInflatedBytes();
  if (claimed > limit) {
    throw invalid(file, `entry ${label} would inflate to ${claimed} bytes, over the ${limit}-byte limit for compressed entries held in memory; re-save the archive uncompressed (np.savez), which is read in place`, { ...details, limit });
  }
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch {
    throw invalid(file, `entry ${label} cannot be read (damaged local header)`, details);
  }
  const probe = new Uint8Array(Math.min(NPY_HEADER_PROBE, claimed));
  let header: NpyHeader | null = null;
  let data: Uint8Array | null = null;
  let probed = 0;
  let written = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let from = 0;
      if (!header) {
        const take = Math.min(chunk.length, probe.length - probed);
        probe.set(chunk.subarray(0, take), probed);
        probed += take;
        from = take;
        if (probed < probe.length) continue;
        header = parseNpyHeader(probe, file, name);
        if (header.headerBytes + header.dataBytes !== claimed) {
          throw invalid(file, `entry ${label}: the .npy header promises ${header.dataBytes} data bytes, the archive says the entry holds ${claimed - header.headerBytes} (damaged or forged)`, details);
        }
        data = new Uint8Array(header.dataBytes);
        // Bytes of the probe past the header are the start of the data.
        const early = probe.subarray(header.headerBytes);
        data.set(early, 0);
        written = early.length;
      }
      const rest = chunk.subarray(from);
      if (written + rest.length > data!.length) {
        throw invalid(file, `entry ${label} inflates past the ${claimed} bytes the archive promises (damaged or forged)`, details);
      }
      data!.set(rest, written);
      written += rest.length;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    // zlib and yauzl errors (bad deflate data, a size check) say nothing a user can act on.
    throw invalid(file, `entry ${label} cannot be inflated (damaged deflate data or sizes)`, details);
  } finally {
    stream.destroy();
  }
  if (!header) header = parseNpyHeader(probe.subarray(0, probed), file, name);
  if (!data) {
    // The stream ended inside the probe: fewer bytes than the archive promised.
    data = probe.slice(header.headerBytes, probed);
    written = data.length;
  }
  if (written !== header.dataBytes) {
    throw invalid(file, `entry ${label}: the .npy header promises ${header.dataBytes} data bytes, found ${Math.max(0, written)} (truncated)`, details);
  }
  return { name, dtype: header.dtype, shape: header.shape, file, offset: 0, byteLength: header.dataBytes, data };
}

/** Every array of an .npz, by name without the .npy suffix. */
export async function readNpz(file: string): Promise<Map<string, NpzTensor>> {
  // A FIFO or device is refused before yauzl reads it (it would wait for the end forever).
  const { fd, size } = openRegularFile(file, WEIGHT_CODES, '.npz archive');
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.fromFdPromise(fd, { lazyEntries: true, autoClose: false });
  } catch {
    closeSync(fd); // yauzl never took it over
    throw invalid(file, 'is not a readable zip (.npz) archive (no valid end-of-archive record)');
  }
  const tensors = new Map<string, NpzTensor>();
  try {
    if (!centralDirectoryFits(fd, size)) throw invalid(file, 'is not a readable zip (.npz) archive (its central directory is damaged or runs past the end of the file)');
    if (zip.entryCount > MAX_ENTRIES) throw invalid(file, `lists ${zip.entryCount} entries, more than the ${MAX_ENTRIES} an SAE archive could hold`);
    const entries = await new Promise<yauzl.Entry[]>((resolve, reject) => {
      const list: yauzl.Entry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        list.push(entry);
        zip.readEntry();
      });
      zip.on('end', () => resolve(list));
      zip.on('error', reject);
      zip.readEntry();
    }).catch(() => {
      throw invalid(file, 'is not a readable zip (.npz) archive (its central directory is damaged or runs past the end of the file)');
    });
    for (const entry of entries) {
      if (!entry.fileName.endsWith('.npy')) continue;
      const name = entry.fileName.slice(0, -4);
      const label = entryLabel(name);
      if (entry.compressionMethod === 0) {
        let fileDataStart: number;
        try {
          ({ fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true }));
        } catch {
          throw invalid(file, `entry ${label}: its local header is damaged or lies past the end of the file`, { tensor: name });
        }
        if (fileDataStart + entry.uncompressedSize > size) {
          throw invalid(file, `entry ${label}: its ${entry.uncompressedSize} bytes run past the end of the ${size}-byte file (truncated)`, { tensor: name });
        }
        const header = parseNpyHeader(readAt(fd, fileDataStart, Math.min(entry.uncompressedSize, NPY_HEADER_PROBE)), file, name);
        if (header.headerBytes + header.dataBytes !== entry.uncompressedSize) {
          throw invalid(file, `entry ${label}: the .npy header promises ${header.dataBytes} data bytes, the archive holds ${entry.uncompressedSize - header.headerBytes} (truncated or corrupt)`, { tensor: name });
        }
        tensors.set(name, { name, dtype: header.dtype, shape: header.shape, file, offset: fileDataStart + header.headerBytes, byteLength: header.dataBytes });
      } else if (entry.compressionMethod === 8) {
        tensors.set(name, await inflateEntry(zip, entry, file, name));
      } else {
        throw invalid(file, `entry ${entryLabel(entry.fileName)} uses zip compression method ${entry.compressionMethod}; only stored and deflated entries are supported`);
      }
    }
  } finally {
    // yauzl closes the descriptor once the archive and its last stream let go of it.
    zip.close();
  }
  return tensors;
}

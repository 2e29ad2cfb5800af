// NumPy .npz archives (Gemma Scope's params.npz): a zip of .npy files, read with yauzl. Entries
// stored uncompressed (np.savez) are located, not read: their data offset in the zip becomes an
// external-data location, so the weights are memory-mapped by onnxruntime like safetensors.
// Deflated entries (np.savez_compressed) are inflated into memory.
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import yauzl from 'yauzl';
import { ApiError } from '../../shared/errors';
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

function invalid(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, ...details });
}

export interface NpyHeader {
  dtype: SafetensorsDtype;
  itemSize: number;
  shape: number[];
  /** Bytes before the data (magic, version, header). */
  headerBytes: number;
}

/** Parses the header at the start of `bytes` (the first bytes of a .npy). */
export function parseNpyHeader(bytes: Uint8Array, file: string, name: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw invalid(file, `entry '${name}' is not a .npy array (no \\x93NUMPY magic)`, { tensor: name });
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [lenBytes, headerLen] = major === 1 ? [2, view.getUint16(8, true)] : major === 2 || major === 3 ? [4, bytes.length >= 12 ? view.getUint32(8, true) : -1] : [0, -1];
  if (headerLen < 0) throw invalid(file, `entry '${name}': .npy format version ${major} is not supported`, { tensor: name });
  const start = 8 + lenBytes;
  if (bytes.length < start + headerLen) throw invalid(file, `entry '${name}': the .npy header is cut short`, { tensor: name });
  const text = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw invalid(file, `entry '${name}': unreadable .npy header ${JSON.stringify(text.trim())}`, { tensor: name });
  const kind = DESCR[descr];
  if (!kind) throw invalid(file, `entry '${name}' has dtype '${descr}'; supported: little-endian float32, float16, float64`, { tensor: name });
  if (fortran === 'True') throw invalid(file, `entry '${name}' is stored in Fortran order; re-save it C-contiguous (np.ascontiguousarray)`, { tensor: name });
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw invalid(file, `entry '${name}' has an invalid shape (${shapeText})`, { tensor: name });
  return { dtype: kind.dtype, itemSize: kind.size, shape, headerBytes: start + headerLen };
}

function readAt(file: string, position: number, length: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const out = new Uint8Array(length);
    const read = readSync(fd, out, 0, length, position);
    return out.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** Every array of an .npz, by name without the .npy suffix. */
export async function readNpz(file: string): Promise<Map<string, NpzTensor>> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('WEIGHTS_NOT_FOUND', `${basename(file)}: no such file`, { file });
    throw invalid(file, `is not a readable zip (.npz) archive: ${(error as Error).message}`);
  }
  const tensors = new Map<string, NpzTensor>();
  try {
    const entries = await new Promise<yauzl.Entry[]>((resolve, reject) => {
      const list: yauzl.Entry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        list.push(entry);
        zip.readEntry();
      });
      zip.on('end', () => resolve(list));
      zip.on('error', reject);
      zip.readEntry();
    }).catch((error: Error) => {
      throw invalid(file, `is not a readable zip (.npz) archive: ${error.message}`);
    });
    for (const entry of entries) {
      if (!entry.fileName.endsWith('.npy')) continue;
      const name = entry.fileName.slice(0, -4);
      if (entry.compressionMethod === 0) {
        const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
        const header = parseNpyHeader(readAt(file, fileDataStart, Math.min(entry.uncompressedSize, 65536 + 12)), file, name);
        const byteLength = header.shape.reduce((a, b) => a * b, 1) * header.itemSize;
        if (header.headerBytes + byteLength !== entry.uncompressedSize) {
          throw invalid(file, `entry '${name}': the .npy header promises ${byteLength} data bytes, the archive holds ${entry.uncompressedSize - header.headerBytes} (truncated or corrupt)`, { tensor: name });
        }
        tensors.set(name, { name, dtype: header.dtype, shape: header.shape, file, offset: fileDataStart + header.headerBytes, byteLength });
      } else if (entry.compressionMethod === 8) {
        const bytes = await readStream(await zip.openReadStreamPromise(entry)).catch((error: Error) => {
          throw invalid(file, `entry '${name}' cannot be inflated: ${error.message}`, { tensor: name });
        });
        const header = parseNpyHeader(bytes, file, name);
        const byteLength = header.shape.reduce((a, b) => a * b, 1) * header.itemSize;
        if (header.headerBytes + byteLength !== bytes.byteLength) throw invalid(file, `entry '${name}': the .npy header promises ${byteLength} data bytes, found ${bytes.byteLength - header.headerBytes}`, { tensor: name });
        // A fresh, aligned copy of just the data.
        const data = bytes.slice(header.headerBytes);
        tensors.set(name, { name, dtype: header.dtype, shape: header.shape, file, offset: 0, byteLength, data });
      } else {
        throw invalid(file, `entry '${entry.fileName}' uses zip compression method ${entry.compressionMethod}; only stored and deflated entries are supported`);
      }
    }
  } finally {
    zip.close();
  }
  return tensors;
}

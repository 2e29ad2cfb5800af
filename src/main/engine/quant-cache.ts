// A file of int8 weights and scales made by quantizeGraph, kept between runs so a fast session's
// next load skips reading and quantizing the float weights (Gemma-2-2B: about 50 s of JavaScript
// quantization on the 2-core Xeon, plus reading 5.4 GB of float32).
//
// Its name is sha256(caller's key, bits, format version): the caller's key must fingerprint the
// weights' content (the analysis uses its model fingerprint: whole-file sha256 of every weight file
// and config.json), so a changed file is another name, never a stale hit.
// Layout: data (per weight: Wq (K, N) int8 then s (N) float32, each 64-byte aligned), then a
// footer JSON {key, bits, version, dataBytes, dataSha256, entries: [{name, K, N, q: [offset,
// length], s: [offset, length]}]}, then its byte length (u32 LE) and the magic "LSQUANT1". A file
// whose footer, size or data sha256 does not check out is not used (and is rewritten).
// Written to a temporary name and renamed, so a crash leaves no half file under the real name.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = 'LSQUANT1';
export const QUANT_CACHE_VERSION = 1;

export interface QuantCacheOptions {
  /** A folder the application owns (created if missing). */
  dir: string;
  /** A fingerprint of the weights' content (e.g. sha256 of every weight file). */
  key: string;
}

export interface CachedWeight {
  K: number;
  N: number;
  q: Uint8Array;
  scale: Uint8Array;
}

interface Entry {
  name: string;
  K: number;
  N: number;
  q: [number, number];
  s: [number, number];
}

export function quantCacheFile(options: QuantCacheOptions, bits: number): string {
  const id = createHash('sha256').update(JSON.stringify({ key: options.key, bits, version: QUANT_CACHE_VERSION })).digest('hex');
  return join(options.dir, `quant-${id}.bin`);
}

function readAt(fd: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, offset + got);
    if (n === 0) throw new Error('file ends early');
    got += n;
  }
  return out;
}

/** The cached weights by name, or why the file cannot be used (absent, damaged, other key). */
export function readQuantCache(options: QuantCacheOptions, bits: number): { weights: Map<string, CachedWeight> } | { miss: string } {
  const file = quantCacheFile(options, bits);
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { miss: 'absent' };
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 12) return { miss: 'damaged: shorter than its trailer' };
    const tail = readAt(fd, size - 12, 12);
    if (Buffer.from(tail.subarray(4)).toString('latin1') !== MAGIC) return { miss: 'damaged: no trailer' };
    const footerLength = new DataView(tail.buffer).getUint32(0, true);
    if (footerLength > size - 12) return { miss: 'damaged: footer length' };
    const footer = JSON.parse(Buffer.from(readAt(fd, size - 12 - footerLength, footerLength)).toString('utf8')) as {
      key: string;
      bits: number;
      version: number;
      dataBytes: number;
      dataSha256: string;
      entries: Entry[];
    };
    if (footer.key !== options.key || footer.bits !== bits || footer.version !== QUANT_CACHE_VERSION) return { miss: 'made for other weights or settings' };
    if (footer.dataBytes !== size - 12 - footerLength) return { miss: 'damaged: size' };
    const data = readAt(fd, 0, footer.dataBytes);
    if (createHash('sha256').update(data).digest('hex') !== footer.dataSha256) return { miss: 'damaged: data checksum' };
    const weights = new Map<string, CachedWeight>();
    for (const e of footer.entries) {
      if (e.q[1] !== e.K * e.N || e.s[1] !== 4 * e.N || e.q[0] + e.q[1] > data.length || e.s[0] + e.s[1] > data.length) return { miss: `damaged: entry ${e.name}` };
      weights.set(e.name, { K: e.K, N: e.N, q: data.subarray(e.q[0], e.q[0] + e.q[1]), scale: data.slice(e.s[0], e.s[0] + e.s[1]) });
    }
    return { weights };
  } catch (error) {
    return { miss: `damaged: ${(error as Error).message}` };
  } finally {
    closeSync(fd);
  }
}

/** Appends weights as they are made, then `finish` names the file; `abort` leaves nothing. */
export function openQuantCacheWriter(options: QuantCacheOptions, bits: number) {
  mkdirSync(options.dir, { recursive: true });
  const file = quantCacheFile(options, bits);
  const temp = `${file}.${process.pid}.partial`;
  const fd = openSync(temp, 'w');
  const hash = createHash('sha256');
  const entries: Entry[] = [];
  let offset = 0;
  const append = (bytes: Uint8Array): [number, number] => {
    const padded = Math.ceil(bytes.length / 64) * 64;
    const at: [number, number] = [offset, bytes.length];
    writeSync(fd, bytes, 0, bytes.length, offset);
    hash.update(bytes);
    if (padded > bytes.length) {
      const zeros = new Uint8Array(padded - bytes.length);
      writeSync(fd, zeros, 0, zeros.length, offset + bytes.length);
      hash.update(zeros);
    }
    offset += padded;
    return at;
  };
  let open = true;
  const close = () => {
    if (open) closeSync(fd);
    open = false;
  };
  return {
    add(name: string, K: number, N: number, q: Uint8Array, scale: Uint8Array): void {
      entries.push({ name, K, N, q: append(q), s: append(scale) });
    },
    finish(): string {
      const footer = Buffer.from(JSON.stringify({ key: options.key, bits, version: QUANT_CACHE_VERSION, dataBytes: offset, dataSha256: hash.digest('hex'), entries }), 'utf8');
      const trailer = Buffer.alloc(12);
      trailer.writeUInt32LE(footer.length, 0);
      trailer.write(MAGIC, 4, 'latin1');
      writeSync(fd, footer, 0, footer.length, offset);
      writeSync(fd, trailer, 0, 12, offset + footer.length);
      close();
      renameSync(temp, file);
      return file;
    },
    abort(): void {
      close();
      rmSync(temp, { force: true });
    },
  };
}

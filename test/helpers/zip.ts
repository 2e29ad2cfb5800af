// A small zip writer for tests that need archives numpy would write (np.savez: stored entries;
// np.savez_compressed: deflated) and archives no honest tool writes: sizes in the central directory
// that lie, directories that run past the end of the file. Layout (APPNOTE 4.3): per entry a local
// header + data, then one central-directory header per entry, then the end-of-central-directory
// record.
import * as zlib from 'node:zlib';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array, crc = 0): number {
  // Node >= 20.15 computes it natively (a 512 MB bomb in a blink); the table is the fallback.
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (native) return native(bytes, crc);
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

export interface ZipEntry {
  name: string;
  method: 0 | 8;
  /** The bytes as stored in the archive (deflated ones already compressed). */
  stored: Uint8Array;
  crc: number;
  uncompressedSize: number;
  /** What the central directory claims, when it should lie. */
  claimUncompressed?: number;
  claimCompressed?: number;
  /** Where the central directory says the local header is, when it should lie. */
  claimOffset?: number;
}

/** An entry stored as is (np.savez). */
export function storedEntry(name: string, data: Uint8Array): ZipEntry {
  return { name, method: 0, stored: data, crc: crc32(data), uncompressedSize: data.length };
}

/** An entry deflated in memory (np.savez_compressed). */
export function deflatedEntry(name: string, data: Uint8Array): ZipEntry {
  return { name, method: 8, stored: deflateRawSync(data), crc: crc32(data), uncompressedSize: data.length };
}

/** A deflated entry of `head` followed by `zeros` zero bytes, compressed as a stream: a zip bomb
 * of any size without holding it in memory. */
export async function deflatedZerosEntry(name: string, head: Uint8Array, zeros: number): Promise<ZipEntry> {
  const deflate = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  deflate.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    deflate.on('end', resolve);
    deflate.on('error', reject);
  });
  let crc = crc32(head);
  deflate.write(head);
  const block = new Uint8Array(1 << 20);
  for (let left = zeros; left > 0; left -= block.length) {
    const piece = block.subarray(0, Math.min(block.length, left));
    crc = crc32(piece, crc);
    if (!deflate.write(piece)) await new Promise((r) => deflate.once('drain', r));
  }
  deflate.end();
  await done;
  return { name, method: 8, stored: Buffer.concat(out), crc, uncompressedSize: head.length + zeros };
}

/** The archive's bytes; `centralDirectoryOffset` can be forged to overrun the file. */
export function buildZip(entries: readonly ZipEntry[], forge: { centralDirectoryOffset?: number; centralDirectorySize?: number; entryCount?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.crc, 14);
    local.writeUInt32LE(e.claimCompressed ?? e.stored.length, 18);
    local.writeUInt32LE(e.claimUncompressed ?? e.uncompressedSize, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, Buffer.from(e.stored));
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.crc, 16);
    cd.writeUInt32LE(e.claimCompressed ?? e.stored.length, 20);
    cd.writeUInt32LE(e.claimUncompressed ?? e.uncompressedSize, 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(e.claimOffset ?? offset, 42);
    central.push(cd, name);
    offset += 30 + name.length + e.stored.length;
  }
  const cdBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(forge.entryCount ?? entries.length, 8);
  end.writeUInt16LE(forge.entryCount ?? entries.length, 10);
  end.writeUInt32LE(forge.centralDirectorySize ?? cdBytes.length, 12);
  end.writeUInt32LE(forge.centralDirectoryOffset ?? offset, 16);
  return Buffer.concat([...parts, cdBytes, end]);
}

/** A .npy file (format 1.0): magic, header dict padded to a multiple of 64 bytes, data. */
export function npyBytes(descr: string, shape: readonly number[], data: Uint8Array, headerText?: string): Uint8Array {
  const dict = headerText ?? `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const text = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(text.length, 8);
  return Buffer.concat([head, Buffer.from(text, 'latin1'), Buffer.from(data)]);
}

// NaN and infinities in a stored float tensor, found by their bit patterns (all exponent bits
// set) while the tensor streams through a fixed buffer, so that an embedding of gigabytes is
// checked without being held in memory. Used to name the broken tensor when a model's forward
// pass produced non-finite values.
import { closeSync, openSync, readSync } from 'node:fs';
import type { TensorEntry } from './safetensors';

export interface NonFinite {
  /** How many elements are NaN or ±Inf. */
  count: number;
  /** Flat row-major index of the first one. */
  first: number;
  /** 'NaN', 'Infinity' or '-Infinity' (the first one). */
  value: string;
}

const CHUNK = 1 << 24; // bytes; a multiple of every element size

/** Exponent mask and sign bit per element, in the element's own unsigned width (F64: its high word). */
const LAYOUT = {
  F32: { size: 4, exp: 0x7f800000, mantissa: 0x007fffff, sign: 0x80000000 },
  F64: { size: 8, exp: 0x7ff00000, mantissa: 0x000fffff, sign: 0x80000000 },
  F16: { size: 2, exp: 0x7c00, mantissa: 0x03ff, sign: 0x8000 },
  BF16: { size: 2, exp: 0x7f80, mantissa: 0x007f, sign: 0x8000 },
} as const;

/** null when every element is finite (and for non-float tensors). */
export function nonFiniteIn(entry: TensorEntry): NonFinite | null {
  const layout = LAYOUT[entry.dtype as keyof typeof LAYOUT];
  if (!layout) return null;
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(entry.byteLength, 8)));
  const fd = openSync(entry.file, 'r');
  let count = 0;
  let first = -1;
  let value = '';
  try {
    for (let done = 0; done < entry.byteLength; ) {
      const want = Math.min(buffer.length, entry.byteLength - done);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buffer, got, want - got, entry.offset + done + got);
        if (n === 0) throw new Error(`${entry.file}: ends inside tensor '${entry.name}'`);
        got += n;
      }
      const base = done / layout.size;
      const elements = want / layout.size;
      for (let i = 0; i < elements; i++) {
        // Little-endian; for F64 the exponent lives in the high 32-bit word.
        const bits = layout.size === 2 ? buffer.readUInt16LE(i * 2) : layout.size === 4 ? buffer.readUInt32LE(i * 4) : buffer.readUInt32LE(i * 8 + 4);
        if ((bits & layout.exp) >>> 0 !== layout.exp) continue;
        if (count++ === 0) {
          first = base + i;
          const nan = layout.size === 8 ? (bits & layout.mantissa) !== 0 || buffer.readUInt32LE(i * 8) !== 0 : (bits & layout.mantissa) !== 0;
          value = nan ? 'NaN' : (bits & layout.sign) !== 0 ? '-Infinity' : 'Infinity';
        }
      }
      done += want;
    }
  } finally {
    closeSync(fd);
  }
  return count ? { count, first, value } : null;
}

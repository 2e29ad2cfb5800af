// A text file's lines, streamed with a byte bound per line and per file (a 10 MB line is refused
// when the bound is crossed, not after it was read), each decoded as strict UTF-8, and the whole
// file's SHA-256 computed on the way (the scorer's per-item cache keys name the file by it).
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { fileError } from './errors';

const CHUNK_BYTES = 1 << 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface LineBounds {
  lineBytes: number;
  fileBytes: number;
  /** What the file is, for messages (default `benchmark file`). */
  what?: string;
  /** What one line holds, for messages (default `one item`). */
  unit?: string;
}

/** Lines of an open file with their 1-based numbers: a leading BOM and CR line ends removed.
 * `hash` receives every byte of the file, in order, as it is read. */
export function* fileLines(path: string, fd: number, bounds: LineBounds, hash: Hash): Generator<{ line: number; text: string }> {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let buffer = Buffer.alloc(Math.min(bounds.lineBytes + 1, 64 * 1024));
  let length = 0;
  let line = 1;
  let position = 0;
  const emit = (): { line: number; text: string } => {
    let bytes = buffer.subarray(0, length);
    if (line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    if (bytes.includes(0)) throw fileError(path, `line ${line} holds a NUL byte: a binary file, not JSON lines`, { line });
    try {
      return { line, text: utf8.decode(bytes) };
    } catch {
      throw fileError(path, `is not valid UTF-8 (line ${line})`, { line });
    }
  };
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK_BYTES, position);
    if (n === 0) break;
    position += n;
    if (position > bounds.fileBytes) throw fileError(path, `is over the ${bounds.fileBytes}-byte limit for a ${bounds.what ?? 'benchmark file'}`, { limit: bounds.fileBytes });
    hash.update(chunk.subarray(0, n));
    let start = 0;
    while (start < n) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 || newline >= n ? n : newline;
      const piece = end - start;
      if (length + piece > bounds.lineBytes) {
        throw fileError(path, `line ${line} is over the ${bounds.lineBytes}-byte limit for ${bounds.unit ?? 'one item'}`, { line, limit: bounds.lineBytes });
      }
      if (length + piece > buffer.length) {
        const grown = Buffer.alloc(Math.min(bounds.lineBytes + 1, Math.max(buffer.length * 2, length + piece)));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      chunk.copy(buffer, length, start, end);
      length += piece;
      if (end === n) break;
      yield emit();
      line++;
      length = 0;
      start = end + 1;
    }
  }
  if (length > 0) yield emit();
}

export function sha256(): Hash {
  return createHash('sha256');
}

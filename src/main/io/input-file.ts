// Opening files a user named (weights, npz, tokenizer, corpus, configs) without handing control
// to the file: a named pipe or a device blocks `open`/`read` forever or never ends, a symbolic link
// loop fails deep inside a library, and a huge file takes the process's memory. Every reader of
// user input goes through these checks first; their errors name the file and the rule broken,
// never the file's content.
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { basename } from 'node:path';
import { ApiError, type ErrorCode } from '../../shared/errors';

/** The error codes of one kind of input: missing, and present but not usable. */
export interface InputCodes {
  missing: ErrorCode;
  bad: ErrorCode;
}

export const WEIGHT_CODES: InputCodes = { missing: 'WEIGHTS_NOT_FOUND', bad: 'WEIGHTS_INVALID' };
export const TOKENIZER_CODES: InputCodes = { missing: 'TOKENIZER_NOT_FOUND', bad: 'TOKENIZER_UNREADABLE' };
export const CORPUS_CODES: InputCodes = { missing: 'INVALID_ARGUMENT', bad: 'INVALID_ARGUMENT' };

/** JSON side files (config.json, cfg.json, tokenizer_config.json, shard indexes): the largest
 * real ones are a few MB; anything past this is not one. */
export const MAX_JSON_BYTES = 64 * 2 ** 20;

// O_NONBLOCK makes opening a FIFO with no writer return at once (so fstat can refuse it) instead
// of waiting for a writer; on regular files it changes nothing. Windows has no such flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

function fail(code: ErrorCode, file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError(code, `${basename(file) || file}: ${message}`, { file, ...details });
}

/** stat (following symbolic links) with typed errors: missing, a link loop, not permitted. */
export function statInput(file: string, codes: InputCodes): Stats {
  try {
    return statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw fail(codes.missing, file, 'no such file');
    if (code === 'ELOOP') throw fail(codes.bad, file, 'is a symbolic link loop', { errno: code });
    if (code === 'ENAMETOOLONG') throw fail(codes.bad, file, 'the path is too long', { errno: code });
    throw fail(codes.bad, file, `cannot be read (${code ?? 'error'})`, { errno: code });
  }
}

/** Throws unless `st` is a regular file (what every reader here expects); a folder counts as the
 * file not being there, anything else as unusable. */
export function requireRegular(file: string, st: Stats, codes: InputCodes, what = 'file'): void {
  if (!st.isFile()) throw fail(st.isDirectory() ? codes.missing : codes.bad, file, `is ${kindOf(st)}, not a ${what}`, { kind: kindOf(st) });
}

/** Opens a regular file for reading; FIFOs, devices, sockets and folders are refused before
 * anything reads from them (stat first, then fstat of what was opened, in case it changed). */
export function openRegularFile(file: string, codes: InputCodes, what = 'file'): { fd: number; size: number } {
  requireRegular(file, statInput(file, codes), codes, what);
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? codes.missing : codes.bad, file, `cannot be opened (${code ?? 'error'})`, { errno: code });
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    requireRegular(file, st, codes, what);
  }
  return { fd, size: st.size };
}

/** The whole of a regular file of at most `maxBytes` (checked before reading). */
export function readRegularFile(file: string, codes: InputCodes, maxBytes: number, what = 'file'): Buffer {
  const { fd, size } = openRegularFile(file, codes, what);
  try {
    if (size > maxBytes) throw fail(codes.bad, file, `is ${size} bytes, over the ${maxBytes}-byte limit for a ${what}`, { limit: maxBytes, bytes: size });
    const out = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    // A file that grew while read is cut at the size checked; one that shrank is what it holds.
    return out.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Where a JSON.parse error happened, without the excerpt of the text V8 puts in its message
 * (`Unexpected token 'x', "...text..." is not valid JSON`): messages never carry file content. */
export function jsonErrorWhere(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `at character ${position}`;
  if (/end of JSON input|Unterminated/i.test(message)) return 'cut short';
  return 'unparseable';
}

/** A value from a file for a message: numbers, booleans, null and short lists of numbers as JSON
 * (a shape, offsets), short plain tokens quoted, anything else only described. */
export function quoteValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value) && value.length <= 8 && value.every((v) => typeof v === 'number')) return JSON.stringify(value);
  return quoteToken(value);
}

/** A value from a file, quoted for a one-line message when it is a short plain token (a dtype,
 * a language code, a segment id); otherwise a placeholder. Never lets a line of a file through. */
export function quoteToken(value: unknown, max = 40): string {
  if (typeof value === 'string' && value.length <= max && /^[\p{L}\p{N}_.:<>|=+\-/]*$/u.test(value)) return `'${value}'`;
  return typeof value === 'string' ? `a value of ${value.length} characters` : `a ${value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value}`;
}

// Streaming reader of Neuronpedia's export files: one JSON object per line, gzip-compressed
// (`batch-N.jsonl.gz`; a plain `.jsonl` left uncompressed by the export script is read as is).
// An activation batch of a 16k source holds ~10^4-10^5 records (tens to hundreds of MB once
// inflated), so nothing holds a whole file: chunks are inflated and split into lines as they
// arrive, and a line longer than the limit is refused before it is assembled (bounded memory).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { ApiError } from '../../../shared/errors';
import { jsonErrorWhere, openRegularFile, type InputCodes } from '../../io/input-file';

export const NEURONPEDIA_CODES: InputCodes = { missing: 'NEURONPEDIA_NOT_FOUND', bad: 'NEURONPEDIA_INVALID' };

/** The longest line read. A feature row carries its histograms, logits and decoder-weight
 * distribution (tens of KB), an activation record 128 tokens with values and DFA values (~10 KB);
 * 32 MiB is far past either and keeps one hostile line from taking the process's memory. */
export const MAX_LINE_BYTES = 32 * 2 ** 20;

export interface JsonLine {
  /** 1-based line number in the inflated text. */
  line: number;
  value: unknown;
}

export interface ReadLinesOptions {
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** How messages name the file (e.g. `activations/batch-3.jsonl.gz`); the path by default. */
  label?: string;
}

const invalid = (file: string, label: string, message: string, details: Record<string, unknown> = {}) =>
  new ApiError('NEURONPEDIA_INVALID', `${label}: ${message}`, { file, ...details });

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Yields each non-blank line's parsed JSON value. Stopping early (break) closes the file. */
export async function* readJsonLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<JsonLine> {
  const label = options.label ?? file;
  const maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
  const gzip = file.endsWith('.gz');
  // Opened after the regular-file checks (a FIFO or device is refused, a symbolic link followed).
  const { fd } = openRegularFile(file, NEURONPEDIA_CODES, 'Neuronpedia export file');
  const raw = createReadStream('', { fd, highWaterMark: 256 * 1024 });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  // A read error on the raw stream does not reach the gunzip stream through pipe().
  if (gzip) raw.on('error', (error) => stream.destroy(error));
  let line = 0;
  let inflated = 0;
  let parts: Buffer[] = [];
  let pending = 0;
  const parse = (bytes: Buffer): JsonLine | null => {
    line += 1;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw invalid(file, label, `line ${line} is not UTF-8 text`, { line });
    }
    if (text.trim() === '') return null;
    try {
      return { line, value: JSON.parse(text) };
    } catch (error) {
      // Python's json.dumps writes float('nan') as a bare NaN, which no JSON parser accepts.
      const nan = /(?:^|[\s,:[])-?(?:NaN|Infinity)(?=[\s,\]}])/.test(text);
      throw invalid(file, label, nan ? `line ${line} holds NaN or Infinity, which JSON cannot carry` : `line ${line} is not JSON (${jsonErrorWhere(error)})`, { line });
    }
  };
  const tooLong = () => invalid(file, label, `line ${line + 1} is longer than ${maxLine} bytes; a Neuronpedia record is far shorter — this is not an export file`, { line: line + 1, limit: maxLine });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (options.signal?.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
      inflated += chunk.length;
      let from = 0;
      for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
        if (pending + nl - from > maxLine) throw tooLong();
        parts.push(chunk.subarray(from, nl));
        const whole = parts.length === 1 ? parts[0] : Buffer.concat(parts);
        parts = [];
        pending = 0;
        from = nl + 1;
        const parsed = parse(whole);
        if (parsed) yield parsed;
      }
      if (from < chunk.length) {
        pending += chunk.length - from;
        if (pending > maxLine) throw tooLong();
        // Copied: the stream may reuse its chunk buffer.
        parts.push(Buffer.from(chunk.subarray(from)));
      }
    }
    if (pending > 0) {
      const parsed = parse(Buffer.concat(parts));
      if (parsed) yield parsed;
    }
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const message = (error as Error).message ?? '';
    if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR' || code === 'Z_NEED_DICT') {
      throw invalid(file, label, inflated === 0 ? 'is not gzip data; an export batch is a gzip-compressed .jsonl.gz file' : `is damaged gzip data after ${line} lines (${code})`, { line });
    }
    if (code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(message)) {
      throw invalid(file, label, `is cut short: the gzip stream ends after ${line} lines; download the file again`, { line });
    }
    throw invalid(file, label, `cannot be read (${code ?? message})`);
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

// A user's parallel corpus as a .tsv file: a header `segment<TAB>language<TAB>text`, then one row
// per phrase. The file is streamed line by line with a byte bound per line and per file, so a
// 10 MB line or a 10 GB file is refused when the bound is crossed (naming the row and the limit),
// not after it has been read, decoded and tokenised. Errors name the file, the row and the rule,
// never the row's text: an error message must not become a way to read a file's lines.
import { closeSync, readSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { CORPUS_CODES, openRegularFile, statInput } from '../io/input-file';

/** One phrase is a sentence or a paragraph; no model's context holds a line this long. */
export const MAX_CORPUS_LINE_BYTES = 256 * 1024;
/** FLORES-200 in every language is about 30 MB; a corpus file past this is refused unread. */
export const MAX_CORPUS_FILE_BYTES = 256 * 2 ** 20;

export interface CorpusLimits {
  lineBytes: number;
  fileBytes: number;
}

export interface CorpusSegment {
  key: string;
  text: Record<string, string>;
  /** The file row (1-based, header = 1) of each language's text. */
  rows: Record<string, number>;
}

const CHUNK_BYTES = 1 << 20;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(path: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('INVALID_ARGUMENT', `${basename(path)} ${message}`, { file: path, ...details });
}

/** A language code as written, when it looks like one (BCP 47 / UDHR code); else a placeholder. */
function codeLabel(code: string): string {
  return /^[A-Za-z0-9_-]{1,35}$/.test(code) ? `"${code}"` : '(a value that is not a language code)';
}

/** A segment id as written, when it is a short printable token; else a placeholder. */
function keyLabel(key: string): string {
  return key.length <= 64 && !/[\p{Cc}"]/u.test(key) ? `"${key}"` : `(an id of ${key.length} characters)`;
}

/** Lines of a file as strings with their 1-based row numbers; CRLF and a leading BOM removed. */
function* lines(path: string, fd: number, limits: CorpusLimits): Generator<{ row: number; text: string }> {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let line = Buffer.alloc(Math.min(limits.lineBytes + 1, 64 * 1024));
  let length = 0;
  let row = 1;
  let position = 0;
  const emit = (): { row: number; text: string } => {
    let bytes = line.subarray(0, length);
    if (row === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    if (bytes.includes(0)) throw fail(path, `row ${row} holds a NUL byte: a binary file, not a tab-separated text file`, { row });
    try {
      return { row, text: utf8.decode(bytes) };
    } catch {
      throw fail(path, `is not valid UTF-8 (row ${row})`, { row });
    }
  };
  for (;;) {
    const n = readSync(fd, chunk, 0, CHUNK_BYTES, position);
    if (n === 0) break;
    position += n;
    if (position > limits.fileBytes) throw fail(path, `is over the ${limits.fileBytes}-byte limit for a corpus file`, { limit: limits.fileBytes });
    let start = 0;
    while (start < n) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 || newline >= n ? n : newline;
      const piece = end - start;
      if (length + piece > limits.lineBytes) {
        throw fail(path, `row ${row} is over the ${limits.lineBytes}-byte limit for one line (one phrase per row)`, { row, limit: limits.lineBytes });
      }
      if (length + piece > line.length) {
        const grown = Buffer.alloc(Math.min(limits.lineBytes + 1, Math.max(line.length * 2, length + piece)));
        line.copy(grown, 0, 0, length);
        line = grown;
      }
      chunk.copy(line, length, start, end);
      length += piece;
      if (end === n) break;
      yield emit();
      row++;
      length = 0;
      start = end + 1;
    }
  }
  if (length > 0) yield emit();
}

/** Reads a corpus file. Rows in languages not chosen are allowed (one file can serve several
 * analyses) but must be known to the registry, so a mistyped code is reported with its row instead
 * of silently losing its segments. Segments without a text in every chosen language are left out
 * and listed in `incomplete`. */
export function readCorpusFile(
  file: string,
  codes: readonly string[],
  known: (code: string) => boolean = () => true,
  limits: CorpusLimits = { lineBytes: MAX_CORPUS_LINE_BYTES, fileBytes: MAX_CORPUS_FILE_BYTES },
): { segments: CorpusSegment[]; incomplete: string[]; missing: Record<string, string[]> } {
  const path = resolve(file);
  const st = statInput(path, CORPUS_CODES);
  if (st.isDirectory()) throw fail(path, 'is a folder, not a corpus file (a .tsv with the header segment<TAB>language<TAB>text)');
  const { fd, size } = openRegularFile(path, CORPUS_CODES, 'corpus file');
  const segments = new Map<string, { text: Record<string, string>; rows: Record<string, number> }>();
  try {
    if (size > limits.fileBytes) throw fail(path, `is ${size} bytes, over the ${limits.fileBytes}-byte limit for a corpus file`, { limit: limits.fileBytes, bytes: size });
    let sawHeader = false;
    for (const { row, text } of lines(path, fd, limits)) {
      if (!sawHeader) {
        const header = text.split('\t').map((h) => h.trim().toLowerCase());
        if (header.join(',') !== 'segment,language,text') {
          throw fail(path, `row 1: the header must be segment<TAB>language<TAB>text (found ${header.length} column${header.length === 1 ? '' : 's'} with other names)`, { row: 1 });
        }
        sawHeader = true;
        continue;
      }
      if (text.trim() === '') continue;
      const cols = text.split('\t');
      if (cols.length !== 3) throw fail(path, `row ${row}: expected 3 tab-separated columns, found ${cols.length}`, { row });
      const [key, code, phrase] = cols.map((c) => c.trim());
      if (!known(code)) throw new ApiError('UNKNOWN_LANGUAGE', `${basename(path)} row ${row}: unknown language code ${codeLabel(code)} (see \`npx linguascope languages\`)`, { file: path, row });
      if (!key) throw fail(path, `row ${row}: the segment id is empty`, { row });
      if (!phrase) throw fail(path, `row ${row}: the text is empty`, { row });
      const seg = segments.get(key) ?? { text: {}, rows: {} };
      if (seg.text[code] !== undefined) throw fail(path, `row ${row}: segment ${keyLabel(key)} has a second ${code} text (the first is row ${seg.rows[code]})`, { row });
      seg.text[code] = phrase;
      seg.rows[code] = row;
      segments.set(key, seg);
    }
    if (!sawHeader) throw fail(path, 'is empty; expected the header segment<TAB>language<TAB>text and one row per phrase', { row: 1 });
  } finally {
    closeSync(fd);
  }
  const all = [...segments.entries()];
  const complete = all.filter(([, s]) => codes.every((c) => s.text[c] !== undefined));
  if (complete.length === 0) throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `${basename(path)} has no segment with a text in every chosen language (${codes.join(', ')})`, { file: path });
  return {
    segments: complete.map(([key, s]) => ({ key, text: Object.fromEntries(codes.map((c) => [c, s.text[c]])), rows: Object.fromEntries(codes.map((c) => [c, s.rows[c]])) })),
    incomplete: all.filter(([, s]) => !codes.every((c) => s.text[c] !== undefined)).map(([key]) => key),
    /** For each incomplete segment, the chosen languages it has no text in (file order). */
    missing: Object.fromEntries(all.flatMap(([key, s]) => {
      const lacking = codes.filter((c) => s.text[c] === undefined);
      return lacking.length ? [[key, lacking]] : [];
    })),
  };
}

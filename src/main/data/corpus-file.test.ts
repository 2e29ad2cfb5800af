// Hostile corpus files, one row per class: a 10 MB line, a file over the size bound, a folder, a
// FIFO, a device, a symbolic link loop, binary bytes, bytes that are not UTF-8, an empty file, a
// header carrying a private line. Each is a typed error naming the file (and the row and limit
// where there is one), on one line, never containing the file's text; the huge line is refused in
// bounded time and memory (the old reader decoded it whole and the tokenizer took 18 s and
// 2.3 GB). A BOM and CRLF line ends are read as plain text, and each text's row is returned.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { MAX_CORPUS_FILE_BYTES, MAX_CORPUS_LINE_BYTES, readCorpusFile } from './corpus-file';

const tmp = tempDir('corpus-');
afterAll(() => tmp.cleanup());
const CANARY = 'LEAK-CANARY-corpus-9d21'; // V8's JSON errors quote ~10 characters: even a prefix must not leak
const HEADER = 'segment\tlanguage\ttext\n';
const known = (code: string) => ['en', 'hi', 'de'].includes(code);

function file(name: string, content: string | Buffer): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

function failure(path: string): ApiError {
  try {
    readCorpusFile(path, ['en', 'hi'], known);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error(`${path} was read`);
}

describe('hostile corpus files end in a typed error naming the file, never its content', () => {
  const cases: [string, () => string, string, RegExp][] = [
    ['a 10 MB line', () => file('long-line.tsv', `${HEADER}s1\ten\t${CANARY}${'x'.repeat(10 * 2 ** 20)}\n`), 'INVALID_ARGUMENT', new RegExp(`long-line\\.tsv row 2 is over the ${MAX_CORPUS_LINE_BYTES}-byte limit for one line`)],
    ['a file over the size bound (sparse)', () => {
      const path = file('huge.tsv', `${HEADER}s1\ten\t${CANARY}\n`);
      truncateSync(path, MAX_CORPUS_FILE_BYTES + 1);
      return path;
    }, 'INVALID_ARGUMENT', new RegExp(`huge\\.tsv is ${MAX_CORPUS_FILE_BYTES + 1} bytes, over the ${MAX_CORPUS_FILE_BYTES}-byte limit`)],
    ['a folder', () => {
      mkdirSync(join(tmp.dir, 'a-folder.tsv'));
      return join(tmp.dir, 'a-folder.tsv');
    }, 'INVALID_ARGUMENT', /a-folder\.tsv is a folder, not a corpus file/],
    ['a named pipe (FIFO)', () => {
      const path = join(tmp.dir, 'pipe.tsv');
      expect(spawnSync('mkfifo', [path]).status).toBe(0);
      return path;
    }, 'INVALID_ARGUMENT', /pipe\.tsv: is a named pipe \(FIFO\), not a corpus file/],
    ['a device', () => {
      symlinkSync('/dev/null', join(tmp.dir, 'device.tsv'));
      return join(tmp.dir, 'device.tsv');
    }, 'INVALID_ARGUMENT', /device\.tsv: is a device, not a corpus file/],
    ['a symbolic link loop', () => {
      symlinkSync('loop.tsv', join(tmp.dir, 'loop.tsv'));
      return join(tmp.dir, 'loop.tsv');
    }, 'INVALID_ARGUMENT', /loop\.tsv: is a symbolic link loop/],
    ['binary bytes (NUL)', () => file('binary.tsv', Buffer.concat([Buffer.from(`${HEADER}s1\ten\t${CANARY}`), Buffer.from([0, 1, 2, 0]), Buffer.from('\n')])), 'INVALID_ARGUMENT', /binary\.tsv row 2 holds a NUL byte: a binary file/],
    ['bytes that are not UTF-8', () => file('latin1.tsv', Buffer.concat([Buffer.from(`${HEADER}s1\ten\tHello\ns1\thi\t${CANARY} caf`), Buffer.from([0xe9, 0x0a])])), 'INVALID_ARGUMENT', /latin1\.tsv is not valid UTF-8 \(row 3\)/],
    ['an empty file', () => file('empty.tsv', ''), 'INVALID_ARGUMENT', /empty\.tsv is empty; expected the header/],
    ['a header that is a private line (not echoed)', () => file('private.tsv', `${CANARY}: root:x:0:0:root:/root:/bin/bash\nmore\n`), 'INVALID_ARGUMENT', /private\.tsv row 1: the header must be segment<TAB>language<TAB>text \(found 1 column/],
    ['an unknown language code that is not a code (not echoed)', () => file('code.tsv', `${HEADER}s1\t${CANARY} and more words\tHello\n`), 'UNKNOWN_LANGUAGE', /code\.tsv row 2: unknown language code \(a value that is not a language code\)/],
    ['a second text for one segment and language', () => file('twice.tsv', `${HEADER}s1\ten\tHello\ns1\thi\tNamaste\ns1\ten\tHi\n`), 'INVALID_ARGUMENT', /twice\.tsv row 4: segment "s1" has a second en text \(the first is row 2\)/],
  ];
  it.each(cases)('%s', (_, make, code, pattern) => {
    const path = make();
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const error = failure(path);
    const seconds = (performance.now() - started) / 1000;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(CANARY.slice(0, 9));
    expect(error.message.split('\n')).toHaveLength(1);
    expect(seconds).toBeLessThan(2);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 2 ** 20);
  }, 10_000);
});

describe('plain corpus files', () => {
  it('a BOM and CRLF line ends are read as text; every text keeps its row', () => {
    const path = file('bom-crlf.tsv', `\uFEFF${HEADER.replace('\n', '\r\n')}s1\ten\tHello\r\ns1\thi\tनमस्ते\r\n\r\ns2\ten\tBye\r\ns2\tde\tTschüss\r\n`);
    const read = readCorpusFile(path, ['en', 'hi'], known);
    expect(read.segments).toEqual([{ key: 's1', text: { en: 'Hello', hi: 'नमस्ते' }, rows: { en: 2, hi: 3 } }]);
    expect(read.incomplete).toEqual(['s2']);
  });

  it('a line just under the limit is read, so the limit is what refuses the long one', () => {
    const text = 'y'.repeat(MAX_CORPUS_LINE_BYTES - 10);
    const read = readCorpusFile(file('edge.tsv', `${HEADER}s1\ten\t${text}\ns1\thi\tx`), ['en', 'hi'], known);
    expect(read.segments[0].text.en).toBe(text);
    expect(read.segments[0].rows.hi).toBe(3);
  });
});

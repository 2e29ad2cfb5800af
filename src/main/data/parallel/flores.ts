// FLORES-200 and FLORES+ as released: one text file per language and split, line n of every file
// being the same sentence. FLORES-200's tarball names them `{dev,devtest}/eng_Latn.{dev,devtest}`,
// the FLORES+ release `{dev,devtest}/{dev,devtest}.eng_Latn`; both are read. Alignment is by line
// number only, so files of one split with different line counts are refused (a missing or extra
// line would pair every later sentence with the wrong translation). Segment ids are
// `{split}-{line}` (1-based).
import { closeSync } from 'node:fs';
import { basename } from 'node:path';
import { CORPUS_CODES, openRegularFile } from '../../io/input-file';
import { fileError } from '../mc/errors';
import { fileLines, sha256 } from '../mc/lines';
import { benchmarkFiles } from '../mc/walk';
import { isFloresCode } from './languages';
import { addText, newColumn, type ParallelColumn, type ParallelLimits, type ParallelRead } from './types';

export const FLORES_SPLITS = ['dev', 'devtest'] as const;
export type FloresSplit = (typeof FLORES_SPLITS)[number];

/** `eng_Latn.devtest` or `devtest.eng_Latn` -> its code and split; null for any other name. */
export function floresName(name: string): { code: string; split: FloresSplit } | null {
  const parts = name.split('.');
  if (parts.length !== 2) return null;
  const [a, b] = parts;
  if (isFloresCode(a) && (FLORES_SPLITS as readonly string[]).includes(b)) return { code: a, split: b as FloresSplit };
  if (isFloresCode(b) && (FLORES_SPLITS as readonly string[]).includes(a)) return { code: b, split: a as FloresSplit };
  return null;
}

export function hasFloresFiles(root: string, limits: ParallelLimits): boolean {
  return benchmarkFiles(root, limits, { what: 'corpus file', isData: (n) => floresName(n) !== null }).files.length > 0;
}

function readLines(path: string, limits: ParallelLimits): string[] {
  const { fd, size } = openRegularFile(path, CORPUS_CODES, 'corpus file');
  try {
    if (size > limits.fileBytes) throw fileError(path, `is ${size} bytes, over the ${limits.fileBytes}-byte limit for a corpus file`, { limit: limits.fileBytes });
    const out: string[] = [];
    for (const { text } of fileLines(path, fd, { ...limits, what: 'corpus file', unit: 'one sentence' }, sha256())) out.push(text);
    // A final newline ends the last line; it does not start an empty one.
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Reads the FLORES files of `split` under `root` (split `null`: the one split present, devtest
 * when both are). */
export function readFlores(root: string, split: FloresSplit | null, limits: ParallelLimits): ParallelRead {
  const { files } = benchmarkFiles(root, limits, { what: 'corpus file', isData: (n) => floresName(n) !== null });
  const named = files.map((f) => ({ ...f, ...floresName(basename(f.path))! }));
  if (named.length === 0) throw fileError(root, 'holds no FLORES file: expected {dev,devtest}/eng_Latn.{dev,devtest} (FLORES-200) or {dev,devtest}/{dev,devtest}.eng_Latn (FLORES+)');
  const present = [...new Set(named.map((f) => f.split))];
  const chosen: FloresSplit = split ?? (present.includes('devtest') ? 'devtest' : present[0]);
  const mine = named.filter((f) => f.split === chosen);
  if (mine.length === 0) throw fileError(root, `holds no FLORES ${chosen} file (it has ${present.join(', ')})`, { split: chosen, present });

  const columns = new Map<string, ParallelColumn>();
  let lines: { count: number; file: string } | null = null;
  for (const file of mine) {
    const other = columns.get(file.code);
    if (other) throw fileError(file.path, `is a second ${file.code} ${chosen} file (the first is ${other.files[0]}); keep one`, { code: file.code });
    const texts = readLines(file.path, limits);
    if (lines && texts.length !== lines.count) {
      throw fileError(file.path, `has ${texts.length} lines where ${basename(lines.file)} has ${lines.count}: FLORES files are aligned by line, so every file of a split must have the same number`, { lines: texts.length, expected: lines.count });
    }
    lines ??= { count: texts.length, file: file.path };
    const column = newColumn(file.code, file.path);
    texts.forEach((text, i) => addText(column, `${chosen}-${i + 1}`, text));
    columns.set(file.code, column);
  }
  return { format: 'flores', split: chosen, columns: [...columns.values()], files: mine.map((f) => f.path) };
}

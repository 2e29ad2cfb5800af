// Parallel corpora as tables: JSON lines, CSV, TSV or parquet, in either of two shapes, told apart
// by the fields present:
//   long  a row per (segment, language): `segment` (or `id`), `language`, `text`
//   wide  a row per segment: an optional `segment`/`id` column and one column per language
// and the FLORES+ parquet files from the Hugging Face Hub, a row per sentence of one language:
// `id`, `iso_639_3`, `iso_15924`, `text` (the language label becomes `eng_Latn`; the split comes
// from the folder or file name, dev or devtest). A wide table without an id column numbers its
// segments by row. Values must be text (a number or an object in a text column is refused naming
// the row and column, never silently stringified).
import { closeSync } from 'node:fs';
import { basename, extname, sep } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { CORPUS_CODES, openRegularFile, readRegularFile } from '../../io/input-file';
import { describeValue, type RawFile } from '../mc/container';
import { fieldList, fileError, rowError } from '../mc/errors';
import { readJsonLines } from '../mc/jsonl';
import { fileLines, sha256 } from '../mc/lines';
import { readParquet } from '../mc/parquet';
import { addText, newColumn, type ParallelColumn, type ParallelFormat, type ParallelLimits } from './types';

const ID_FIELDS = ['segment', 'id', 'segment_id'];
const FLORES_PLUS_FIELDS = ['id', 'iso_639_3', 'iso_15924', 'text'];

export type TableFormat = Extract<ParallelFormat, 'jsonl' | 'csv' | 'tsv' | 'parquet'>;

export function tableFormatOf(path: string): TableFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.csv') return 'csv';
  if (ext === '.tsv' || ext === '.tab') return 'tsv';
  if (ext === '.parquet') return 'parquet';
  return null;
}

/** A delimited text file as rows of named string fields; the header is row 1. */
function readDelimited(path: string, format: 'csv' | 'tsv', limits: ParallelLimits): RawFile {
  const rows: RawFile['rows'] = [];
  let header: string[] = [];
  const hash = sha256();
  if (format === 'csv') {
    const bytes = readRegularFile(path, CORPUS_CODES, limits.wholeFileBytes, 'corpus file');
    hash.update(bytes);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw fileError(path, 'is not valid UTF-8');
    }
    let records: string[][];
    try {
      // Quoted fields may hold commas and line breaks; a record longer than a line's bound is refused.
      records = parseCsv(text, { bom: true, skip_empty_lines: true, relax_column_count: false, max_record_size: limits.lineBytes }) as string[][];
    } catch (error) {
      const e = error as { code?: string; lines?: number };
      throw fileError(path, `is not a readable CSV file (${e.code ?? 'parse error'}${e.lines ? ` at line ${e.lines}` : ''})`, { line: e.lines });
    }
    [header = []] = records;
    records.slice(1).forEach((r, i) => rows.push({ index: i + 2, raw: Object.fromEntries(header.map((h, j) => [h.trim(), r[j]])) }));
  } else {
    const { fd } = openRegularFile(path, CORPUS_CODES, 'corpus file');
    try {
      for (const { line, text } of fileLines(path, fd, { ...limits, what: 'corpus file', unit: 'one row' }, hash)) {
        if (text.trim() === '') continue;
        const cells = text.split('\t');
        if (header.length === 0) {
          header = cells.map((c) => c.trim());
          continue;
        }
        if (cells.length !== header.length) throw rowError({ file: path, unit: 'line', index: line }, `has ${cells.length} tab-separated columns where the header has ${header.length}`);
        rows.push({ index: line, raw: Object.fromEntries(header.map((h, j) => [h, cells[j]])) });
      }
    } finally {
      closeSync(fd);
    }
  }
  if (header.length === 0) throw fileError(path, 'is empty: expected a header row');
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw fileError(path, 'has a column with no name in its header');
    if (seen.has(h.toLowerCase())) throw fileError(path, `names the column ${JSON.stringify(h.slice(0, 40))} twice in its header`);
    seen.add(h.toLowerCase());
  }
  return { format: 'jsonl', sha256: hash.digest('hex'), unit: format === 'csv' ? 'row' : 'line', fieldsAt: 1, fields: header, rows };
}

async function readRows(path: string, format: TableFormat, limits: ParallelLimits): Promise<RawFile> {
  if (format === 'jsonl') return readJsonLines(path, { ...limits }, 'corpus file', 'one row');
  if (format === 'parquet') return readParquet(path, limits, 'corpus file');
  return readDelimited(path, format, limits);
}

function textCell(raw: RawFile, index: number, path: string, field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw rowError({ file: path, unit: raw.unit, index }, `${JSON.stringify(field.slice(0, 40))} holds ${describeValue(value)}, not text`);
  return value;
}

function idCell(raw: RawFile, index: number, path: string, field: string, value: unknown): string {
  const id = typeof value === 'number' && Number.isInteger(value) ? String(value) : typeof value === 'string' ? value.trim() : null;
  if (id === null || id === '') throw rowError({ file: path, unit: raw.unit, index }, `${JSON.stringify(field)} must be a non-empty text or whole number (found ${describeValue(value)})`);
  if (/[\t\r\n]/.test(id)) throw rowError({ file: path, unit: raw.unit, index }, `${JSON.stringify(field)} holds a tab or line break`);
  return id;
}

/** The FLORES+ split a Hub parquet file belongs to, from its folders or name. */
function splitOf(path: string): string | null {
  const parts = path.split(sep).map((p) => p.toLowerCase());
  const name = basename(path).toLowerCase();
  for (const split of ['devtest', 'dev']) if (parts.includes(split) || name.startsWith(`${split}-`) || name.startsWith(`${split}.`)) return split;
  return null;
}

export interface TableRead {
  shape: 'long' | 'wide' | 'flores-parquet';
  split: string | null;
  columns: ParallelColumn[];
}

/** Reads one table file into language columns. */
export async function readTable(path: string, format: TableFormat, limits: ParallelLimits): Promise<TableRead> {
  const raw = await readRows(path, format, limits);
  const fields = raw.fields;
  const lower = new Map(fields.map((f) => [f.toLowerCase(), f]));
  const columns = new Map<string, ParallelColumn>();
  const column = (label: string) => {
    let c = columns.get(label);
    if (!c) columns.set(label, (c = newColumn(label, path)));
    return c;
  };
  if (FLORES_PLUS_FIELDS.every((f) => lower.has(f))) {
    const split = splitOf(path);
    for (const { index, raw: row } of raw.rows) {
      const lang = textCell(raw, index, path, 'iso_639_3', row[lower.get('iso_639_3')!]).trim();
      const script = textCell(raw, index, path, 'iso_15924', row[lower.get('iso_15924')!]).trim();
      const id = idCell(raw, index, path, 'id', row[lower.get('id')!]);
      addText(column(`${lang}_${script}`), split ? `${split}-${id}` : id, textCell(raw, index, path, 'text', row[lower.get('text')!]));
    }
    return { shape: 'flores-parquet', split, columns: [...columns.values()] };
  }
  const idField = ID_FIELDS.map((f) => lower.get(f)).find((f) => f !== undefined);
  if (lower.has('language') && lower.has('text')) {
    if (!idField) throw fileError(path, `has language and text columns but no segment column (${ID_FIELDS.join(' or ')}) to align its rows by; it has ${fieldList(fields)}`);
    const extra = fields.filter((f) => ![idField, lower.get('language'), lower.get('text')].includes(f));
    if (extra.length) throw fileError(path, `has language and text columns and also ${fieldList(extra)}: a long table has exactly ${idField}, language and text`);
    for (const { index, raw: row } of raw.rows) {
      const label = textCell(raw, index, path, 'language', row[lower.get('language')!]).trim();
      if (!label) throw rowError({ file: path, unit: raw.unit, index }, '"language" is empty');
      addText(column(label), idCell(raw, index, path, idField, row[idField]), textCell(raw, index, path, 'text', row[lower.get('text')!]));
    }
    return { shape: 'long', split: null, columns: [...columns.values()] };
  }
  const languageFields = fields.filter((f) => f !== idField);
  if (languageFields.length === 0) throw fileError(path, `has no language column: expected a column per language (and ${ID_FIELDS.join('/')}), or segment, language and text; it has ${fieldList(fields)}`);
  for (const f of languageFields) column(f);
  raw.rows.forEach(({ index, raw: row }, i) => {
    const segment = idField ? idCell(raw, index, path, idField, row[idField]) : String(i + 1);
    for (const f of languageFields) addText(column(f), segment, textCell(raw, index, path, f, row[f]));
  });
  return { shape: 'wide', split: null, columns: [...columns.values()] };
}

// A parallel corpus from a user's files, as the canonical corpus LinguaScope reads everywhere (the
// segment<TAB>language<TAB>text table of corpus-file.ts), with a report of what was kept and what
// was dropped, per language. The format is recognised from the files: FLORES text files by their
// names, tables by their extension and then by the fields present (table.ts). A segment is kept
// when every chosen language has a text for it; each language's report says how many of its rows
// were empty, repeated a segment, or lost because another language lacked that segment.
import { resolve } from 'node:path';
import type { DatasetImportResult, DatasetLanguageReport } from '../../../shared/dataset';
import type { Language } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { CORPUS_CODES, statInput } from '../../io/input-file';
import { fileError } from '../mc/errors';
import { benchmarkFiles } from '../mc/walk';
import { FLORES_SPLITS, hasFloresFiles, readFlores, type FloresSplit } from './flores';
import { languageForLabel } from './languages';
import { readTable, tableFormatOf } from './table';
import { PARALLEL_LIMITS, type ParallelColumn, type ParallelFormat, type ParallelLimits, type ParallelRead } from './types';

export interface ParallelImportOptions {
  /** Registry codes to keep; all the files' registered languages when omitted. */
  languages?: readonly string[];
  /** FLORES split (dev or devtest). */
  split?: FloresSplit;
}

export type LanguageReport = DatasetLanguageReport;

export interface ParallelImport extends Omit<DatasetImportResult, 'corpus' | 'report' | 'preview' | 'format'> {
  format: ParallelFormat;
  /** Segments in the order kept, each with a text per chosen language. */
  rows: { segment: string; texts: Record<string, string> }[];
}

async function readSource(root: string, split: FloresSplit | undefined, limits: ParallelLimits): Promise<ParallelRead> {
  const st = statInput(root, CORPUS_CODES);
  if (st.isDirectory() && hasFloresFiles(root, limits)) return readFlores(root, split ?? null, limits);
  const walk = benchmarkFiles(root, limits, { what: 'corpus file', isData: (n) => tableFormatOf(n) !== null });
  const files = walk.files.filter((f) => tableFormatOf(f.path) !== null);
  if (files.length === 0) {
    throw fileError(root, st.isDirectory()
      ? 'holds no corpus file: expected FLORES files ({dev,devtest}/eng_Latn.{dev,devtest}), FLORES+ parquet, or .jsonl, .csv, .tsv or .parquet tables'
      : 'is not a corpus file LinguaScope reads: expected .jsonl, .csv, .tsv or .parquet (or a FLORES folder)');
  }
  const tables = [];
  for (const file of files) tables.push({ format: tableFormatOf(file.path)!, ...(await readTable(file.path, tableFormatOf(file.path)!, limits)) });
  // FLORES+ parquet holds both splits side by side: one is read, devtest unless told otherwise.
  const floresSplits = new Set(tables.filter((t) => t.shape === 'flores-parquet').map((t) => t.split));
  const chosenSplit = split ?? (floresSplits.size > 1 ? (floresSplits.has('devtest') ? 'devtest' : [...floresSplits][0]) : null);
  const columns = new Map<string, ParallelColumn>();
  let format: ParallelFormat | null = null;
  const splits = new Set<string | null>();
  for (const table of tables) {
    if (table.shape === 'flores-parquet' && chosenSplit && table.split !== chosenSplit) continue;
    splits.add(table.split);
    format = table.shape === 'flores-parquet' ? 'flores-parquet' : table.format;
    for (const c of table.columns) {
      const seen = columns.get(c.label);
      if (!seen) {
        columns.set(c.label, c);
        continue;
      }
      // Several files of one language (a row-per-language table split in parts): merged, with a
      // segment both files hold counted as a repeat.
      seen.files.push(...c.files.filter((f) => !seen.files.includes(f)));
      seen.read += c.read;
      seen.empty += c.empty;
      for (const [segment, text] of c.texts) {
        if (seen.texts.has(segment)) seen.duplicate++;
        else seen.texts.set(segment, text);
      }
    }
  }
  if (format === null) throw fileError(root, `holds no FLORES+ ${split} file`, { split });
  return { format, split: splits.size === 1 ? [...splits][0] : null, columns: [...columns.values()], files: files.map((f) => f.path) };
}

/** Reads the parallel corpus at `path` for the registered `registry` languages. */
export async function importParallel(path: string, registry: readonly Language[], options: ParallelImportOptions = {}, limits: ParallelLimits = PARALLEL_LIMITS): Promise<ParallelImport> {
  if (options.split !== undefined && !FLORES_SPLITS.includes(options.split)) {
    throw new ApiError('INVALID_ARGUMENT', `split must be ${FLORES_SPLITS.join(' or ')}`, { split: options.split });
  }
  const root = resolve(path);
  const source = await readSource(root, options.split, limits);
  const wanted = options.languages ? [...new Set(options.languages)] : null;
  const unknown = wanted?.filter((c) => !registry.some((l) => l.code === c)) ?? [];
  if (unknown.length) throw new ApiError('UNKNOWN_LANGUAGE', `unknown language code${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (see \`npx linguascope languages\`)`, { codes: unknown });

  const byCode = new Map<string, ParallelColumn>();
  const mapped = new Set<string>();
  const skipped: ParallelImport['skipped'] = [];
  for (const column of source.columns) {
    const code = languageForLabel(column.label, registry);
    const rows = column.read;
    if (code !== null) mapped.add(code);
    if (code === null) {
      skipped.push({ label: column.label, files: column.files, rows, why: 'no registered language answers to it (add it with `npx linguascope languages add`)' });
    } else if (wanted && !wanted.includes(code)) {
      skipped.push({ label: column.label, files: column.files, rows, why: `${code} was not chosen` });
    } else if (byCode.has(code)) {
      const first = byCode.get(code)!;
      throw fileError(column.files[0], `holds ${column.label}, which is ${code} like ${first.label} in ${first.files[0]}: keep one of the two`, { code, labels: [first.label, column.label] });
    } else {
      byCode.set(code, column);
    }
  }
  const codes = wanted ?? registry.map((l) => l.code).filter((c) => byCode.has(c));
  const missing = codes.filter((c) => !byCode.has(c));
  if (missing.length) {
    const present = [...mapped];
    throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `${source.split ? `the ${source.split} split of ` : ''}${root} has no text in ${missing.join(', ')}${present.length ? ` (it has ${present.join(', ')})` : ''}`, { languages: missing, path: root, present });
  }
  if (codes.length === 0) throw fileError(root, 'holds no language the registry knows', { skipped: skipped.map((s) => s.label) });

  // Segments in first-seen order over the chosen languages' columns.
  const order = new Set<string>();
  for (const c of codes) for (const segment of byCode.get(c)!.texts.keys()) order.add(segment);
  const rows: ParallelImport['rows'] = [];
  const reports = new Map<string, LanguageReport>(codes.map((c) => {
    const col = byCode.get(c)!;
    return [c, { code: c, label: col.label, files: col.files, read: col.read, empty: col.empty, duplicate: col.duplicate, incomplete: 0, flattened: 0, kept: 0 }];
  }));
  for (const segment of order) {
    const complete = codes.every((c) => byCode.get(c)!.texts.has(segment));
    if (!complete) {
      for (const c of codes) if (byCode.get(c)!.texts.has(segment)) reports.get(c)!.incomplete++;
      continue;
    }
    const texts: Record<string, string> = {};
    for (const c of codes) {
      const text = byCode.get(c)!.texts.get(segment)!;
      const flat = text.replace(/[\t\r\n\u2028\u2029]+/g, ' ');
      if (flat !== text) reports.get(c)!.flattened++;
      texts[c] = flat;
      reports.get(c)!.kept++;
    }
    rows.push({ segment, texts });
  }
  if (rows.length === 0) throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `${root} has no segment with a text in every chosen language (${codes.join(', ')})`, { path: root, languages: codes });
  return { format: source.format, split: source.split, source: root, files: source.files, languages: [...reports.values()], skipped, segments: { read: order.size, kept: rows.length }, rows };
}

/** The corpus file's text: the header, then one row per (segment, language). */
export function corpusTsv(imported: ParallelImport): string {
  const codes = imported.languages.map((l) => l.code);
  const lines = ['segment\tlanguage\ttext'];
  for (const { segment, texts } of imported.rows) for (const c of codes) lines.push(`${segment}\t${c}\t${texts[c]}`);
  return `${lines.join('\n')}\n`;
}

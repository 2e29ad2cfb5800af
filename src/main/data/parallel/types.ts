// What the parallel-corpus readers hand to the assembler: one column of texts per language label
// as a file names it, keyed by segment, with the counts the import report states.

export const PARALLEL_FORMATS = ['flores', 'flores-parquet', 'jsonl', 'csv', 'tsv', 'parquet'] as const;
export type ParallelFormat = (typeof PARALLEL_FORMATS)[number];

export interface ParallelColumn {
  /** The language as the file names it: a FLORES code, a column name or a `language` value. */
  label: string;
  /** The file(s) it came from. */
  files: string[];
  /** Segment id -> text, in file order (the first text of a segment; later ones are duplicates). */
  texts: Map<string, string>;
  /** Rows read, rows with an empty text, rows repeating a segment already read. */
  read: number;
  empty: number;
  duplicate: number;
}

export interface ParallelRead {
  format: ParallelFormat;
  /** FLORES split read (dev or devtest); null for other layouts. */
  split: string | null;
  columns: ParallelColumn[];
  files: string[];
}

export interface ParallelLimits {
  lineBytes: number;
  fileBytes: number;
  wholeFileBytes: number;
  walkEntries: number;
  walkDepth: number;
}

/** FLORES-200 in every language and both splits is about 60 MB; a file holds one language. */
export const PARALLEL_LIMITS: ParallelLimits = {
  lineBytes: 256 * 1024,
  fileBytes: 256 * 2 ** 20,
  wholeFileBytes: 256 * 2 ** 20,
  walkEntries: 100_000,
  walkDepth: 12,
};

export function newColumn(label: string, file: string): ParallelColumn {
  return { label, files: [file], texts: new Map(), read: 0, empty: 0, duplicate: 0 };
}

/** Adds one row's text to a column (trimmed; an empty one or a repeated segment only counted). */
export function addText(column: ParallelColumn, segment: string, text: string): void {
  column.read++;
  const clean = text.trim();
  if (clean === '') column.empty++;
  else if (column.texts.has(segment)) column.duplicate++;
  else column.texts.set(segment, clean);
}

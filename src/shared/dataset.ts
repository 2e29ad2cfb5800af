// Parallel-corpus imports (FLORES, tables) into the canonical corpus file. Types only.

export const DATASET_FORMATS = ['flores', 'flores-parquet', 'jsonl', 'csv', 'tsv', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
export const FLORES_SPLIT_NAMES = ['dev', 'devtest'] as const;

export interface DatasetLanguageReport {
  code: string;
  /** The language as the files name it (`hin_Deva`, a column name, a `language` value). */
  label: string;
  files: string[];
  /** Rows read; of them empty, repeating a segment, or whose segment another language lacks. */
  read: number;
  empty: number;
  duplicate: number;
  incomplete: number;
  /** Texts whose tabs or line breaks were written as spaces (the corpus holds one line per text). */
  flattened: number;
  kept: number;
}

export interface DatasetImportResult {
  format: DatasetFormat;
  split: string | null;
  source: string;
  files: string[];
  languages: DatasetLanguageReport[];
  /** Languages in the files that were not imported, and why. */
  skipped: { label: string; files: string[]; rows: number; why: string }[];
  segments: { read: number; kept: number };
  /** The corpus file (segment<TAB>language<TAB>text) every analysis and fine-tune reads. */
  corpus: string;
  /** The report beside it (this result without the preview). */
  report: string;
  /** The first kept segments, for a preview. */
  preview: { segment: string; texts: Record<string, string> }[];
}

/** dataset.translate: source texts translated into each target language by its opus-mt folder. */
export interface DatasetTranslateResult {
  source: string;
  sourceLanguage: string;
  /** The languages the source already had (kept as they were), the source language first. */
  languagesKept: string[];
  /** corpus.tsv: those and every target language, one row per (segment, language). */
  corpus: string;
  report: string;
  segments: { read: number; kept: number };
  languages: {
    code: string;
    model: string;
    fingerprint: string;
    settings: { numBeams: number; maxLength: number; lengthPenalty: number; targetToken: string | null; batch: number };
    count: number;
    cached: number;
    /** Translations that came out empty (their segments are left out). */
    empty: number;
    seconds: number;
    /** For a language the corpus already had: its texts were kept, and the translations scored
     * against them (corpus BLEU and chrF++ as sacrebleu computes them); null for an added language. */
    quality: { bleu: number; chrfpp: number } | null;
  }[];
  /** phrases.json (segment -> SAE feature and its Neuronpedia provenance), for a phrases source. */
  features: string | null;
  preview: { segment: string; texts: Record<string, string> }[];
}

// Multiple-choice benchmark items as the scorer consumes them, whatever file they came from
// (alexandrainst JSONL, Hugging Face parquet, the Okapi release JSON, generic JSONL).

export type McTask = 'arc' | 'hellaswag' | 'mmlu' | 'mc';
export const MC_TASKS: readonly McTask[] = ['arc', 'hellaswag', 'mmlu', 'mc'];

/** How the items were stored: alexandrainst and generic JSONL (`jsonl`), the Okapi release's JSON
 * arrays (`okapi-json`), Hugging Face parquet (`parquet`). */
export type McFileFormat = 'jsonl' | 'okapi-json' | 'parquet';

export interface McItem {
  task: McTask;
  /** Canonical BCP 47 spelling (`ml`, `zh`, `pt-BR`), from the file's path. */
  language: string;
  /** As the path says: `train`, `val`, `validation`, `dev`, `test`. */
  split: string;
  /** Absolute path of the file the item came from. */
  source: string;
  /** 0-based position in its split (lm-evaluation-harness's doc_id); parquet shards of one split
   * count on from the previous shard. */
  docId: number;
  /** 1-based line of a JSONL file, or 1-based row of a parquet file / item of a JSON array. */
  line: number | null;
  /** The row's own fields, unchanged except parquet int64 values made numbers: the scorer builds
   * each preset's prompt from these (the harness's preprocess is applied there, not here). */
  raw: Record<string, unknown>;
  /** arc/mmlu: `instruction`; hellaswag: `activity_label: ctx_a Ctx_b` (a display view: the
   * scorer rebuilds it with Python's exact capitalize); mc: `context`. */
  question: string;
  /** arc: option_a..d (+ option_e when non-empty); mmlu: option_a..d; hellaswag: endings;
   * mc: choices. Every one a non-empty string. */
  choices: string[];
  /** 0-based, < choices.length. */
  gold: number;
}

export interface McFileInfo {
  path: string;
  /** Of the whole file's bytes, also when `limit` keeps fewer items (a cache key for the file). */
  sha256: string;
  format: McFileFormat;
  task: McTask;
  language: string;
  split: string;
  /** Items in the file (all of them, before `limit`). */
  rows: number;
}

export interface McDataset {
  /** Grouped by file in path order; within a file, file order. */
  items: McItem[];
  files: McFileInfo[];
}

export interface McReadOptions {
  /** Keep only this task; also tells ARC from MMLU where the fields and path cannot. */
  task?: McTask;
  /** Codes in any spelling; each must have at least one file (else LANGUAGE_NOT_IN_CORPUS). */
  languages?: string[];
  /** Keep only these splits; each must exist in some file read. */
  splits?: string[];
  /** First N items of each (task, language, split), as lm-evaluation-harness's --limit. */
  limit?: number;
}

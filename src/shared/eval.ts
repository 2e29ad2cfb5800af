// Multiple-choice evaluation as every front end sees it (the engine side: src/main/eval/,
// src/main/backend/eval-service.ts).

export const EVAL_TASKS = ['arc', 'hellaswag', 'mmlu', 'mc'] as const;
export type EvalTask = (typeof EVAL_TASKS)[number];
export const EVAL_PRESET_NAMES = ['lm-eval-okapi', 'okapi-original'] as const;

export interface EvalRequest {
  model: string;
  /** A PEFT LoRA adapter: the base and the adapted model are both scored. */
  adapter?: string;
  /** A task file or a folder of them (alexandrainst layout, parquet, Okapi JSON, generic JSONL). */
  data: string;
  task?: EvalTask;
  languages?: string[];
  preset?: (typeof EVAL_PRESET_NAMES)[number];
  /** First N items of each task and language (the harness's --limit). */
  limit?: number;
  fewshot?: number;
  bootstrap?: number;
  seed?: number;
  outDir?: string;
}

/** The harness's figures: means and their standard errors (sample std / √n). */
export interface EvalScores {
  acc: number;
  acc_stderr: number;
  acc_norm: number;
  acc_norm_stderr: number;
}

export interface EvalTaskResult {
  task: EvalTask;
  language: string;
  n: number;
  before: EvalScores;
  /** With an adapter: the adapted model's scores and the paired difference after − before. */
  after?: EvalScores;
  difference?: { acc: { difference: number; ci: [number, number] | null }; acc_norm: { difference: number; ci: [number, number] | null } };
}

export interface EvalResult {
  model: string;
  adapter: string | null;
  data: string;
  preset: string;
  fewshot: number;
  presetNote: string;
  results: EvalTaskResult[];
  files: { path: string; sha256: string; format: string; task: EvalTask; language: string; split: string; rows: number }[];
  cache: { items: number; cached: number; scored: number };
  seconds: number;
  outDir: string | null;
}

/** One line of items.jsonl, in lm-evaluation-harness's terms. */
export interface EvalItemLine {
  task: EvalTask;
  language: string;
  doc_id: number;
  source: string;
  loglikelihoods: number[];
  is_greedy: boolean[];
  lengths: number[];
  gold: number;
  pred: number;
  pred_norm: number;
  after?: { loglikelihoods: number[]; is_greedy: boolean[]; pred: number; pred_norm: number };
}

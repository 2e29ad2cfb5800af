// Multiple-choice evaluation as every front end sees it (the engine side: src/main/eval/,
// src/main/backend/eval-service.ts).

import type { PartialFinetuneSettings } from './finetune';

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
  /** The few-shot count asked for (0 when none was: the preset's defaults apply). */
  fewshot: number;
  /** The examples each task was scored with (okapi-original: 25 for ARC and MMLU by default). */
  fewshotPerTask: Partial<Record<EvalTask, number>>;
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

// The study's experiments (issue 14): the gap-vs-accuracy correlation across languages
// (src/main/analysis/correlation.ts) and sweeps of fine-tunes (src/main/backend/sweep-service.ts).

/** What stands for a language's disparity at a layer: the per-language gap against the
 * high-resource tier, the deficit against English, or the mean activation itself. */
export const CORRELATION_MEASURES = ['gap', 'deficit', 'mean_activation'] as const;
export type CorrelationMeasure = (typeof CORRELATION_MEASURES)[number];
export const CORRELATION_METRICS = ['acc', 'acc_norm'] as const;
export type CorrelationMetric = (typeof CORRELATION_METRICS)[number];

/** A correlation coefficient with its percentile bootstrap interval over languages; `value` null
 * (with `reason`) when undefined (a constant input, fewer than 2 languages), `ci` null (with
 * `reason`) when no interval is given (fewer than 4 languages, too many undefined resamples). */
export interface CorrelationStat {
  value: number | null;
  ci: [number, number] | null;
  reason: string | null;
  /** Resamples whose coefficient was undefined (a resample of one repeated value), left out of the interval. */
  undefined_resamples: number;
}

export interface CorrelationLayer {
  layer: number;
  /** Languages with both a measure and an accuracy at this layer. */
  n: number;
  languages: string[];
  pearson: CorrelationStat;
  spearman: CorrelationStat;
}

export interface CorrelationPoint {
  language: string;
  tier: string;
  /** The accuracy (0..1) and the number of items behind it. */
  accuracy: number;
  items: number;
  /** The measure per layer (the analysis' layers, in order); null where the summary has none. */
  measure: (number | null)[];
}

export interface CorrelationResult {
  measure: CorrelationMeasure;
  metric: CorrelationMetric;
  task: EvalTask;
  /** Which accuracy: the base model's (before) or the adapted model's (after). */
  model: 'base' | 'adapted';
  analysis: { source: string; model: string; adapter: string | null; segments: number; reduction: string };
  eval: { source: string; model: string; adapter: string | null; preset: string };
  layers: number[];
  points: CorrelationPoint[];
  per_layer: CorrelationLayer[];
  /** Languages in only one of the two inputs, and why they are left out. */
  left_out: { language: string; why: string }[];
  bootstrap: { resamples: number; seed: number; unit: 'languages' };
  warnings: string[];
  formulas: Record<string, string>;
  outDir: string | null;
  files: string[];
}

/** One grid point of a sweep: the loss's retention weight α, the adapted layers, the loss space. */
export interface SweepPoint {
  name: string;
  alpha: number;
  adaptLayers: number[];
  /** null: the SAE layers within the adapted set. */
  lossLayers: number[] | null;
  space: 'sae-codes' | 'sae-preacts' | 'residual';
}

export interface SweepPointResult extends SweepPoint {
  dir: string;
  /** 'ran': trained now (or resumed from a checkpoint); 'done before': read from its finished folder. */
  status: 'ran' | 'done before';
  outcome: string;
  steps: number;
  seconds: number;
  /** The loss layers the run used. */
  resolvedLossLayers: number[];
  /** Held-out activation gain per target language (%), with its bootstrap interval, and their mean. */
  gain_percent: Record<string, { value: number | null; ci: [number, number] | null }>;
  mean_gain_percent: number | null;
  retention_percent: { value: number | null; ci: [number, number] | null };
  retention_cosine: number | null;
  /** With evaluation data: accuracy before and after, paired difference with its interval. */
  accuracy: { task: EvalTask; language: string; n: number; metric: CorrelationMetric; before: number; after: number; difference: number; ci: [number, number] | null }[];
  evalDir: string | null;
}

export interface SweepResult {
  outDir: string;
  points: SweepPointResult[];
  /** The settings every point shares (the fine-tune's, before the grid's own). */
  base: PartialFinetuneSettings;
  evalData: string | null;
  files: string[];
  seconds: number;
}

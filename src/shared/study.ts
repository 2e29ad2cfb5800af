// The whole study in one job (study.run, the main job `linguascope demo` runs on the bundled
// demo): measure the gap, fine-tune the medium/low tier with the paper's loss, re-measure on the
// held-out segments, evaluate before/after on a multiple-choice task built from those held-out
// segments, and correlate the gap with the accuracy — one folder, one report.
import type { AnalysisExport } from './dto';
import type { CorrelationResult, EvalResult } from './eval';
import type { FinetuneResult } from './finetune';

/** The study's stages in the order they run (progress names them "k/5 …"). */
export const STUDY_STAGES = ['measure', 'fine-tune', 'task', 'evaluate', 'correlate'] as const;
export type StudyStage = (typeof STUDY_STAGES)[number];

/** Sub-folders of a study folder (each written by its own step's rules). */
export const STUDY_PARTS = { analysis: 'analysis', finetune: 'finetune', task: 'task', eval: 'eval', correlation: 'correlation' } as const;
export const STUDY_PLAN_FILE = 'study-plan.json';
export const STUDY_FILES = ['report.html', 'study.json', 'figures.csv'] as const;

export interface StudyTaskSummary {
  dir: string;
  /** Held-out segments the items were cut from (the fine-tune's held-out split). */
  segments: string[];
  /** Items per language (the same in every language: the items are parallel). */
  items: number;
  choices: number;
  rule: string;
}

export interface StudyResult {
  outDir: string;
  report: string;
  files: string[];
  languages: string[];
  /** The fine-tune's target languages (default: the medium/low tier). */
  targets: string[];
  stages: { stage: StudyStage; seconds: number }[];
  seconds: number;
  analysis: AnalysisExport;
  finetune: FinetuneResult;
  task: StudyTaskSummary;
  evaluation: EvalResult;
  correlation: { base: CorrelationResult; adapted: CorrelationResult };
  /** Plain sentences: what the figures show, including targets not met. */
  findings: string[];
}

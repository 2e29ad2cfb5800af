// Phrases from Neuronpedia (issue 15): the result of `phrases.neuronpedia` and the lines of the
// phrases JSONL it writes, which the translation step reads. Types only.

export const THRESHOLD_RULES = ['record-max', 'token'] as const;
export const MAXIMUM_SOURCES = ['maxActApprox', 'recomputed'] as const;
export type ThresholdRuleName = (typeof THRESHOLD_RULES)[number];
export type MaximumSourceName = (typeof MAXIMUM_SOURCES)[number];

/** Where a phrase came from: enough to find the record again in the export. */
export interface NeuronpediaProvenance {
  producer: 'linguascope';
  kind: 'neuronpedia';
  modelId: string;
  sourceId: string;
  feature: number;
  /** The file relative to the source folder (`activations/batch-0.jsonl.gz`) or the API file's name. */
  file: string;
  /** 1-based line of the record in the inflated file (1 for an API file). */
  line: number;
  /** The record's position among the feature's records in that file (0-based). */
  record: number;
  /** The record's id, when it has one. */
  recordId: string | null;
  /** -1: Neuronpedia's top-activation group; otherwise the quantile group's lower bound. */
  binMin: number | null;
  /** The peak token's position in the record and its value; the window [start, end] of tokens cut. */
  peak: number;
  value: number;
  window: [number, number];
  /** The maximum the threshold was taken of, and which one. */
  maximum: number;
  maximumSource: MaximumSourceName;
  threshold: number;
  thresholdRule: ThresholdRuleName;
}

/** One line of a phrases JSONL file. */
export interface PhraseLine {
  feature: number;
  language: 'en';
  text: string;
  provenance: NeuronpediaProvenance;
}

export interface NeuronpediaFeatureSummary {
  feature: number;
  explanations: string[];
  maxActApprox: number | null;
  /** The maximum used (null: none, the feature gave no phrases). */
  maximum: number | null;
  records: number;
  /** Records with a value at or above threshold · maximum. */
  passing: number;
  phrases: number;
  /** unmappable: a token of the window maps to no id; empty: the window decodes to whitespace;
   * duplicate: the same text as an earlier phrase of the feature; specialPeak: the record peaked
   * only on a special token (BOS). */
  dropped: { unmappable: number; empty: number; duplicate: number; specialPeak: number };
}

export interface NeuronpediaPhrasesResult {
  out: string;
  modelId: string;
  sourceId: string;
  /** `export` folder or API files read. */
  input: { export: string | null; api: string[]; filesRead: string[] };
  selection: { by: 'features' | 'search' | 'run'; search?: string; runId?: number; top?: number; matched?: number };
  settings: { threshold: number; thresholdRule: ThresholdRuleName; maximum: MaximumSourceName; before: number; after: number };
  tokenizer: { source: string; sha256: string };
  phrases: number;
  features: NeuronpediaFeatureSummary[];
  /** Not errors: an SAE that may not be the source's, features without phrases, search matches left out. */
  warnings: string[];
  formulas: Record<string, string>;
}

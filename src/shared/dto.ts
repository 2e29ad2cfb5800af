// Plain-data shapes returned by the API. Types only.
import type { ParsedInput } from './contract';
import type { EvalResult, EvalTask, SweepResult } from './eval';
import type { FinetuneOutcome, FinetuneResult, PartialFinetuneSettings } from './finetune';

export type Tier = 'reference' | 'high' | 'medium-low';

export interface Language {
  /** BCP-47-style code used everywhere in the app, e.g. `en`, `zh`, `ml`. */
  code: string;
  name: string;
  /** ISO 15924 script name, e.g. `Latin`, `Han`, `Devanagari`. */
  script: string;
  tier: Tier;
  /** The tier the built-in registry gives, so the UI can show edits and reset them. */
  defaultTier: Tier;
  /** Code of this language's text in the bundled UDHR corpus. */
  corpusCode: string;
  builtIn: boolean;
  /** One of the ten languages of the paper (arXiv 2507.18918). */
  paper: boolean;
}

export interface CorpusLanguage {
  corpusCode: string;
  bcp47: string;
  name: string;
  /** Registry code if this corpus language is already in the registry. */
  registered: string | null;
}

export interface AlignedSegment {
  /** `preamble.3`, `article.26.2`, or `article.26` when paragraphs could not be aligned. */
  key: string;
  texts: Record<string, string>;
}

export interface CorpusPreview {
  corpus: CorpusInfo;
  languages: string[];
  segments: AlignedSegment[];
}

/** One page of a corpus as the Corpus step browses it: the segments aligned in every chosen
 * language (English first, as the analysis adds it), those matching `query`, and the segments
 * left out of the analysis with why. */
export interface CorpusPage {
  /** `udhr`, or the corpus file's absolute path. */
  source: string;
  /** `udhr 6.0.0`, or the file's name. */
  label: string;
  /** Registry codes, English first. */
  languages: string[];
  /** Segments with a text in every language. */
  total: number;
  /** Of those, the ones matching the query (all of them without one). */
  matched: number;
  offset: number;
  segments: AlignedSegment[];
  /** Segments of the corpus the analysis cannot use, and why (a language without the text): the
   * first 500 of `leftOutCount`. */
  leftOut: { key: string; reason: string }[];
  leftOutCount: number;
  /** UDHR sections kept whole because their paragraphs differ in number between languages. */
  merged: string[];
  /** A corpus file's `phrases.json` beside it (as `dataset translate` writes it; absolute path),
   * or null: none there, or the bundled UDHR. The Run step offers per-feature figures with it. */
  phrasesFile: string | null;
}

export interface CorpusInfo {
  name: 'udhr';
  version: string;
  /** Aligned segments shared by all languages of the request. */
  alignedSegments: number;
  /** Articles whose paragraphs differed in number between languages; kept as one segment each. */
  mergedArticles: string[];
  /** sha256 over the ordered segment keys: identifies the aligned set. */
  alignmentHash: string;
}

export interface TokenizerInfo {
  /** `bundled:gemma` or the folder the user picked. */
  source: string;
  path: string;
  sha256: string;
  modelType: string;
  vocabSize: number;
  tokenizerClass: string | null;
  bosId: number | null;
}

export interface FertilityRow {
  language: string;
  name: string;
  tier: Tier;
  script: string;
  segments: number;
  words: number;
  characters: number;
  tokens: number;
  tokens_per_word: number;
  tokens_per_char: number;
  tokens_per_segment: number;
  ratio_to_en: number;
}

/** Where a fertility result's tokenizer came from: the chosen model's folder, a tokenizer named on
 * purpose, or the bundled Gemma tokenizer when neither was named. */
export type TokenizerOrigin = 'model' | 'tokenizer' | 'bundled';

export interface FertilityResult {
  rows: FertilityRow[];
  tokenizer: TokenizerInfo;
  tokenizerOrigin: TokenizerOrigin;
  /** One line naming the tokenizer every figure is for (origin, file, sha256 prefix). */
  tokenizerLabel: string;
  corpus: CorpusInfo;
  /** Languages whose counts came from the SQLite cache / were computed in this request. */
  fromCache: string[];
  computed: string[];
  settings: FertilitySettings;
  formulas: Record<string, string>;
  createdAt: string;
}

export interface FertilitySettings {
  specialTokens: 'excluded';
  wordSegmentation: 'Intl.Segmenter(word, isWordLike)';
  characterUnit: 'grapheme clusters, whitespace excluded';
}

export interface FertilityExport {
  files: string[];
  result: FertilityResult;
}

export interface AppInfo {
  version: string;
  dbPath: string;
  platform: string;
  runtime: string;
  corpusVersion: string;
}

/** A local model folder as the model step shows it (read from config.json and the weight headers). */
export interface ModelInfo {
  path: string;
  /** config.json's class, e.g. Gemma2ForCausalLM. */
  architecture: string;
  arch: 'gemma2' | 'llama' | 'mistral' | 'qwen2';
  layers: number;
  dModel: number;
  vocabSize: number;
  heads: number;
  kvHeads: number;
  parameters: number;
  /** Stored dtypes, e.g. "BF16" or "F32". */
  dtype: string;
  weightBytes: number;
  files: number;
  /** Memory a forward run needs (float32 weights plus a margin for activations). */
  memoryBytes: number;
  maxPositions: number;
  /** tokenizer.json in the folder, or null (token ids must then be given). */
  tokenizer: string | null;
  slidingWindowLayers: number;
}

/** What `model.activations` wrote. */
/** A PEFT LoRA adapter as applied: y = x·Wᵀ + scale·(x·Aᵀ)·Bᵀ on `modules` linears. */
export interface AdapterInfo {
  path: string;
  sha256: string;
  rank: number;
  alpha: number;
  rslora: boolean;
  scale: number;
  modules: number;
}

export interface ActivationsExport {
  file: string;
  /** The token ids that were run (also in the file's metadata as token_ids). */
  tokens: number[];
  tensors: { name: string; shape: number[] }[];
  provider: string;
  model: ModelInfo;
  adapter?: AdapterInfo;
}

export interface RandomModelResult {
  path: string;
  files: string[];
  info: ModelInfo;
}

/** Named settings of the disparity analysis, recorded with every result. */
export interface DisparitySettings {
  /** How a phrase's token activations are reduced per feature. */
  reduction: 'mean' | 'max';
  /** Which features enter a phrase's activation: those the English version activates, or all. */
  features: 'english-active' | 'all';
  includeBos: boolean;
  bootstrap: number;
  seed: number;
  /** Explained-variance drop against English that raises a fidelity warning. */
  fidelityWarnDrop: number;
  topFeatures: number;
  /** Features cached per phrase and layer for the top-feature lists: the N strongest by mean and
   * the N strongest by max. The mean activations, gaps and intervals use exact sums instead. */
  keepFeatures: number;
  /** 'exact' (float32, the default) or 'fast' (int8 decoder projections, engine/quantize.ts),
   * which runs only after its fidelity gate passes (analysis/precision-gate.ts). */
  precision?: 'exact' | 'fast';
  /** Fast runs: segments of the corpus the gate runs in both precisions (default 16). */
  gateSegments?: number;
  /** Fast runs: largest |m_fast − m_exact| / |m_exact| over languages and layers (default 0.02). */
  gateMaxMeanDiff?: number;
  /** Fast runs: largest |gap_fast − gap_exact| in percentage points over layers (default 2). */
  gateMaxGapDiff?: number;
  /** Fast runs: smallest Jaccard overlap of each language's top-20 features per layer (default 0.8). */
  gateMinTopOverlap?: number;
}

/** The fast precision's fidelity gate: the sample run in both precisions, and what it measured. */
export interface PrecisionGateReport {
  segments: number;
  phrases: number;
  /** max over languages L and layers l of |m_fast(L, l) − m_exact(L, l)| / |m_exact(L, l)|. */
  max_mean_rel_diff: number;
  /** max over layers of |gap_fast(l) − gap_exact(l)| (percentage points); null: no gap defined. */
  max_gap_diff_points: number | null;
  /** min over languages and layers of |T_exact ∩ T_fast| / |T_exact ∪ T_fast|, T = the top_k
   * features by summed activation on the sample. */
  min_top_overlap: number;
  top_k: number;
  /** Where each figure is worst. */
  worst: { mean: { language: string; layer: number } | null; gap: { layer: number } | null; overlap: { language: string; layer: number } | null };
  thresholds: { max_mean_rel_diff: number; max_gap_diff_points: number; min_top_overlap: number };
  passed: boolean;
  seconds: { exact: number; fast: number };
}

export interface FidelityWarning {
  language: string;
  layer: number;
  explained_variance: number;
  explained_variance_en: number;
  message: string;
}

export interface TopFeature {
  layer: number;
  feature: number;
  en: number;
  medium_low: number;
  difference: number;
  /** The segments where English activates it most, with every language's value and text. */
  phrases: { segment: string; values: Record<string, number>; text: Record<string, string> }[];
}

export interface SaeInfo {
  layer: number;
  hook: string;
  source: string;
  format: 'gemmascope' | 'saelens' | 'linguascope';
  architecture: 'jumprelu' | 'standard' | 'topk';
  dIn: number;
  dSae: number;
  averageL0: number | null;
  fingerprint: string;
}

/** summary.json of an analysis. Per-layer arrays follow `layers`; null where undefined. */
export interface DisparitySummary {
  languages: { code: string; name: string; tier: Tier }[];
  layers: number[];
  segments: number;
  mean_activation: Record<string, (number | null)[]>;
  mean_activation_ci: Record<string, ([number, number] | null)[]>;
  gap_percent: (number | null)[];
  gap_percent_ci: ([number, number] | null)[];
  /** Why gap_percent is null (no high-resource or no medium/low-resource language chosen, or
   * M_high 0 at some layers); null when every layer has a gap. */
  gap_reason: string | null;
  deficit_vs_en: Record<string, (number | null)[]>;
  fidelity: Record<string, { explained_variance: (number | null)[]; nmse: (number | null)[]; l0: (number | null)[]; cosine: (number | null)[] }>;
  fidelity_warnings: FidelityWarning[];
  /** Every value in it is exact (float32 as extracted), ranked over every feature active on some
   * English phrase (see formulas.top_features). */
  top_features: TopFeature[];
  settings: DisparitySettings;
  formulas: Record<string, string>;
  /** `fingerprint` covers the adapter's files too when one was applied. */
  model: ModelInfo & { fingerprint: string };
  /** The LoRA adapter applied to the model, if any (s = alpha/r, or alpha/√r with rsLoRA). */
  adapter?: AdapterInfo;
  saes: SaeInfo[];
  /** `skipped`: bundled-corpus segments longer than the model's context in some language;
   * `incomplete`: a corpus file's segments without a text in every chosen language (left out). */
  corpus: { source: string; segments: number; tokens: Record<string, number>; skipped: string[]; incomplete?: string[] };
  /** `phrases_recomputed_for_top_features`: phrase runs beyond the extraction for the top features
   * (ranking sums over phrases this run did not extract; exact values of the top features their
   * rows did not hold, kept in the cache afterwards). */
  cache: { phrases_computed: number; phrases_cached: number; phrases_recomputed_for_top_features?: number; phrases_recomputed_for_per_feature?: number; bytes_per_phrase: number; seconds: number };
  /** With a phrases.json (issue 15): each listed feature measured on its own segments only, at the
   * SAE of the layer its Neuronpedia source names (see formulas.per_feature_*). */
  per_feature?: PerFeatureFigure[];
  /** The phrases.json read for `per_feature`, and warnings about SAEs that may not be the source's. */
  per_feature_phrases?: { file: string; phrases: number; features: number; warnings: string[] };
  /** A fast-precision run's fidelity gate (absent for exact runs). */
  precision_gate?: PrecisionGateReport;
}

/** One SAE feature on the phrases selected for it; values exact (float32 as extracted), rounded to 6
 * significant digits; null where undefined (deficit with m(en) = 0, gap without both tiers or M_high = 0). */
export interface PerFeatureFigure {
  layer: number;
  hook: string;
  feature: number;
  /** `{modelId}/{sourceId}` of the Neuronpedia source. */
  source: string;
  /** Segments measured, and those phrases.json lists that the analysis left out. */
  segments: number;
  segments_dropped: number;
  mean_activation: Record<string, number | null>;
  deficit_vs_en: Record<string, number | null>;
  gap_percent: number | null;
}

export interface RandomSaesResult {
  outDir: string;
  saes: SaeInfo[];
  /** Measured on a sample of the corpus: mean L0 per layer. */
  l0: Record<string, number>;
}

/** Token-level SAE codes of one text, for drill-down. */
export interface TokenActivations {
  hook: string;
  layer: number;
  sae: string;
  tokens: {
    id: number;
    /** The text this token completes: byte pieces of one character are merged onto the token
     * that finishes it (the others show ''). */
    text: string;
    /** The strongest features on this token. */
    top: { feature: number; value: number }[];
  }[];
  /** Activations of the features asked for, one value per token. */
  features: { feature: number; values: number[] }[];
}

/** The bundled demo: where it is and whether it matches its manifest. */
export interface DemoInfo {
  dir: string;
  model: string;
  saes: string;
  ok: boolean;
  /** Why not, with how to rebuild it. */
  problem: string | null;
  /** The analysis the main job runs on it. */
  languages: string[];
  limit: number;
  settings: Partial<DisparitySettings>;
  /** Why these settings. */
  settingsReason: string;
  /** The fine-tune the main job runs on the medium/low tier (the rest: the defaults). */
  finetune: PartialFinetuneSettings;
}

export interface AnalysisExport {
  outDir: string;
  files: string[];
  summary: DisparitySummary;
}

/** onnxruntime execution providers LinguaScope knows how to ask for. */
export type ProviderName = 'cuda' | 'dml' | 'coreml' | 'webgpu' | 'cpu';

/** One provider as probed on this machine: a tiny session was created and run on it. */
export interface ProviderReport {
  name: ProviderName;
  available: boolean;
  /** What happened ("ran a test MatMul") or why not, with what it would need. */
  detail: string;
  probeMs: number;
}

/** One try while creating a session: the provider used, or why it was passed over. */
export interface ProviderAttempt {
  name: ProviderName;
  ok: boolean;
  detail: string;
}

/** "What can this machine run": shown by the model step. */
export interface Capabilities {
  platform: string;
  cpuModel: string;
  logicalCores: number;
  memoryTotalMb: number;
  memoryFreeMb: number;
  onnxruntime: string;
  providers: ProviderReport[];
  /** The provider a session asked for with "auto" would get. */
  preferred: ProviderName;
}

export interface ProgressEvent {
  jobId: string;
  stage: string;
  done: number;
  total: number;
  /** Estimated seconds left, when the job can tell. */
  etaSeconds?: number;
  /** Figures of this point of the job (a fine-tune step: loss, lr, tokens/s...), when it has them. */
  detail?: Record<string, number | string | null>;
}

export interface LogEvent {
  level: 'info' | 'warn' | 'error';
  message: string;
  jobId?: string;
}

export interface ErrorEvent {
  code: string;
  message: string;
  jobId?: string;
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';

/** One backend job as `jobs.list` shows it: running work outlives the connection that started it. */
export interface JobInfo {
  jobId: string;
  method: string;
  /** The validated argument in one short line (paths shortened, lists counted). */
  summary: string;
  /** The output folder or file the argument names (`outDir` or `out`), in full; null if none
   * (e.g. what a reloaded fine-tune monitor matches its run folder against). */
  output: string | null;
  state: JobState;
  /** The latest progress reported (null before the first). */
  progress: { stage: string; done: number; total: number; etaSeconds?: number } | null;
  /** ISO 8601 times. */
  startedAt: string;
  finishedAt: string | null;
  /** The stored run this job produces or belongs to, when the job says so. */
  ownerRun: string | null;
  /** Connections waiting on it now (its caller, callers that joined it, attached pages). */
  clients: number;
  /** Identical requests that joined it instead of starting a second job. */
  joined: number;
  /** A cancel was asked and the job has not stopped yet. */
  cancelRequested: boolean;
  /** Set once it ended: a one-line summary of its value, or its typed error. */
  outcome: { ok: true; summary: string } | { ok: false; error: { code: string; message: string } } | null;
}

/** Sent to every connection when a job starts, ends, or is asked to cancel (not on progress). */
export interface JobsChangedEvent {
  jobId: string;
  state: JobState;
}

export interface ApiEvents {
  progress: ProgressEvent;
  log: LogEvent;
  error: ErrorEvent;
  jobs: JobsChangedEvent;
}

export type ApiEventName = keyof ApiEvents;

// ---- Projects and run history ----

/** The Run step's settings as a project keeps them (`limit`: first N aligned segments; null = all). */
export interface ProjectRunSettings {
  reduction: 'mean' | 'max';
  features: 'english-active' | 'all';
  includeBos: boolean;
  bootstrap: number;
  keepFeatures: number;
  limit: number | null;
}

/** What a project remembers: the wizard's choices and the step the user was on. */
export interface ProjectState {
  /** A wizard step id (`languages`, `model`, … `results`). */
  step: string;
  /** Chosen languages, registry codes. */
  languages: string[];
  /** The tier of each chosen language when the project was saved (the app puts them back on open). */
  tiers: Record<string, Tier>;
  /** Tokenizer folder for the Fertility step; empty = the bundled Gemma tokenizer. */
  tokenizerPath: string;
  /** Empty = none chosen. */
  modelPath: string;
  saesPath: string;
  /** Per layer (as a string key), the chosen SAE's `source`, or null when the layer is left out. */
  saeChoice: Record<string, string | null>;
  /** `udhr` or a corpus file's path. */
  corpus: string;
  runSettings: ProjectRunSettings;
  /** The stored run whose summary the Results step shows; null = none. */
  runId: number | null;
  /** A PEFT LoRA adapter folder the Run step's analysis applies; absent or empty = none. */
  adapterPath?: string;
  /** The Fine-tune step's choices and its run folder; absent = never opened. */
  finetune?: ProjectFinetuneState;
  /** The Evaluate step's choices and its last evaluation's job; absent = never opened. */
  evaluate?: ProjectEvaluateState;
  /** The Phrases step's choices (sources, opus-mt folders per language); absent = never changed. */
  phrases?: ProjectPhrasesState;
}

/** The Phrases step's choices as a project keeps them. The datasets it builds are folders of files
 * (corpus.tsv with import.json / translation.json beside it); the corpus the project reads is
 * `corpus` above, set only when the user uses a dataset. */
export interface ProjectPhrasesState {
  source: 'import' | 'neuronpedia' | 'phrases';
  /** dataset.import: the files, the languages as typed (blank = every one the files hold), the
   * FLORES split and the folder written. */
  importForm: { path: string; languages: string; split: 'dev' | 'devtest'; outDir: string };
  /** phrases.neuronpedia: the export folder, source id, features (indices as typed, or a search),
   * tokenizer folder and the .jsonl written. */
  neuronpediaForm: { export: string; source: string; by: 'features' | 'search'; features: string; search: string; tokenizer: string; out: string };
  /** A phrases .jsonl written before. */
  phrasesPath: string;
  /** Per target language (registry code): its opus-mt folder and target token; empty = none. */
  targets: Record<string, { model: string; targetToken: string }>;
  /** dataset.translate's output folder and beams (null = the model's generation_config). */
  translateDir: string;
  beams: number | null;
}

/** The Evaluate step as a project keeps it (the model is the project's). The evaluation's numbers
 * are not stored here: the backend keeps the job's value (jobs.attach), results.json sits in outDir,
 * and every item's log-likelihoods are in the evaluation cache. */
export interface ProjectEvaluateState {
  /** A task file or a folder of them; empty = none chosen yet. */
  data: string;
  /** One task, or 'all' the files hold. */
  task: 'all' | 'arc' | 'hellaswag' | 'mmlu' | 'mc';
  /** 'project': the project's languages; 'files': every language the files hold; or these codes. */
  languages: 'project' | 'files' | string[];
  preset: 'lm-eval-okapi' | 'okapi-original';
  /** First N items of each task and language; null = all. */
  limit: number | null;
  /** Few-shot examples per question; null = the preset's default (lm-eval Okapi: 0; original Okapi:
   * 25 for ARC and MMLU, 0 for HellaSwag). */
  fewshot: number | null;
  /** No adapter, the Fine-tune step's adapter (its finished run's adapterDir), or adapterPath. */
  adapter: 'none' | 'finetune' | 'path';
  adapterPath: string;
  /** Where results.json and items.jsonl go; empty = not written. */
  outDir: string;
  /** The last evaluation's backend job (running or ended): a reload follows it or reads its value. */
  jobId: string | null;
  /** A stored evaluation run shown when no job is (one made elsewhere, e.g. by `linguascope demo`,
   * whose job ended with its process); absent or null = none. */
  runId?: number | null;
}

/** The Fine-tune step as a project keeps it. The run folder is the run's own record (finetune.status
 * reads it back); the project only remembers where it is and which backend job writes it. */
export interface ProjectFinetuneState {
  /** The run folder; empty = none chosen yet. */
  outDir: string;
  /** Target languages (registry codes, English excluded). */
  targets: string[];
  /** Use only the first N aligned segments; null = all. */
  limit: number | null;
  /** The settings the user changed from FINETUNE_DEFAULTS (the rest follow the defaults). */
  settings: PartialFinetuneSettings;
  /** The backend job this project started for outDir (a reload reattaches to it); null = none. */
  jobId: string | null;
  /** What the run in outDir was started with besides its recorded configuration (resume repeats it). */
  run: { corpus: string; limit: number | null } | null;
}

export interface ProjectListItem {
  id: number;
  name: string;
  /** `demo`: the bundled demo's project (recreated, fresh, when deleted). */
  kind: 'user' | 'demo';
  /** Grows by one on every save of the state; a save based on an older one is a CONFLICT. */
  revision: number;
  createdAt: string;
  updatedAt: string;
  openedAt: string | null;
  /** Why the project cannot be opened (its stored state is damaged), or null. */
  problem: string | null;
}

export interface Project extends ProjectListItem {
  state: ProjectState;
}

/** A path a project names, as found on disk when it was opened. */
export interface PathCheck {
  path: string;
  /** `missing`: named but no longer there (moved or deleted): relocate it. */
  state: 'ok' | 'missing' | 'unset';
  message: string | null;
}

export interface ProjectStatus {
  model: PathCheck;
  saes: PathCheck;
  corpus: PathCheck;
  /** Chosen SAE files that are gone (by layer key). */
  missingSaes: string[];
}

export interface OpenedProject {
  project: Project;
  status: ProjectStatus;
}

/** Exactly what an analysis was asked (its jobId left out). */
export interface StoredAnalysisRequest {
  model: string;
  saes: string | string[];
  languages: string[];
  corpus: string;
  limit: number | null;
  settings: Partial<DisparitySettings>;
  outDir: string | null;
  /** The LoRA adapter folder applied, when one was. */
  adapter?: string;
  /** The segments the analysis was restricted to (a fine-tune's held-out ones), when it was. */
  segments?: string[];
}

/** The content fingerprints the analysis computed (summary.model.fingerprint, saes[].fingerprint). */
export interface RunFingerprints {
  model: string;
  saes: { layer: number; source: string; fingerprint: string }[];
}

/** What a stored run is the result of. */
export type RunKind = 'analysis' | 'evaluation' | 'finetune' | 'sweep';

/** A stored disparity analysis (analysis.run / analysis.export; a fine-tune's held-out ones too). */
export interface AnalysisRunListItem {
  id: number;
  kind: 'analysis';
  method: 'analysis.run' | 'analysis.export';
  name: string;
  startedAt: string;
  finishedAt: string;
  /** Wall time of the whole call, fingerprinting included. */
  seconds: number;
  model: string;
  languages: string[];
  layers: number[];
  segments: number;
  corpus: string;
  settings: DisparitySettings;
  /** Smallest and largest gap_percent over the layers that have one; null when none has. */
  gapRange: [number, number] | null;
  outDir: string | null;
  /** sha256 of the stored summary's JSON: finds the run of a summary a client holds. */
  summarySha256: string;
  /** Why the run cannot be opened (damaged row), or null. */
  problem: string | null;
}

export interface AnalysisRunRecord extends AnalysisRunListItem {
  request: StoredAnalysisRequest;
  fingerprints: RunFingerprints;
  summary: DisparitySummary;
}

/** The fields every kind of stored run has. `summarySha256`: sha256 of the stored result's JSON. */
interface RunListCommon {
  id: number;
  name: string;
  startedAt: string;
  finishedAt: string;
  /** Wall time of the whole call. */
  seconds: number;
  outDir: string | null;
  summarySha256: string;
  /** Why the run cannot be opened (damaged row), or null. */
  problem: string | null;
}

/** A stored eval.run: what was scored and the mean accuracy over its task × language rows. */
export interface EvaluationRunListItem extends RunListCommon {
  kind: 'evaluation';
  method: 'eval.run';
  model: string;
  adapter: string | null;
  preset: string;
  tasks: EvalTask[];
  languages: string[];
  /** Unweighted mean of `acc` over the result's task × language rows, the base model's and (with
   * an adapter) the adapted model's; null when there is none. */
  meanAcc: { before: number | null; after: number | null };
}

/** A stored finetune.run: how it ended and its held-out figures. */
export interface FinetuneRunListItem extends RunListCommon {
  kind: 'finetune';
  method: 'finetune.run';
  model: string;
  languages: string[];
  steps: number;
  stepsPlanned: number;
  outcome: FinetuneOutcome;
  /** Held-out activation gain % per target language (report.gain_percent[*].value), their mean,
   * and the English retention % (null where the report has none). */
  gainPercent: Record<string, number | null>;
  meanGainPercent: number | null;
  retentionPercent: number | null;
}

/** A stored sweep.run: its grid size and folder. */
export interface SweepRunListItem extends RunListCommon {
  kind: 'sweep';
  method: 'sweep.run';
  model: string;
  languages: string[];
  points: number;
  /** Points trained by this call (the rest were read from their finished folders). */
  pointsRan: number;
}

/** One row of the run history, by kind. */
export type RunListItem = AnalysisRunListItem | EvaluationRunListItem | FinetuneRunListItem | SweepRunListItem;

/** The request as the backend validated it, stored (its jobId left out). */
export type StoredEvalRequest = Omit<ParsedInput<'eval.run'>, 'jobId'>;
export type StoredFinetuneRequest = Omit<ParsedInput<'finetune.run'>, 'jobId'>;
export type StoredSweepRequest = Omit<ParsedInput<'sweep.run'>, 'jobId'>;

export interface EvaluationRunRecord extends EvaluationRunListItem {
  request: StoredEvalRequest;
  /** The EvalResult as eval.run returned it. */
  result: EvalResult;
}

export interface FinetuneRunRecord extends FinetuneRunListItem {
  request: StoredFinetuneRequest;
  /** The base model's and SAEs' fingerprints (from the held-out analysis before training). */
  fingerprints: RunFingerprints;
  result: FinetuneResult;
}

export interface SweepRunRecord extends SweepRunListItem {
  request: StoredSweepRequest;
  result: SweepResult;
}

/** A stored run opened (runs.get): its list fields, request and the result as returned. */
export type RunRecord = AnalysisRunRecord | EvaluationRunRecord | FinetuneRunRecord | SweepRunRecord;

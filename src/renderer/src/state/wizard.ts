import type { DisparitySummary, FertilityResult, ModelInfo, ProjectEvaluateState, ProjectFinetuneState, ProjectPhrasesState, SaeInfo } from '../../../shared/dto';
import { createStore } from './store';

export const STEPS = [
  { id: 'languages', label: 'Languages' },
  { id: 'phrases', label: 'Phrases' },
  { id: 'model', label: 'Model' },
  { id: 'fertility', label: 'Fertility' },
  { id: 'saes', label: 'SAEs' },
  { id: 'run', label: 'Run' },
  { id: 'results', label: 'Results' },
  { id: 'finetune', label: 'Fine-tune' },
  { id: 'evaluate', label: 'Evaluate' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

/** The settings the Run step edits (a subset of DisparitySettings; the rest keep the backend's
 * defaults) and the segment limit. */
export interface RunSettings {
  reduction: 'mean' | 'max';
  features: 'english-active' | 'all';
  includeBos: boolean;
  bootstrap: number;
  /** Features cached per phrase and layer for the top-feature lists. */
  keepFeatures: number;
  /** Use only the first N aligned segments; null = all of them. */
  limit: number | null;
}

/** Exactly what was sent to `analysis.run` for the summary shown: the Results step exports the
 * report with the same request. */
export interface AnalysisRequest {
  model: string;
  saes: string[];
  languages: string[];
  /** The bundled UDHR, or a corpus file's path. */
  corpus: string;
  limit?: number;
  settings: Omit<RunSettings, 'limit'>;
  /** A PEFT LoRA adapter folder applied to the model. */
  adapter?: string;
  /** Only these aligned segments (a fine-tune's held-out ones). */
  segments?: string[];
  /** The phrases.json beside the corpus: per-feature figures on each feature's own phrases. */
  phrases?: string;
}

export interface WizardState {
  step: StepId;
  /** Languages chosen for the analysis, in registry order. */
  selected: string[];
  /** Tokenizer folder; empty means the bundled Gemma tokenizer. */
  tokenizerPath: string;
  /** `udhr` (the bundled corpus) or the path of a corpus file the Phrases step read cleanly (its
   * own file, or a dataset it imported or translated). */
  corpus: string;
  fertility: FertilityResult | null;
  /** The chosen model folder: always one that inspected cleanly (a failed inspection keeps the
   * previous choice). Empty = none chosen yet; App preselects the bundled demo's model (and its
   * SAE folder) when the demo is intact. */
  modelPath: string;
  /** The user asked for a model folder themselves: the bundled demo is no longer preselected. */
  modelChosenByUser: boolean;
  /** `model.inspect` of modelPath, kept so the step does not re-read the folder on every visit. */
  model: ModelInfo | null;
  /** The SAE folder that inspected cleanly (empty = none yet) and what `sae.inspect` found in it. */
  saesPath: string;
  saes: SaeInfo[];
  /** Per layer, the chosen SAE's `source`, or null when the layer is left out of the run. */
  saeChoice: Record<number, string | null>;
  runSettings: RunSettings;
  /** The last finished analysis and the request that produced it. */
  summary: DisparitySummary | null;
  request: AnalysisRequest | null;
  /** The stored run `summary` came from (the project remembers it; opening a run sets it). */
  runId: number | null;
  /** A PEFT LoRA adapter folder the Run step applies to the model; empty = none. */
  adapterPath: string;
  /** The Fine-tune step's choices and run folder. */
  finetune: ProjectFinetuneState;
  /** The Evaluate step's choices and its last evaluation's job. */
  evaluate: ProjectEvaluateState;
  /** The Phrases step's choices (the dataset it shows lives in the step's own store). */
  phrases: ProjectPhrasesState;
}

export const DEFAULT_RUN_SETTINGS: RunSettings = {
  reduction: 'mean',
  features: 'english-active',
  includeBos: false,
  bootstrap: 1000,
  keepFeatures: 128,
  limit: null,
};

/** The Fine-tune step before the user chose anything: targets follow the tiers, the settings the
 * defaults, and a run folder is proposed when the step opens. */
export const INITIAL_FINETUNE: ProjectFinetuneState = { outDir: '', targets: [], limit: null, settings: {}, jobId: null, run: null };

/** The Evaluate step before the user chose anything: every task the files hold, the project's
 * languages, the harness's Okapi preset with its few-shot default, no adapter, no output folder. */
export const INITIAL_EVALUATE: ProjectEvaluateState = {
  data: '',
  task: 'all',
  languages: 'project',
  preset: 'lm-eval-okapi',
  limit: null,
  fewshot: null,
  adapter: 'none',
  adapterPath: '',
  outDir: '',
  jobId: null,
};

/** The Phrases step before the user chose anything: an import of every language the files hold
 * (FLORES devtest), no folders (proposed when the step opens), no opus-mt folder. */
export const INITIAL_PHRASES: ProjectPhrasesState = {
  source: 'import',
  importForm: { path: '', languages: '', split: 'devtest', outDir: '' },
  neuronpediaForm: { export: '', source: '', by: 'features', features: '', search: '', tokenizer: '', out: '' },
  phrasesPath: '',
  targets: {},
  translateDir: '',
  beams: null,
};

/** A new project's choices (the app itself opens the last project, or the bundled demo's). */
export const INITIAL_WIZARD: WizardState = {
  step: 'languages',
  selected: ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'],
  tokenizerPath: '',
  corpus: 'udhr',
  fertility: null,
  modelPath: '',
  modelChosenByUser: false,
  model: null,
  saesPath: '',
  saes: [],
  saeChoice: {},
  runSettings: DEFAULT_RUN_SETTINGS,
  summary: null,
  request: null,
  runId: null,
  adapterPath: '',
  finetune: INITIAL_FINETUNE,
  evaluate: INITIAL_EVALUATE,
  phrases: INITIAL_PHRASES,
};

export const wizard = createStore<WizardState>(INITIAL_WIZARD);

/** The SAE sources the run uses: the chosen one of each layer that is not left out, by layer. */
export function chosenSaes(state: Pick<WizardState, 'saeChoice'>): string[] {
  return Object.entries(state.saeChoice)
    .filter((e): e is [string, string] => e[1] !== null)
    .sort((a, b) => Number(a[0]) - Number(b[0]))
    .map(([, source]) => source);
}

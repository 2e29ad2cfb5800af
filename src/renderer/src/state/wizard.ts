import type { FertilityResult, ModelInfo } from '../../../shared/dto';
import { createStore } from './store';

export const STEPS = [
  { id: 'languages', label: 'Languages' },
  { id: 'corpus', label: 'Corpus' },
  { id: 'model', label: 'Model' },
  { id: 'fertility', label: 'Fertility' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

export interface WizardState {
  step: StepId;
  /** Languages chosen for the analysis, in registry order. */
  selected: string[];
  /** Tokenizer folder; empty means the bundled Gemma tokenizer. */
  tokenizerPath: string;
  fertility: FertilityResult | null;
  /** The chosen model folder: always one that inspected cleanly (a failed inspection keeps the
   * previous choice). Empty = none chosen yet. Hook: once the bundled demo model exists, put its
   * path here and the Model step preselects (and inspects) it. */
  modelPath: string;
  /** `model.inspect` of modelPath, kept so the step does not re-read the folder on every visit. */
  model: ModelInfo | null;
}

export const wizard = createStore<WizardState>({
  step: 'languages',
  selected: ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'],
  tokenizerPath: '',
  fertility: null,
  modelPath: '',
  model: null,
});

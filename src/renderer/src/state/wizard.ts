import type { FertilityResult } from '../../../shared/dto';
import { createStore } from './store';

export const STEPS = [
  { id: 'languages', label: 'Languages' },
  { id: 'corpus', label: 'Corpus' },
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
}

export const wizard = createStore<WizardState>({
  step: 'languages',
  selected: ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'],
  tokenizerPath: '',
  fertility: null,
});

// The wizard's choices as a project stores them, and back. Pure functions: the sync (project-sync)
// does the calls.
import type { AnalysisRunRecord, ProjectState, Tier } from '../../../shared/dto';
import { INITIAL_EVALUATE, INITIAL_FINETUNE, INITIAL_PHRASES, STEPS, type AnalysisRequest, type StepId, type WizardState } from './wizard';

/** What a project keeps of the wizard; `tiers` are read from the registry when saving. */
export type PersistedChoices = Omit<ProjectState, 'tiers'>;

export function choicesOf(w: WizardState): PersistedChoices {
  return {
    step: w.step,
    languages: w.selected,
    tokenizerPath: w.tokenizerPath,
    modelPath: w.modelPath,
    saesPath: w.saesPath,
    saeChoice: Object.fromEntries(Object.entries(w.saeChoice).map(([layer, source]) => [String(layer), source])),
    corpus: w.corpus,
    runSettings: w.runSettings,
    runId: w.runId,
    // Additive fields: left out while unused, so a project that never used them saves as before.
    ...(w.adapterPath ? { adapterPath: w.adapterPath } : {}),
    ...(w.finetune !== INITIAL_FINETUNE ? { finetune: w.finetune } : {}),
    ...(w.evaluate !== INITIAL_EVALUATE ? { evaluate: w.evaluate } : {}),
    ...(w.phrases !== INITIAL_PHRASES ? { phrases: w.phrases } : {}),
  };
}

export function projectStateOf(w: WizardState, tiers: Record<string, Tier>): ProjectState {
  const choices = choicesOf(w);
  return { ...choices, tiers: Object.fromEntries(choices.languages.filter((c) => tiers[c]).map((c) => [c, tiers[c]])) };
}

const isStep = (step: string): step is StepId => STEPS.some((s) => s.id === step);

/** A stored step id read back: the Corpus step grew into the Phrases step (a project saved on it
 * reopens there); an unknown one opens on Languages. */
export function stepOf(step: string): StepId {
  if (step === 'corpus') return 'phrases';
  return isStep(step) ? step : 'languages';
}

/** The wizard fields a project sets; what was read from disk or computed (model and SAE headers,
 * summaries) is cleared and read again for the new choices. */
export function wizardOf(state: ProjectState): Partial<WizardState> {
  return {
    step: stepOf(state.step),
    selected: state.languages,
    tokenizerPath: state.tokenizerPath,
    corpus: state.corpus,
    modelPath: state.modelPath,
    // The project made this choice: the bundled demo is not preselected over it.
    modelChosenByUser: true,
    model: null,
    saesPath: state.saesPath,
    saes: [],
    saeChoice: Object.fromEntries(Object.entries(state.saeChoice).map(([layer, source]) => [Number(layer), source])),
    runSettings: state.runSettings,
    fertility: null,
    summary: null,
    request: null,
    runId: state.runId,
    adapterPath: state.adapterPath ?? '',
    finetune: state.finetune ?? INITIAL_FINETUNE,
    evaluate: state.evaluate ?? INITIAL_EVALUATE,
    phrases: state.phrases ?? INITIAL_PHRASES,
  };
}

/** The request the Results step exports with, for a stored run. A run that named its SAEs by
 * folder (the CLI's analyze, the demo study) exports with the SAE files its summary says it read,
 * layer by layer; null when the summary names none. */
export function requestOfRun(run: AnalysisRunRecord): AnalysisRequest | null {
  const r = run.request;
  const saes = Array.isArray(r.saes) ? r.saes : (run.summary.saes ?? []).map((s) => s.source);
  if (saes.length === 0) return null;
  const { reduction, features, includeBos, bootstrap, keepFeatures } = run.summary.settings;
  return {
    model: r.model,
    saes,
    languages: r.languages,
    corpus: r.corpus,
    ...(r.limit !== null ? { limit: r.limit } : {}),
    settings: { reduction, features, includeBos, bootstrap, keepFeatures },
    // An export must measure what the run measured: the same adapter and the same segments.
    ...(r.adapter ? { adapter: r.adapter } : {}),
    ...(r.segments ? { segments: r.segments } : {}),
    // The summary names the phrases.json its per-feature figures read (the stored request may not).
    ...(run.summary.per_feature_phrases ? { phrases: run.summary.per_feature_phrases.file } : {}),
  };
}

/** sha256 (hex) of a summary's JSON: the key the run history finds its run by. */
export async function summarySha256(summary: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(summary));
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// The Phrases step's work, kept outside React so an import or a translation keeps reporting while
// the user looks at other steps: the dataset built so far and the job running now (the forms are
// the project's: `wizard.phrases`, saved with it). A
// failed job keeps the dataset that was there before (the error is shown in place); only "use in
// this project" changes the corpus the project (and so the Run and Fine-tune steps) reads.
import type { DatasetImportResult, DatasetTranslateResult } from '../../../../shared/dataset';
import type { ProgressEvent, ProjectPhrasesState } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage, withJobProgress } from '../../api';
import { flushSave, project } from '../../state/project-sync';
import { createStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import type { NeuronpediaPhrasesResult } from '../../../../shared/neuronpedia';
import {
  datasetOfImport,
  datasetOfPhrases,
  datasetOfTranslate,
  importRequestOf,
  neuronpediaRequestOf,
  proposeDatasetFolder,
  translateRequestOf,
  tryRequestOf,
  type Dataset,
} from './data';

export type SourceKind = ProjectPhrasesState['source'];

type Job = 'import' | 'translate' | 'neuronpedia';

export interface PhrasesState {
  dataset: Dataset | null;
  /** The job running now and what it does. */
  job: { id: string; what: Job } | null;
  progress: ProgressEvent | null;
  cancelling: boolean;
  /** Why the last request was not sent (form problems) or failed (the backend's typed error). */
  problems: string[];
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  /** Said once the dataset became the project's corpus. */
  used: string | null;
  /** A sentence to try each target's folder and token on, and what each try gave. */
  sample: string;
  tries: Record<string, { busy: boolean; text?: string; error?: { code?: string; message: string } }>;
}

const INITIAL: PhrasesState = {
  dataset: null,
  job: null,
  progress: null,
  cancelling: false,
  problems: [],
  error: null,
  cancelled: false,
  used: null,
  sample: 'All human beings are born free and equal in dignity and rights.',
  tries: {},
};

export const phrases = createStore<PhrasesState>(INITIAL);

// Another project opened: the dataset shown was built for the one before.
let shownFor: number | null = null;
project.subscribe(() => {
  const { id } = project.get();
  if (id === shownFor) return;
  shownFor = id;
  if (!phrases.get().job) phrases.set({ dataset: null, problems: [], error: null, cancelled: false, used: null });
});

/** The step's choices, kept in the project. */
export const choices = (): ProjectPhrasesState => wizard.get().phrases;
export function setChoices(patch: Partial<ProjectPhrasesState> | ((c: ProjectPhrasesState) => Partial<ProjectPhrasesState>)): void {
  wizard.set((w) => ({ phrases: { ...w.phrases, ...(typeof patch === 'function' ? patch(w.phrases) : patch) } }));
}

const failure = (e: unknown) => ({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });

/** Proposes the output folders (and the model's folder as the tokenizer) the first time the step
 * opens; what the user typed is kept. */
export async function proposeFolders(): Promise<void> {
  const { importForm, translateDir, neuronpediaForm } = choices();
  if (!neuronpediaForm.tokenizer && wizard.get().modelPath) setChoices({ neuronpediaForm: { ...neuronpediaForm, tokenizer: wizard.get().modelPath } });
  if (importForm.outDir && translateDir && neuronpediaForm.out) return;
  try {
    const info = await api.app.info({});
    const name = project.get().name || 'project';
    const now = new Date();
    const s = choices();
    setChoices({
      importForm: s.importForm.outDir ? s.importForm : { ...s.importForm, outDir: proposeDatasetFolder(info.dbPath, name, 'import', now) },
      translateDir: s.translateDir || proposeDatasetFolder(info.dbPath, name, 'translated', now),
      neuronpediaForm: s.neuronpediaForm.out ? s.neuronpediaForm : { ...s.neuronpediaForm, out: `${proposeDatasetFolder(info.dbPath, name, 'phrases', now)}.jsonl` },
    });
  } catch {
    // No proposal: the user types the folders.
  }
}

async function runJob<T>(what: Job, call: (jobId: string) => Promise<T>): Promise<T | null> {
  if (phrases.get().job) return null;
  const id = crypto.randomUUID();
  phrases.set({ job: { id, what }, progress: null, cancelling: false, problems: [], error: null, cancelled: false, used: null });
  try {
    return await withJobProgress(id, (p) => phrases.set({ progress: p }), () => call(id));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'CANCELLED') phrases.set({ cancelled: true });
    else phrases.set({ error: failure(e) });
    return null;
  } finally {
    phrases.set({ job: null, progress: null, cancelling: false });
  }
}

export async function startImport(): Promise<void> {
  const { request, problems } = importRequestOf(choices().importForm);
  if (problems.length) return phrases.set({ problems, error: null });
  const result: DatasetImportResult | null = await runJob('import', (jobId) => api.dataset.import({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfImport(result) });
}

/** Phrases cut from a Neuronpedia export at >= 80 % of each feature's maximum (the backend's rule). */
export async function startNeuronpedia(): Promise<void> {
  const { request, problems } = neuronpediaRequestOf(choices().neuronpediaForm);
  if (!request) return phrases.set({ problems, error: null });
  const result: NeuronpediaPhrasesResult | null = await runJob('neuronpedia', (jobId) => api.phrases.neuronpedia({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfPhrases(result.out, result) });
}

/** A phrases file is read when it is translated (the backend checks every line then). */
export function choosePhrasesFile(): void {
  const path = choices().phrasesPath.trim();
  if (!path) return phrases.set({ problems: ['Phrases file: type the path of a .jsonl written by `linguascope phrases neuronpedia`.'], error: null });
  if (!path.endsWith('.jsonl')) return phrases.set({ problems: ['Phrases file: a .jsonl written by `linguascope phrases neuronpedia` (one {"feature", "language", "text"} per line).'], error: null });
  phrases.set({ dataset: datasetOfPhrases(path), problems: [], error: null, used: null });
}

export async function startTranslate(languages: readonly string[]): Promise<void> {
  const from = phrases.get().dataset;
  const c = choices();
  const { request, problems } = translateRequestOf(from, languages, c.targets, c.translateDir, c.beams);
  if (!request) return phrases.set({ problems, error: null });
  const result: DatasetTranslateResult | null = await runJob('translate', (jobId) => api.dataset.translate({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfTranslate(result, from) });
}

/** One sample sentence through a target's folder (translate.run, cached like the translation). */
export async function tryTarget(code: string): Promise<void> {
  const c = choices();
  const setTry = (t: PhrasesState['tries'][string]) => phrases.set((s) => ({ tries: { ...s.tries, [code]: t } }));
  const { request, problems } = tryRequestOf(code, c.targets[code], phrases.get().sample, c.beams);
  if (!request) return setTry({ busy: false, error: { message: problems.join(' ') } });
  setTry({ busy: true });
  try {
    const result = await api.translate.run({ ...request, jobId: crypto.randomUUID() });
    setTry({ busy: false, text: result.lines[0]?.text ?? '' });
  } catch (e) {
    setTry({ busy: false, error: failure(e) });
  }
}

export async function cancelJob(): Promise<void> {
  const { job } = phrases.get();
  if (!job) return;
  phrases.set({ cancelling: true });
  try {
    await api.jobs.cancel({ jobId: job.id });
  } catch (e) {
    phrases.set({ cancelling: false, error: failure(e) });
  }
}

/** The dataset's corpus becomes the project's: saved at once, so the Run step reads it. */
export async function adoptDataset(): Promise<void> {
  const corpus = phrases.get().dataset?.corpus;
  if (!corpus) return;
  wizard.set({ corpus });
  await flushSave().catch(() => undefined);
  phrases.set({ used: corpus });
}

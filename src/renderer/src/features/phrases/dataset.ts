// The Phrases step's work, kept outside React so an import or a translation keeps reporting while
// the user looks at other steps: the forms, the dataset built so far, and the job running now. A
// failed job keeps the dataset that was there before (the error is shown in place); only "use in
// this project" changes the corpus the project (and so the Run and Fine-tune steps) reads.
import type { DatasetImportResult, DatasetTranslateResult } from '../../../../shared/dataset';
import type { ProgressEvent } from '../../../../shared/dto';
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
  type Dataset,
  type ImportForm,
  type NeuronpediaForm,
  type TargetChoice,
} from './data';

export type SourceKind = 'import' | 'neuronpedia' | 'phrases';

type Job = 'import' | 'translate' | 'neuronpedia';

export interface PhrasesState {
  source: SourceKind;
  importForm: ImportForm;
  neuronpediaForm: NeuronpediaForm;
  phrasesPath: string;
  targets: Record<string, TargetChoice>;
  translateDir: string;
  beams: number | null;
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
}

const INITIAL: PhrasesState = {
  source: 'import',
  importForm: { path: '', languages: '', split: 'devtest', outDir: '' },
  neuronpediaForm: { export: '', source: '', by: 'features', features: '', search: '', tokenizer: '', out: '' },
  phrasesPath: '',
  targets: {},
  translateDir: '',
  beams: null,
  dataset: null,
  job: null,
  progress: null,
  cancelling: false,
  problems: [],
  error: null,
  cancelled: false,
  used: null,
};

export const phrases = createStore<PhrasesState>(INITIAL);

const failure = (e: unknown) => ({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });

/** Proposes the output folders (and the model's folder as the tokenizer) the first time the step
 * opens; what the user typed is kept. */
export async function proposeFolders(): Promise<void> {
  const { importForm, translateDir, neuronpediaForm } = phrases.get();
  if (!neuronpediaForm.tokenizer && wizard.get().modelPath) phrases.set({ neuronpediaForm: { ...neuronpediaForm, tokenizer: wizard.get().modelPath } });
  if (importForm.outDir && translateDir && neuronpediaForm.out) return;
  try {
    const info = await api.app.info({});
    const name = project.get().name || 'project';
    const now = new Date();
    const s = phrases.get();
    phrases.set({
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
  const { request, problems } = importRequestOf(phrases.get().importForm);
  if (problems.length) return phrases.set({ problems, error: null });
  const result: DatasetImportResult | null = await runJob('import', (jobId) => api.dataset.import({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfImport(result) });
}

/** Phrases cut from a Neuronpedia export at >= 80 % of each feature's maximum (the backend's rule). */
export async function startNeuronpedia(): Promise<void> {
  const { request, problems } = neuronpediaRequestOf(phrases.get().neuronpediaForm);
  if (!request) return phrases.set({ problems, error: null });
  const result: NeuronpediaPhrasesResult | null = await runJob('neuronpedia', (jobId) => api.phrases.neuronpedia({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfPhrases(result.out, result) });
}

/** A phrases file is read when it is translated (the backend checks every line then). */
export function choosePhrasesFile(): void {
  const path = phrases.get().phrasesPath.trim();
  if (!path) return phrases.set({ problems: ['Phrases file: type the path of a .jsonl written by `linguascope phrases neuronpedia`.'], error: null });
  if (!path.endsWith('.jsonl')) return phrases.set({ problems: ['Phrases file: a .jsonl written by `linguascope phrases neuronpedia` (one {"feature", "language", "text"} per line).'], error: null });
  phrases.set({ dataset: datasetOfPhrases(path), problems: [], error: null, used: null });
}

export async function startTranslate(languages: readonly string[]): Promise<void> {
  const s = phrases.get();
  const { request, problems } = translateRequestOf(s.dataset, languages, s.targets, s.translateDir, s.beams);
  if (!request) return phrases.set({ problems, error: null });
  const from = s.dataset;
  const result: DatasetTranslateResult | null = await runJob('translate', (jobId) => api.dataset.translate({ ...request, jobId }));
  if (result) phrases.set({ dataset: datasetOfTranslate(result, from) });
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

// The Evaluate step's job, kept outside React so an evaluation keeps reporting while the user looks
// at other steps. The backend job outlives the page, and the project keeps its id (running or
// ended): a reload, or reopening the project, attaches to it again and gets its progress and value
// (jobs.attach answers an ended job with its stored value, or says the value was dropped).
import type { ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import type { EvalResult } from '../../../../shared/eval';
import { api, errorMessage, withJobProgress } from '../../api';
import { flushSave } from '../../state/project-sync';
import { createStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { jobToFollow, type EvalRunRequest } from './request';

export interface EvaluationState {
  /** The job followed now (running). */
  jobId: string | null;
  /** The job whose outcome is shown (or followed): the project's jobId once settled. */
  shownJob: string | null;
  progress: ProgressEvent | null;
  result: EvalResult | null;
  /** The job was found again after a reload or a reopened project. */
  reattached: boolean;
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  cancelling: boolean;
  /** Why the project's last evaluation cannot be shown (the backend no longer holds its value). */
  note: string | null;
}

const IDLE: EvaluationState = { jobId: null, shownJob: null, progress: null, result: null, reattached: false, error: null, cancelled: false, cancelling: false, note: null };

export const evaluation = createStore<EvaluationState>(IDLE);

const failure = (e: unknown) => ({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });

/** Set while the page unloads: the lost connection then says nothing about the job. */
let leaving = false;
addEventListener('pagehide', () => (leaving = true));
addEventListener('pageshow', () => (leaving = false));

// A newer job replaces the stored run the project showed.
const setProjectJob = (jobId: string | null) => wizard.set((s) => ({ evaluate: { ...s.evaluate, jobId, ...(jobId && s.evaluate.runId ? { runId: null } : {}) } }));

/** The project's stored evaluation run (runs.get: the stored result, nothing recomputed), shown when
 * no job of the project's is there to follow. */
async function showStoredRun(runId: number): Promise<void> {
  try {
    const run = await api.runs.get({ id: runId });
    if (evaluation.get().jobId || wizard.get().evaluate.runId !== runId) return;
    if (run.kind !== 'evaluation') return evaluation.set({ ...IDLE, note: `The project's last evaluation (run ${runId}) is a stored ${run.kind}, not an evaluation. Evaluate again to see results here.` });
    evaluation.set({ ...IDLE, result: run.result });
  } catch (e) {
    if (evaluation.get().jobId || wizard.get().evaluate.runId !== runId) return;
    evaluation.set({ ...IDLE, note: `The project's last evaluation (run ${runId}) cannot be shown: ${errorMessage(e).replace(/\.?$/, '.')} Evaluate again: every item already scored is read from the cache.` });
  }
}

/** Why a stored job shows nothing, in the user's terms (the backend's message follows). */
function goneNote(e: ApiError): string {
  return `The last evaluation's result is no longer held by the backend (${e.code === 'JOB_NOT_FOUND' ? 'it was restarted, or many jobs ran since' : 'only the newest results are kept'}). Evaluate again: every item already scored is read from the cache, so it takes moments.`;
}

async function follow(jobId: string, call: () => Promise<EvalResult>): Promise<void> {
  try {
    const result = await withJobProgress(jobId, (p) => evaluation.set({ progress: p }), call);
    evaluation.set({ result });
  } catch (e) {
    if (leaving) return;
    if (e instanceof ApiError && e.code === 'CANCELLED') evaluation.set({ cancelled: true });
    else if (e instanceof ApiError && (e.code === 'JOB_NOT_FOUND' || e.code === 'JOB_RESULT_EXPIRED') && evaluation.get().reattached) evaluation.set({ note: goneNote(e) });
    else evaluation.set({ error: failure(e) });
  } finally {
    if (!leaving) evaluation.set({ jobId: null, cancelling: false, progress: null });
  }
}

/** Starts an evaluation; its id goes into the project at once, so a reload a moment later finds it. */
export async function startEvaluation(request: EvalRunRequest): Promise<void> {
  if (evaluation.get().jobId) return;
  const jobId = crypto.randomUUID();
  evaluation.set({ ...IDLE, jobId, shownJob: jobId });
  setProjectJob(jobId);
  await flushSave().catch(() => undefined);
  await follow(jobId, () => api.eval.run({ ...request, jobId }));
}

export async function cancelEvaluation(): Promise<void> {
  const { jobId } = evaluation.get();
  if (!jobId) return;
  evaluation.set({ cancelling: true });
  try {
    await api.jobs.cancel({ jobId });
  } catch (e) {
    evaluation.set({ cancelling: false, error: failure(e) });
  }
}

/** After a reload or a reopened project: follows the project's last evaluation (its progress, then
 * its value), or a running one writing the project's output folder. */
export async function restoreEvaluation(): Promise<void> {
  const { jobId: projectJob, outDir, runId } = wizard.get().evaluate;
  if (evaluation.get().jobId) return;
  let jobId = projectJob;
  if (!jobId) {
    if (!outDir.trim()) return runId ? showStoredRun(runId) : evaluation.set(IDLE);
    let jobs;
    try {
      jobs = await api.jobs.list({});
    } catch {
      return;
    }
    const job = jobToFollow(jobs, null, outDir);
    if (evaluation.get().jobId) return;
    if (!job) return runId ? showStoredRun(runId) : undefined;
    jobId = job.jobId;
    setProjectJob(jobId);
  }
  const id = jobId;
  evaluation.set({ ...IDLE, jobId: id, shownJob: id, reattached: true });
  await follow(id, async () => (await api.jobs.attach({ jobId: id })) as EvalResult);
}

// The project's evaluation job changed (a project opened, a reload): follow it, a moment after the
// last change. The step's own start sets shownJob first, so it is not attached twice.
let timer: ReturnType<typeof setTimeout> | null = null;
let lastKey: string | null = null;
wizard.subscribe(() => {
  const { jobId, outDir, runId } = wizard.get().evaluate;
  const key = `${jobId ?? ''}\n${jobId ? '' : `${outDir.trim()}\n${runId ?? ''}`}`;
  if (key === lastKey) return;
  lastKey = key;
  const { jobId: following, shownJob } = evaluation.get();
  if (following || (jobId && jobId === shownJob)) return;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => void restoreEvaluation(), 300);
});

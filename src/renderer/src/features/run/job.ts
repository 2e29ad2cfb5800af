// The analysis job, kept outside the component so a run keeps going (and reporting) while the user
// looks at other steps. The job itself lives in the backend: this tab keeps its id (and the request)
// in sessionStorage, so a reload reattaches the monitor to the same job instead of losing it.
import type { DisparitySummary, ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage, withJobProgress } from '../../api';
import { createStore } from '../../state/store';
import { wizard, type AnalysisRequest } from '../../state/wizard';

export interface JobState {
  jobId: string | null;
  progress: ProgressEvent | null;
  /** Every stage seen in this run, in order (the progress bar shows only the latest). */
  stages: string[];
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  cancelling: boolean;
  startedAt: number | null;
  /** What the running job computes (shown after a reload, when the wizard may not hold it). */
  request: AnalysisRequest | null;
  /** The monitor was reattached to a job this tab started before a reload. */
  reattached: boolean;
}

export const job = createStore<JobState>({
  jobId: null,
  progress: null,
  stages: [],
  error: null,
  cancelled: false,
  cancelling: false,
  startedAt: null,
  request: null,
  reattached: false,
});

/** Per tab (sessionStorage survives a reload, not a closed tab): the running analysis's id and request. */
const STORAGE_KEY = 'linguascope.analysis-job';

interface StoredJob {
  jobId: string;
  request: AnalysisRequest;
  startedAt: number;
}

function remember(stored: StoredJob | null): void {
  try {
    if (stored) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage off (private mode, quota): the run still works, only a reload cannot reattach.
  }
}

function recalled(): StoredJob | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as Partial<StoredJob> | null;
    if (!value || typeof value.jobId !== 'string' || typeof value.request !== 'object' || value.request === null) return null;
    return { jobId: value.jobId, request: value.request, startedAt: typeof value.startedAt === 'number' ? value.startedAt : Date.now() };
  } catch {
    return null;
  }
}

/** Set while the page unloads (a reload): the connection's loss then says nothing about the job,
 * so its id stays stored for the next page to reattach. */
let leaving = false;
addEventListener('pagehide', () => (leaving = true));
addEventListener('pageshow', () => (leaving = false));

/** Follows one analysis job to its end (the call that started it, or jobs.attach after a reload). */
async function monitor(stored: StoredJob, call: () => Promise<DisparitySummary>): Promise<void> {
  const { jobId, request } = stored;
  try {
    const summary = await withJobProgress(
      jobId,
      (p) => job.set((s) => ({ progress: p, stages: s.stages.at(-1) === p.stage ? s.stages : [...s.stages, p.stage] })),
      call,
    );
    // Show the results at once if the user is still waiting on the Run step.
    wizard.set((s) => ({ summary, request, step: s.step === 'run' ? 'results' : s.step }));
  } catch (e) {
    if (leaving) return;
    if (e instanceof ApiError && e.code === 'CANCELLED') job.set({ cancelled: true });
    else job.set({ error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  } finally {
    if (!leaving) remember(null);
    job.set({ jobId: null, cancelling: false, request: null });
  }
}

export async function startRun(request: AnalysisRequest): Promise<void> {
  if (job.get().jobId) return;
  const stored: StoredJob = { jobId: crypto.randomUUID(), request, startedAt: Date.now() };
  remember(stored);
  job.set({ jobId: stored.jobId, progress: null, stages: [], error: null, cancelled: false, cancelling: false, startedAt: stored.startedAt, request, reattached: false });
  await monitor(stored, () => api.analysis.run({ ...request, jobId: stored.jobId }));
}

/** After a reload: reattaches the monitor to the analysis this tab started, if there is one. The
 * backend answers the job's latest progress, then its events, then its result (or its stored
 * outcome if it ended meanwhile); a backend that no longer knows it says JOB_NOT_FOUND. */
export async function reattachRun(): Promise<void> {
  const stored = recalled();
  if (!stored || job.get().jobId) return;
  job.set({ jobId: stored.jobId, progress: null, stages: [], error: null, cancelled: false, cancelling: false, startedAt: stored.startedAt, request: stored.request, reattached: true });
  await monitor(stored, async () => {
    try {
      return (await api.jobs.attach({ jobId: stored.jobId })) as DisparitySummary;
    } catch (e) {
      if (e instanceof ApiError && e.code === 'JOB_NOT_FOUND') {
        throw new ApiError('JOB_NOT_FOUND', 'the run this page started before it was reloaded is no longer known to the backend (it was restarted); run it again: finished batches are read from the cache', e.details);
      }
      throw e;
    }
  });
}

export async function cancelRun(): Promise<void> {
  const { jobId } = job.get();
  if (!jobId) return;
  job.set({ cancelling: true });
  try {
    await api.jobs.cancel({ jobId });
  } catch (e) {
    job.set({ cancelling: false, error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  }
}

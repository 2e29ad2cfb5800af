// The analysis job, kept outside the component so a run keeps going (and reporting) while the user
// looks at other steps.
import type { ProgressEvent } from '../../../../shared/dto';
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
}

export const job = createStore<JobState>({
  jobId: null,
  progress: null,
  stages: [],
  error: null,
  cancelled: false,
  cancelling: false,
  startedAt: null,
});

export async function startRun(request: AnalysisRequest): Promise<void> {
  if (job.get().jobId) return;
  const jobId = crypto.randomUUID();
  job.set({ jobId, progress: null, stages: [], error: null, cancelled: false, cancelling: false, startedAt: Date.now() });
  try {
    const summary = await withJobProgress(
      jobId,
      (p) => job.set((s) => ({ progress: p, stages: s.stages.at(-1) === p.stage ? s.stages : [...s.stages, p.stage] })),
      () => api.analysis.run({ ...request, jobId }),
    );
    // Show the results at once if the user is still waiting on the Run step.
    wizard.set((s) => ({ summary, request, step: s.step === 'run' ? 'results' : s.step }));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'CANCELLED') job.set({ cancelled: true });
    else job.set({ error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  } finally {
    job.set({ jobId: null, cancelling: false });
  }
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

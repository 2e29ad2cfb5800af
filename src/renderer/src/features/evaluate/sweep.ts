// The sweep panel's job, kept outside React so a sweep (many fine-tunes, minutes to hours) keeps
// reporting while the user looks at other steps. Its progress names the point
// ("point 2/4: alpha 1, layers 0..3, sae-codes: training").
import type { ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import type { SweepResult } from '../../../../shared/eval';
import { api, errorMessage, withJobProgress } from '../../api';
import { createStore } from '../../state/store';
import { INITIAL_SWEEP_FORM, type SweepForm, type SweepRunRequest } from './sweep-request';

export interface SweepState {
  jobId: string | null;
  progress: ProgressEvent | null;
  result: SweepResult | null;
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  cancelling: boolean;
}

const IDLE: SweepState = { jobId: null, progress: null, result: null, error: null, cancelled: false, cancelling: false };

export const sweep = createStore<SweepState>(IDLE);

/** The grid as typed, kept while the user visits other steps (not in the project: a sweep's record
 * is its folder, sweep-plan.json). */
export const sweepForm = createStore<SweepForm>(INITIAL_SWEEP_FORM);

export async function startSweep(request: SweepRunRequest): Promise<void> {
  if (sweep.get().jobId) return;
  const jobId = crypto.randomUUID();
  sweep.set({ ...IDLE, jobId });
  try {
    const result = await withJobProgress(jobId, (p) => sweep.set({ progress: p }), () => api.sweep.run({ ...request, jobId }));
    sweep.set({ result });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'CANCELLED') sweep.set({ cancelled: true });
    else sweep.set({ error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  } finally {
    sweep.set({ jobId: null, cancelling: false, progress: null });
  }
}

export async function cancelSweep(): Promise<void> {
  const { jobId } = sweep.get();
  if (!jobId) return;
  sweep.set({ cancelling: true });
  try {
    await api.jobs.cancel({ jobId });
  } catch (e) {
    sweep.set({ cancelling: false, error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  }
}

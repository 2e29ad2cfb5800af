// The sweep panel's job, kept outside React so a sweep (many fine-tunes, minutes to hours) keeps
// reporting while the user looks at other steps. Its progress names the point
// ("point 2/4: alpha 1, layers 0..3, sae-codes: training"). The job lives in the backend: this tab
// keeps its id and the grid as typed in sessionStorage (kept after the job ends), so a reload
// follows the same job again, or shows its result (jobs.attach answers an ended job's value).
import type { ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { EVAL_TASKS, type SweepResult } from '../../../../shared/eval';
import { api, errorMessage, withJobProgress } from '../../api';
import { createStore } from '../../state/store';
import { INITIAL_SWEEP_FORM, LOSS_SPACES, type SweepForm, type SweepRunRequest } from './sweep-request';

export interface SweepState {
  jobId: string | null;
  progress: ProgressEvent | null;
  result: SweepResult | null;
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  cancelling: boolean;
  /** Why the tab's last sweep cannot be shown again after a reload. */
  note: string | null;
}

const IDLE: SweepState = { jobId: null, progress: null, result: null, error: null, cancelled: false, cancelling: false, note: null };

export const sweep = createStore<SweepState>(IDLE);

/** Per tab (sessionStorage survives a reload, not a closed tab): the last sweep's job and grid. */
const STORAGE_KEY = 'linguascope.sweep';

function remember(jobId: string | null, form: SweepForm): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ jobId, form }));
  } catch {
    // Storage off: the sweep still runs, only a reload cannot find it again.
  }
}

/** The stored grid, each field checked (a damaged entry falls back to the initial form). */
function recalled(): { jobId: string | null; form: SweepForm } {
  try {
    const v = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as { jobId?: unknown; form?: Partial<Record<keyof SweepForm, unknown>> } | null;
    const f = v?.form ?? {};
    const text = (x: unknown, fallback: string) => (typeof x === 'string' ? x : fallback);
    const count = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) && x > 0 ? x : null);
    const form: SweepForm = {
      alphas: text(f.alphas, INITIAL_SWEEP_FORM.alphas),
      layerSets: text(f.layerSets, INITIAL_SWEEP_FORM.layerSets),
      spaces: Array.isArray(f.spaces) ? LOSS_SPACES.filter((s) => (f.spaces as unknown[]).includes(s)) : INITIAL_SWEEP_FORM.spaces,
      evalData: text(f.evalData, ''),
      task: EVAL_TASKS.find((t) => t === f.task) ?? 'all',
      evalLimit: count(f.evalLimit),
      steps: count(f.steps),
      outDir: text(f.outDir, ''),
    };
    return { jobId: typeof v?.jobId === 'string' ? v.jobId : null, form };
  } catch {
    return { jobId: null, form: INITIAL_SWEEP_FORM };
  }
}

const stored = recalled();

/** The tab's last sweep job (running or ended). */
let lastJob: string | null = stored.jobId;

/** The grid as typed, kept while the user visits other steps and across a reload of the tab (not in
 * the project: a sweep's record is its folder, sweep-plan.json). */
export const sweepForm = createStore<SweepForm>(stored.form);
sweepForm.subscribe(() => remember(lastJob, sweepForm.get()));

/** Set while the page unloads: the lost connection then says nothing about the job. */
let leaving = false;
addEventListener('pagehide', () => (leaving = true));
addEventListener('pageshow', () => (leaving = false));

async function follow(jobId: string, call: () => Promise<SweepResult>, reattached: boolean): Promise<void> {
  sweep.set({ ...IDLE, jobId });
  try {
    const result = await withJobProgress(jobId, (p) => sweep.set({ progress: p }), call);
    sweep.set({ result });
  } catch (e) {
    if (leaving) return;
    if (e instanceof ApiError && e.code === 'CANCELLED') sweep.set({ cancelled: true });
    else if (reattached && e instanceof ApiError && (e.code === 'JOB_NOT_FOUND' || e.code === 'JOB_RESULT_EXPIRED'))
      sweep.set({ note: "The last sweep's result is no longer held by the backend. Run the same sweep again: finished points are read back from its folder, so it takes moments." });
    else sweep.set({ error: { code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) } });
  } finally {
    if (!leaving) sweep.set({ jobId: null, cancelling: false, progress: null });
  }
}

export async function startSweep(request: SweepRunRequest): Promise<void> {
  if (sweep.get().jobId) return;
  const jobId = crypto.randomUUID();
  lastJob = jobId;
  remember(jobId, sweepForm.get());
  await follow(jobId, () => api.sweep.run({ ...request, jobId }), false);
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

// After a reload: the tab's last sweep is followed again (a running one's progress, an ended one's value).
if (lastJob) {
  const id = lastJob;
  void follow(id, async () => (await api.jobs.attach({ jobId: id })) as SweepResult, true);
}

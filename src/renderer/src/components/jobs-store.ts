// The backend's job list as this page sees it: refreshed when the backend says a job started,
// was joined, was asked to cancel or ended (the 'jobs' event), and every second while the panel
// is open and something runs (progress is not broadcast to every page).
import type { JobInfo } from '../../../shared/dto';
import { api, errorMessage } from '../api';
import { createStore, useStore } from '../state/store';
import type { StepId } from '../state/wizard';

export interface JobsListState {
  jobs: JobInfo[];
  /** Why the last refresh failed (the list shown is the one before). */
  error: string | null;
  open: boolean;
}

export const jobsList = createStore<JobsListState>({ jobs: [], error: null, open: false });

/** The wizard step whose work a method is. */
const STEP_OF_METHOD: Record<string, StepId> = {
  'fertility.run': 'fertility',
  'fertility.export': 'fertility',
  'model.activations': 'model',
  'model.makeRandom': 'model',
  'demo.build': 'model',
  'sae.makeRandom': 'saes',
  'analysis.run': 'run',
  'analysis.export': 'results',
  'finetune.run': 'finetune',
  'model.merge': 'finetune',
  'eval.run': 'evaluate',
  'dataset.import': 'phrases',
  'dataset.translate': 'phrases',
  'translate.run': 'phrases',
  'phrases.neuronpedia': 'phrases',
};

export function stepOfMethod(method: string): StepId | null {
  return Object.prototype.hasOwnProperty.call(STEP_OF_METHOD, method) ? STEP_OF_METHOD[method] : null;
}

let inFlight: Promise<void> | null = null;
let again = false;

/** One jobs.list at a time; a refresh asked for meanwhile runs once after it. */
export function refreshJobs(): Promise<void> {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = api.jobs
    .list({})
    .then(
      (jobs) => jobsList.set({ jobs, error: null }),
      (e: unknown) => jobsList.set({ error: errorMessage(e) }),
    )
    .finally(() => {
      inFlight = null;
      if (again) {
        again = false;
        void refreshJobs();
      }
    });
  return inFlight;
}

/** Starts following the backend's job list; returns a function that stops. */
export function watchJobs(): () => void {
  const stopEvents = api.on('jobs', () => void refreshJobs());
  void refreshJobs();
  const timer = setInterval(() => {
    const { open, jobs } = jobsList.get();
    if (open && jobs.some((j) => j.state === 'running')) void refreshJobs();
  }, 1000);
  return () => {
    stopEvents();
    clearInterval(timer);
  };
}

/** Steps with a job running now, for the step bar. */
export function useBusySteps(): ReadonlySet<StepId> {
  const key = useStore(jobsList, (s) =>
    s.jobs
      .filter((j) => j.state === 'running')
      .map((j) => stepOfMethod(j.method))
      .filter((x): x is StepId => x !== null)
      .sort()
      .join(','),
  );
  return new Set(key ? (key.split(',') as StepId[]) : []);
}

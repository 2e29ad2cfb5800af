// The fine-tune monitor's state, outside React so a run keeps reporting while the user looks at other
// steps. The run folder is the record: finetune.status gives its configuration, the whole step log,
// its checkpoints and (once written) its result; live progress events append to that log between
// reads. The backend job outlives the page: the project keeps its id, so a reload, or reopening the
// project, reads the folder again and reattaches to the job if it still runs.
import type { ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import type { FinetuneConfigRecord, FinetuneResult, FinetuneStatus, LogRecord } from '../../../../shared/finetune';
import { api, errorMessage, withJobProgress } from '../../api';
import { flushSave } from '../../state/project-sync';
import { createStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { appendRecord, mergeLog, recordOfProgress } from './log';
import { settingsDiff, type FinetuneRequest } from './settings';

export interface MonitorState {
  /** The run folder shown (null: none read yet). */
  dir: string | null;
  config: FinetuneConfigRecord | null;
  /** Every record of the run's log, in order. */
  records: LogRecord[];
  checkpoints: FinetuneStatus['checkpoints'];
  /** The finished run's result (from the folder, or the job's answer). */
  result: FinetuneResult | null;
  /** Why the folder shows no run (none started there yet, or not a run of ours). */
  folderNote: string | null;
  /** The backend job followed now. */
  jobId: string | null;
  progress: ProgressEvent | null;
  /** The job was found again after a reload or a reopened project. */
  reattached: boolean;
  error: { code?: string; message: string } | null;
  cancelled: boolean;
  cancelling: boolean;
}

const IDLE: Omit<MonitorState, 'dir' | 'config' | 'records' | 'checkpoints' | 'result' | 'folderNote'> = {
  jobId: null,
  progress: null,
  reattached: false,
  error: null,
  cancelled: false,
  cancelling: false,
};

export const monitor = createStore<MonitorState>({ dir: null, config: null, records: [], checkpoints: [], result: null, folderNote: null, ...IDLE });

const failure = (e: unknown) => ({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });

/** Set while the page unloads: the lost connection then says nothing about the job, whose id stays
 * in the project for the next page. */
let leaving = false;
addEventListener('pagehide', () => (leaving = true));
addEventListener('pageshow', () => (leaving = false));

/** Reads the run folder; the live records after its last line are kept. A folder with no run
 * clears the monitor (unless a job is starting one there). */
export async function readFolder(dir: string): Promise<void> {
  let status: FinetuneStatus;
  try {
    status = await api.finetune.status({ dir });
  } catch (e) {
    if (dirNow() !== dir) return;
    const starting = monitor.get().jobId !== null && monitor.get().dir === dir;
    monitor.set({ dir, ...(starting ? {} : { config: null, records: [], checkpoints: [], result: null }), folderNote: starting ? null : errorMessage(e) });
    return;
  }
  if (dirNow() !== dir && monitor.get().dir !== dir) return;
  const running = monitor.get().jobId !== null;
  monitor.set((s) => ({
    dir,
    config: status.config,
    records: mergeLog(status.records, s.dir === dir ? s.records : []),
    checkpoints: status.checkpoints,
    // A resumed run's folder still holds the earlier result until it writes its own.
    result: running ? s.result : status.result,
    folderNote: null,
  }));
}

const dirNow = () => wizard.get().finetune.outDir.trim();

/** One folder read at a time; one more asked meanwhile runs after it. */
let reading: Promise<void> | null = null;
let readAgain = false;
function refresh(dir: string): void {
  if (reading) {
    readAgain = true;
    return;
  }
  reading = readFolder(dir).finally(() => {
    reading = null;
    if (readAgain) {
      readAgain = false;
      refresh(dir);
    }
  });
}

function setProjectJob(jobId: string | null, run?: { corpus: string; limit: number | null }): void {
  wizard.set((s) => ({ finetune: { ...s.finetune, jobId, ...(run ? { run } : {}) } }));
}

/** Follows one fine-tune job to its end: each progress event's record joins the log; the folder is
 * read again after each evaluation and checkpoint (checkpoints, the held-out terms). */
async function follow(dir: string, jobId: string, call: () => Promise<FinetuneResult>): Promise<void> {
  try {
    const result = await withJobProgress(
      jobId,
      (p) => {
        const record = recordOfProgress(p);
        monitor.set((s) => ({ progress: p, records: record ? appendRecord(s.records, record) : s.records }));
        const { config } = monitor.get();
        if (record && (!config || record.kind === 'eval' || (record.step % config.settings.monitor.checkpointEvery === 0))) refresh(dir);
      },
      call,
    );
    monitor.set({ result });
    refresh(dir);
  } catch (e) {
    if (leaving) return;
    if (e instanceof ApiError && e.code === 'CANCELLED') monitor.set({ cancelled: true });
    else monitor.set({ error: failure(e) });
    refresh(dir);
  } finally {
    if (!leaving) {
      monitor.set({ jobId: null, cancelling: false });
      if (wizard.get().finetune.jobId === jobId) setProjectJob(null);
    }
  }
}

/** Starts a run (or resumes one) in request.outDir. The job's id goes into the project at once, so a
 * reload a moment later still finds it. */
export async function startFinetune(request: FinetuneRequest, run: { corpus: string; limit: number | null }): Promise<void> {
  if (monitor.get().jobId) return;
  const jobId = crypto.randomUUID();
  const dir = request.outDir;
  monitor.set((s) => ({
    ...IDLE,
    jobId,
    dir,
    // A resume keeps the log up to its checkpoint (the backend cuts the file the same way).
    records: request.resume && s.dir === dir ? s.records.filter((r) => request.checkpoint === undefined || r.step <= request.checkpoint) : [],
    config: request.resume && s.dir === dir ? s.config : null,
    checkpoints: request.resume && s.dir === dir ? s.checkpoints : [],
    result: null,
    folderNote: null,
  }));
  setProjectJob(jobId, run);
  await flushSave().catch(() => undefined);
  await follow(dir, jobId, () => api.finetune.run({ ...request, jobId }));
}

/** Resumes the shown run from a checkpoint (latest when `step` is undefined) with the arguments it
 * was started with: its recorded model, SAEs, languages and settings, and the corpus and segment
 * limit the project remembers (the backend refuses another split by name). */
export async function resumeFinetune(step: number | undefined): Promise<void> {
  const { config, dir } = monitor.get();
  if (!config || !dir) return;
  const run = wizard.get().finetune.run ?? { corpus: wizard.get().corpus, limit: wizard.get().finetune.limit };
  const request: FinetuneRequest = {
    model: config.model,
    saes: config.saes,
    languages: config.languages,
    corpus: run.corpus,
    ...(run.limit !== null ? { limit: run.limit } : {}),
    settings: settingsDiff(config.settings),
    outDir: dir,
    resume: true,
    ...(step !== undefined ? { checkpoint: step } : {}),
  };
  await startFinetune(request, run);
}

export async function cancelFinetune(): Promise<void> {
  const { jobId } = monitor.get();
  if (!jobId) return;
  monitor.set({ cancelling: true });
  try {
    await api.jobs.cancel({ jobId });
  } catch (e) {
    monitor.set({ cancelling: false, error: failure(e) });
  }
}

/** After a reload or a reopened project: reads the folder, and follows the job writing it if one
 * runs (the project's job id; else the running finetune.run whose output is this folder). */
export async function restoreFinetune(): Promise<void> {
  const { outDir, jobId: projectJob } = wizard.get().finetune;
  const dir = outDir.trim();
  if (!dir || monitor.get().jobId) return;
  await readFolder(dir);
  let jobs;
  try {
    jobs = await api.jobs.list({});
  } catch {
    return;
  }
  if (monitor.get().jobId || dirNow() !== dir) return;
  const running = jobs.filter((j) => j.method === 'finetune.run' && j.state === 'running');
  const byId = projectJob ? jobs.find((j) => j.jobId === projectJob && j.method === 'finetune.run') : undefined;
  const job = byId?.state === 'running' ? byId : !byId ? running.find((j) => j.output === dir) : undefined;
  if (!job) {
    // The project's job ended (or the backend restarted): the folder holds what it wrote.
    if (projectJob) setProjectJob(null);
    return;
  }
  monitor.set({ ...IDLE, jobId: job.jobId, dir, reattached: true, result: null });
  if (wizard.get().finetune.jobId !== job.jobId) setProjectJob(job.jobId);
  await follow(dir, job.jobId, async () => (await api.jobs.attach({ jobId: job.jobId })) as FinetuneResult);
}

// The project's run folder or job changed (a project opened, the user typed a folder): read it
// again, a moment after the last change.
let timer: ReturnType<typeof setTimeout> | null = null;
let lastKey = '';
wizard.subscribe(() => {
  const { outDir, jobId } = wizard.get().finetune;
  const key = `${outDir.trim()}\n${jobId ?? ''}`;
  if (key === lastKey) return;
  lastKey = key;
  if (monitor.get().jobId) return;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => void restoreFinetune(), 300);
});

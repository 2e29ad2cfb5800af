// Jobs are backend objects, not callbacks of one connection: a job runs until it ends whoever is
// listening, can be followed (attached) and cancelled from any connection, and an identical request
// joins it instead of computing it twice. Ended jobs stay listed (bounded) with their outcome.
import type { JobInfo, JobsChangedEvent, JobState, ProgressEvent } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { toApiError } from './api-error';
import type { JobContext } from './handler';
import { jobKey, summarizeArg, summarizeValue } from './job-summary';

/** Where a follower's events go: the caller's connection, labelled with the id it knows the job by. */
export type JobSink = Pick<JobContext, 'progress' | 'log'>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: ApiError };

interface Job {
  id: string;
  key: string;
  method: string;
  summary: string;
  /** The output folder or file the argument names (outDir or out), whole. */
  output: string | null;
  startedAt: number;
  finishedAt: number | null;
  state: JobState;
  progress: Omit<ProgressEvent, 'jobId'> | null;
  ownerRun: string | null;
  joined: number;
  cancelRequested: boolean;
  controller: AbortController;
  followers: Set<JobSink>;
  /** Settles when the job ends; never rejects (nobody may be listening when it fails). */
  settled: Promise<Outcome>;
  outcome: Outcome | null;
  /** One line about the value, made when the job ends (it outlives the value). */
  valueSummary: string;
  /** False once the value was dropped from the history (only the newest values are kept). */
  valueKept: boolean;
}

export interface JobRegistryOptions {
  /** Ended jobs listed with their outcome summary. */
  history?: number;
  /** Ended jobs whose full value is kept for a late `jobs.attach` (values can be large). */
  values?: number;
}

export class JobRegistry {
  private readonly jobs = new Map<string, Job>();
  /** Ids that joining callers chose, mapped to the job they joined. */
  private readonly aliases = new Map<string, string>();
  private readonly runningByKey = new Map<string, Job>();
  /** Ids of ended jobs, oldest first. */
  private readonly ended: string[] = [];
  private readonly changeListeners = new Set<(event: JobsChangedEvent) => void>();
  private counter = 0;
  private readonly history: number;
  private readonly values: number;

  constructor(options: JobRegistryOptions = {}) {
    this.history = options.history ?? 50;
    this.values = Math.min(options.values ?? 10, this.history);
  }

  /** Starts `work` as a job, or joins the running job with the same method and argument (less
   * jobId). Returns the id the caller should follow: its own `jobId` when it gave one (an alias
   * when it joined), else the job's. */
  submit(method: string, arg: Record<string, unknown>, work: (ctx: JobContext) => Promise<unknown>): { jobId: string; joined: boolean } {
    const requested = typeof arg.jobId === 'string' ? arg.jobId : undefined;
    const key = jobKey(method, arg);
    const same = this.runningByKey.get(key);
    if (same) {
      if (requested !== undefined && requested !== same.id) {
        this.checkFreeId(requested);
        this.dropEnded(requested);
        this.aliases.set(requested, same.id);
      }
      same.joined++;
      this.notify(same);
      return { jobId: requested ?? same.id, joined: true };
    }
    if (requested !== undefined) {
      this.checkFreeId(requested);
      // An ended job's id may be used again: the new job replaces it in the list.
      this.dropEnded(requested);
    }
    const id = requested ?? `job-${Date.now().toString(36)}-${++this.counter}`;
    const job: Job = {
      id,
      key,
      method,
      summary: summarizeArg(arg),
      output: typeof arg.outDir === 'string' ? arg.outDir : typeof arg.out === 'string' ? arg.out : null,
      startedAt: Date.now(),
      finishedAt: null,
      state: 'running',
      progress: null,
      ownerRun: typeof arg.runId === 'string' ? arg.runId : null,
      joined: 0,
      cancelRequested: false,
      controller: new AbortController(),
      followers: new Set(),
      settled: Promise.resolve({ ok: true, value: undefined }),
      outcome: null,
      valueSummary: '',
      valueKept: true,
    };
    const ctx: JobContext = {
      jobId: id,
      signal: job.controller.signal,
      progress: (stage, done, total, etaSeconds, detail) => {
        job.progress = { stage, done, total, ...(etaSeconds !== undefined && Number.isFinite(etaSeconds) ? { etaSeconds } : {}), ...(detail ? { detail } : {}) };
        for (const f of job.followers) f.progress(stage, done, total, etaSeconds, detail);
      },
      log: (level, message) => job.followers.forEach((f) => f.log(level, message)),
      setOwnerRun: (runId) => {
        job.ownerRun = runId;
      },
    };
    this.jobs.set(id, job);
    this.runningByKey.set(key, job);
    // `work` starts on a later tick: the caller subscribes before the first progress event.
    job.settled = Promise.resolve()
      .then(() => work(ctx))
      .then(
        (value): Outcome => ({ ok: true, value }),
        (error: unknown): Outcome => ({ ok: false, error: toApiError(error) }),
      )
      .then((outcome) => {
        this.end(job, outcome);
        return outcome;
      });
    this.notify(job);
    return { jobId: id, joined: false };
  }

  /** Streams the job's events to `sink` (its latest progress first) until it ends, then settles
   * as the job did: its value or its typed error. An ended job settles at once with its stored
   * outcome. `signal` (the follower's connection closing) stops following; the job runs on. */
  // async: a bad id rejects like every other outcome, while the subscription below is still made
  // synchronously (before the job's next event).
  async follow(jobId: string, sink: JobSink, signal?: AbortSignal): Promise<unknown> {
    const job = this.lookup(jobId);
    if (job.outcome) return this.stored(job);
    if (signal?.aborted) return Promise.reject(new ApiError('CANCELLED', 'the connection closed'));
    job.followers.add(sink);
    if (job.progress) sink.progress(job.progress.stage, job.progress.done, job.progress.total, job.progress.etaSeconds, job.progress.detail);
    return new Promise((resolve, reject) => {
      const leave = () => {
        job.followers.delete(sink);
        reject(new ApiError('CANCELLED', 'the connection closed; the job runs on'));
      };
      signal?.addEventListener('abort', leave, { once: true });
      void job.settled.then((outcome) => {
        signal?.removeEventListener('abort', leave);
        job.followers.delete(sink);
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      });
    });
  }

  /** Asks a running job to stop (it stops at its next check); an ended job answers its state. */
  cancel(jobId: string): { cancelled: boolean; state: JobState } {
    const job = this.lookup(jobId);
    if (job.state !== 'running') return { cancelled: false, state: job.state };
    if (!job.cancelRequested) {
      job.cancelRequested = true;
      job.controller.abort();
      this.notify(job);
    }
    return { cancelled: true, state: job.state };
  }

  /** Running jobs, then ended ones, each newest first. */
  list(): JobInfo[] {
    const all = [...this.jobs.values()].sort((a, b) => b.startedAt - a.startedAt);
    return [...all.filter((j) => j.state === 'running'), ...all.filter((j) => j.state !== 'running')].map((j) => this.info(j));
  }

  info(job: Job): JobInfo {
    const outcome = job.outcome;
    return {
      jobId: job.id,
      method: job.method,
      summary: job.summary,
      output: job.output,
      state: job.state,
      progress: job.progress ? { ...job.progress } : null,
      startedAt: new Date(job.startedAt).toISOString(),
      finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
      ownerRun: job.ownerRun,
      clients: job.followers.size,
      joined: job.joined,
      cancelRequested: job.cancelRequested,
      outcome: !outcome ? null : outcome.ok ? { ok: true, summary: job.valueSummary } : { ok: false, error: { code: outcome.error.code, message: outcome.error.message } },
    };
  }

  /** Told when a job starts, is joined, is asked to cancel or ends (not on each progress event). */
  onChange(listener: (event: JobsChangedEvent) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** A context for a quick call that is not registered and cannot be cancelled. */
  detached(): { jobId: string; signal: AbortSignal } {
    return { jobId: `call-${++this.counter}`, signal: new AbortController().signal };
  }

  /** Jobs running now. */
  get size(): number {
    return this.runningByKey.size;
  }

  private lookup(jobId: string): Job {
    const job = this.jobs.get(this.aliases.get(jobId) ?? jobId);
    if (!job) {
      throw new ApiError('JOB_NOT_FOUND', `no job ${JSON.stringify(jobId)}: it was never started here, or it ended before the last ${this.history} jobs (jobs.list shows those)`, { jobId });
    }
    return job;
  }

  /** A requested id must not name a running job (or an alias of one) doing other work. */
  private checkFreeId(id: string): void {
    const existing = this.jobs.get(this.aliases.get(id) ?? id);
    if (existing?.state === 'running') {
      throw new ApiError('INVALID_ARGUMENT', `a job with id "${id}" is already running (${existing.method}); choose another jobId`);
    }
  }

  private stored(job: Job): Promise<unknown> {
    const outcome = job.outcome!;
    if (!outcome.ok) return Promise.reject(outcome.error);
    if (!job.valueKept) {
      return Promise.reject(
        new ApiError('JOB_RESULT_EXPIRED', `job ${job.id} (${job.method}) ended (${job.state}); only the last ${this.values} results are kept: run the request again (its outcome was: ${job.valueSummary})`, { jobId: job.id, state: job.state }),
      );
    }
    return Promise.resolve(outcome.value);
  }

  private end(job: Job, outcome: Outcome): void {
    job.outcome = outcome;
    if (outcome.ok) job.valueSummary = summarizeValue(outcome.value);
    job.finishedAt = Date.now();
    job.state = outcome.ok ? 'done' : outcome.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
    if (outcome.ok && typeof outcome.value === 'object' && outcome.value !== null) {
      const runId = (outcome.value as { runId?: unknown }).runId;
      if (typeof runId === 'string') job.ownerRun = runId;
    }
    this.runningByKey.delete(job.key);
    this.ended.push(job.id);
    // Values beyond the newest `values` ended jobs are dropped; their summaries stay listed.
    const valueFrom = this.ended.length - this.values;
    for (let i = 0; i < valueFrom; i++) {
      const old = this.jobs.get(this.ended[i]);
      if (old?.valueKept && old.outcome?.ok) {
        old.outcome = { ok: true, value: undefined };
        old.valueKept = false;
      }
    }
    while (this.ended.length > this.history) this.forget(this.ended.shift()!);
    this.notify(job);
  }

  /** Removes an ended job `id` (before its id is used again). */
  private dropEnded(id: string): void {
    const target = this.aliases.get(id) ?? id;
    const job = this.jobs.get(target);
    if (this.aliases.has(id)) {
      this.aliases.delete(id);
      return;
    }
    if (!job || job.state === 'running') return;
    const at = this.ended.indexOf(target);
    if (at >= 0) this.ended.splice(at, 1);
    this.forget(target);
  }

  private forget(id: string): void {
    this.jobs.delete(id);
    for (const [alias, target] of this.aliases) if (target === id) this.aliases.delete(alias);
  }

  private notify(job: Job): void {
    const event: JobsChangedEvent = { jobId: job.id, state: job.state };
    this.changeListeners.forEach((l) => l(event));
  }
}

/** Throws CANCELLED if the job was cancelled; called between units of work. */
export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
}

/** Lets queued messages (e.g. a cancel) in between units of compute on this thread. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

import type { BackendMethod, Output, ParsedInput } from '../../shared/contract';
import type { LogEvent, ProgressEvent } from '../../shared/dto';

/** What a handler gets besides its argument: cancellation and a way to report progress. */
export interface JobContext {
  jobId: string;
  signal: AbortSignal;
  /** `etaSeconds`: the estimated time left, when the job can tell. */
  progress(stage: string, done: number, total: number, etaSeconds?: number, detail?: ProgressEvent['detail']): void;
  log(level: LogEvent['level'], message: string): void;
  /** Names the stored run this job produces, for `jobs.list` (a value with a string `runId` says
   * it too). Absent for quick calls that are not jobs. */
  setOwnerRun?(runId: string): void;
  /** Put before the default name of each run this job stores (e.g. "demo study"): the run history
   * then says which larger job a stage's run belongs to. */
  runLabel?: string;
}

export type Handler<M extends BackendMethod> = (arg: ParsedInput<M>, ctx: JobContext) => Promise<Output<M>>;

/** Each domain declares the handlers it owns; the backend's map is their union. */
export type HandlerMap<M extends BackendMethod = BackendMethod> = { [K in M]: Handler<K> };

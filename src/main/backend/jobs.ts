import { ApiError } from '../../shared/errors';

/** Running jobs by id, so `jobs.cancel` from any connection can abort them. */
export class JobRegistry {
  private readonly running = new Map<string, AbortController>();
  private counter = 0;

  start(requested?: string): { jobId: string; signal: AbortSignal; finish(): void } {
    const jobId = requested ?? `job-${Date.now().toString(36)}-${++this.counter}`;
    if (this.running.has(jobId)) {
      throw new ApiError('INVALID_ARGUMENT', `a job with id "${jobId}" is already running`);
    }
    const controller = new AbortController();
    this.running.set(jobId, controller);
    return { jobId, signal: controller.signal, finish: () => this.running.delete(jobId) };
  }

  /** A context for a quick call that is not registered and cannot be cancelled. */
  detached(): { jobId: string; signal: AbortSignal; finish(): void } {
    return { jobId: `call-${++this.counter}`, signal: new AbortController().signal, finish: () => {} };
  }

  cancel(jobId: string): boolean {
    const controller = this.running.get(jobId);
    if (!controller) return false;
    controller.abort();
    return true;
  }

  get size(): number {
    return this.running.size;
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

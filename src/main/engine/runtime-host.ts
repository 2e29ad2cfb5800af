// The RuntimeHost runs onnxruntime sessions in a worker thread (out/main/runtime-worker.js).
// Requests go to the worker one at a time from a FIFO kept here, so a cancelled job's runs that
// have not started are dropped at once (cancellation between runs; a run that has started
// finishes, since onnxruntime cannot be interrupted mid-graph). If the worker dies, every pending
// request fails with RUNTIME_ERROR and the next load starts a fresh worker.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../../shared/errors';
import { unpackedPath } from '../native-paths';
import { packageRoot } from '../package-root';
import type { ProviderReport } from './providers';
import type { LoadedSession, RuntimeReply, RuntimeRequest } from './runtime-protocol';
import type { HostTensor, SessionOptions } from './session';

type Request = RuntimeRequest extends infer R ? (R extends RuntimeRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  id: number;
  request: Request;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export function runtimeWorkerPath(): string {
  return unpackedPath(join(packageRoot(), 'out', 'main', 'runtime-worker.js'));
}

const cancelled = () => new ApiError('CANCELLED', 'the job was cancelled');

export class RuntimeHost {
  private worker: Worker | undefined;
  private generation = 0;
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | undefined;
  private closed = false;

  constructor(private readonly workerPath = runtimeWorkerPath()) {}

  private ensureWorker(): Worker {
    if (this.closed) throw new ApiError('RUNTIME_ERROR', 'the compute worker was shut down');
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath);
    this.generation++;
    worker.on('message', (reply: RuntimeReply) => this.onReply(reply));
    worker.on('error', (error) => this.onDeath(`failed: ${error.message}`));
    worker.on('exit', (code) => this.onDeath(`exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onReply(reply: RuntimeReply): void {
    const pending = this.inFlight;
    if (!pending || pending.id !== reply.id) return;
    this.inFlight = undefined;
    if (pending.onAbort) pending.signal?.removeEventListener('abort', pending.onAbort);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(ApiError.fromData(reply.error));
    this.pump();
  }

  private onDeath(how: string): void {
    if (!this.worker) return;
    this.worker = undefined;
    const error = new ApiError('RUNTIME_ERROR', `the compute worker ${how}; its sessions are gone and must be loaded again`);
    const failed = [...(this.inFlight ? [this.inFlight] : []), ...this.queue.splice(0)];
    this.inFlight = undefined;
    for (const p of failed) p.reject(error);
  }

  private pump(): void {
    while (!this.inFlight && this.queue.length) {
      const next = this.queue.shift()!;
      if (next.signal?.aborted) {
        next.reject(cancelled());
        continue;
      }
      let worker: Worker;
      try {
        worker = this.ensureWorker();
      } catch (error) {
        next.reject(error as Error);
        continue;
      }
      this.inFlight = next;
      worker.ref();
      worker.postMessage({ ...next.request, id: next.id } as RuntimeRequest);
    }
    if (!this.inFlight) this.worker?.unref();
  }

  private call<T>(request: Request, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { id: this.nextId++, request, signal, resolve: resolve as (v: unknown) => void, reject };
      if (signal) {
        pending.onAbort = () => {
          const at = this.queue.indexOf(pending);
          if (at >= 0) {
            this.queue.splice(at, 1);
            reject(cancelled());
          }
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  /** Probes every execution provider once (in the worker, where sessions will run). */
  probe(): Promise<ProviderReport[]> {
    return this.call({ op: 'probe' });
  }

  async load(model: Uint8Array | string, options: SessionOptions = {}, signal?: AbortSignal): Promise<RemoteSession> {
    const loaded = await this.call<LoadedSession>({ op: 'load', model, options }, signal);
    return new RemoteSession(this, loaded, this.generation);
  }

  /** @internal */
  runOn(session: RemoteSession, feeds: Record<string, HostTensor>, fetches: readonly string[] | undefined, signal?: AbortSignal): Promise<Record<string, HostTensor>> {
    if (session.generation !== this.generation || !this.worker) {
      return Promise.reject(new ApiError('RUNTIME_ERROR', 'this session was lost when the compute worker stopped; load it again'));
    }
    return this.call({ op: 'run', handle: session.handle, feeds, fetches }, signal);
  }

  /** @internal */
  releaseOn(session: RemoteSession): Promise<void> {
    if (session.generation !== this.generation || !this.worker) return Promise.resolve();
    return this.call({ op: 'release', handle: session.handle });
  }

  /** Number of requests waiting or running. */
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  /** Fails queued and in-flight work at once, then ends the worker cleanly: a run onnxruntime has
   * started cannot be interrupted, and ending the thread under it (or under live sessions) makes
   * onnxruntime call into a torn-down environment and abort the whole process. So the worker is
   * ended only after the started request has returned and every session was released. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const busy = this.inFlight !== undefined;
    this.onDeath('was shut down');
    worker.ref();
    let gone = false;
    const next = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          worker.off('message', done);
          worker.off('exit', onExit);
          resolve();
        };
        const onExit = () => {
          gone = true;
          done();
        };
        worker.on('message', done);
        worker.on('exit', onExit);
      });
    if (busy) await next();
    if (!gone) {
      const released = next();
      worker.postMessage({ id: 0, op: 'releaseAll' } satisfies RuntimeRequest);
      await released;
    }
    await worker.terminate();
  }
}

export class RemoteSession {
  readonly handle: number;
  readonly provider: LoadedSession['provider'];
  readonly attempts: LoadedSession['attempts'];
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];

  constructor(
    private readonly host: RuntimeHost,
    loaded: LoadedSession,
    readonly generation: number,
  ) {
    this.handle = loaded.handle;
    this.provider = loaded.provider;
    this.attempts = loaded.attempts;
    this.inputNames = loaded.inputNames;
    this.outputNames = loaded.outputNames;
  }

  run(feeds: Record<string, HostTensor>, fetches?: readonly string[], signal?: AbortSignal): Promise<Record<string, HostTensor>> {
    return this.host.runOn(this, feeds, fetches, signal);
  }

  release(): Promise<void> {
    return this.host.releaseOn(this);
  }
}

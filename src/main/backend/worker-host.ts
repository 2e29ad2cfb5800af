// Starts the backend worker (out/main/backend-worker.js) and opens connections to it.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ApiError, isApiErrorData } from '../../shared/errors';
import type { Transport } from '../../shared/rpc';
import { packageRoot } from '../package-root';
import { multiplexer, type Envelope } from './mux';

export interface BackendWorker {
  open(): Transport & { close(): void };
  terminate(): Promise<void>;
  /** Called once when the worker stops by itself (an uncaught error, an out-of-memory abort):
   * front ends fail their pending calls with this typed error instead of waiting forever. */
  onExit(listener: (error: ApiError) => void): () => void;
}

export function backendWorkerPath(): string {
  return join(packageRoot(), 'out', 'main', 'backend-worker.js');
}

export function startBackendWorker(dbPath: string, workerPath = backendWorkerPath()): Promise<BackendWorker> {
  const worker = new Worker(workerPath, { workerData: { dbPath } });
  const exitListeners = new Set<(error: ApiError) => void>();
  let terminating = false;
  let lastError = '';
  worker.on('error', (error) => (lastError = error.message));
  worker.once('exit', (code) => {
    if (terminating) return;
    const error = new ApiError('INTERNAL', `the backend stopped unexpectedly (exit code ${code}${lastError ? `: ${lastError.slice(0, 200)}` : ''}); nothing stored so far is lost`);
    exitListeners.forEach((l) => l(error));
  });
  return new Promise((resolve, reject) => {
    const onReady = (message: Envelope | { ready: boolean; error?: unknown }) => {
      if (!('ready' in message)) return;
      worker.off('message', onReady);
      if (!message.ready) {
        terminating = true;
        void worker.terminate();
        reject(isApiErrorData(message.error) ? ApiError.fromData(message.error) : new ApiError('INTERNAL', 'the backend failed to start'));
        return;
      }
      const mux = multiplexer(worker);
      resolve({
        open: () => mux.open(),
        terminate: async () => {
          terminating = true;
          await worker.terminate();
        },
        onExit: (listener) => {
          exitListeners.add(listener);
          return () => exitListeners.delete(listener);
        },
      });
    };
    worker.on('message', onReady);
    worker.once('error', (error) => reject(new ApiError('INTERNAL', `the backend worker failed: ${error.message}`)));
    worker.once('exit', (code) => reject(new ApiError('INTERNAL', `the backend worker stopped before it was ready (exit code ${code})`)));
  });
}

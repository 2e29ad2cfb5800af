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
}

export function backendWorkerPath(): string {
  return join(packageRoot(), 'out', 'main', 'backend-worker.js');
}

export function startBackendWorker(dbPath: string, workerPath = backendWorkerPath()): Promise<BackendWorker> {
  const worker = new Worker(workerPath, { workerData: { dbPath } });
  return new Promise((resolve, reject) => {
    const onReady = (message: Envelope | { ready: boolean; error?: unknown }) => {
      if (!('ready' in message)) return;
      worker.off('message', onReady);
      if (!message.ready) {
        void worker.terminate();
        reject(isApiErrorData(message.error) ? ApiError.fromData(message.error) : new ApiError('INTERNAL', 'the backend failed to start'));
        return;
      }
      const mux = multiplexer(worker);
      resolve({ open: () => mux.open(), terminate: async () => void (await worker.terminate()) });
    };
    worker.on('message', onReady);
    worker.once('error', (error) => reject(new ApiError('INTERNAL', `the backend worker failed: ${error.message}`)));
  });
}

// Backend host for the CLI and the browser harness: a worker thread, so onnxruntime's blocking
// `run` and long tokenization never stall the process that talks to the user.
import { parentPort, workerData } from 'node:worker_threads';
import { createBackend } from './backend';
import { serveMultiplexed } from './mux';
import { serveConnection } from './server';

if (!parentPort) throw new Error('backend-worker must run in a worker thread');
const { dbPath } = workerData as { dbPath: string };
try {
  const backend = createBackend({ dbPath });
  serveMultiplexed(parentPort, (transport) => serveConnection(transport, backend.handlers, backend.jobs));
  parentPort.postMessage({ ready: true });
} catch (error) {
  const e = error as { code?: string; message?: string };
  parentPort.postMessage({ ready: false, error: { code: e.code ?? 'INTERNAL', message: e.message ?? String(error) } });
}

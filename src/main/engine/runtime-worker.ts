// The compute worker: holds onnxruntime sessions and runs them one request at a time, so the
// thread that serves the API (and the UI behind it) never blocks inside onnxruntime.
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../shared/errors';
import { probeProviders } from './providers';
import type { RuntimeReply, RuntimeRequest } from './runtime-protocol';
import { EngineSession, type HostTensor } from './session';

if (!parentPort) throw new Error('runtime-worker must run in a worker thread');
const port = parentPort;
const sessions = new Map<number, EngineSession>();
let nextHandle = 1;

function session(handle: number): EngineSession {
  const s = sessions.get(handle);
  if (!s) throw new ApiError('RUNTIME_ERROR', `session ${handle} was released or never loaded`);
  return s;
}

async function handle(request: RuntimeRequest): Promise<unknown> {
  switch (request.op) {
    case 'probe':
      return probeProviders();
    case 'load': {
      const s = await EngineSession.create(request.model, request.options);
      const id = nextHandle++;
      sessions.set(id, s);
      return { handle: id, provider: s.provider, attempts: s.attempts, inputNames: s.inputNames, outputNames: s.outputNames };
    }
    case 'run':
      return session(request.handle).run(request.feeds, request.fetches);
    case 'release': {
      const s = sessions.get(request.handle);
      sessions.delete(request.handle);
      await s?.release();
      return null;
    }
    case 'releaseAll': {
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.release()));
      return null;
    }
  }
}

port.on('message', (request: RuntimeRequest) => {
  handle(request).then(
    (value) => {
      // Output tensors move to the caller without a copy (their buffers are ours alone).
      const transfer = request.op === 'run' ? Object.values(value as Record<string, HostTensor>).map((t) => t.data.buffer as ArrayBuffer) : [];
      port.postMessage({ id: request.id, ok: true, value } satisfies RuntimeReply, transfer);
    },
    (error: unknown) => {
      const data = error instanceof ApiError ? error.toData() : { code: 'INTERNAL' as const, message: (error as Error)?.message ?? String(error) };
      port.postMessage({ id: request.id, ok: false, error: data } satisfies RuntimeReply);
    },
  );
});

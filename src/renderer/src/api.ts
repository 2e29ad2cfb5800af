// The renderer's API: the preload's `window.api` in the desktop app, or the same contract over
// the harness's WebSocket in a plain browser. Errors always arrive as ApiError.
import { buildMethods, createRpcClient, type Api } from '../../shared/client';
import { ApiError, isApiErrorData } from '../../shared/errors';
import type { Method } from '../../shared/contract';
import type { Transport, WireMessage } from '../../shared/rpc';
import type { ProgressEvent } from '../../shared/dto';

function webSocketTransport(url: string): Transport & { onClose(cb: (code: number) => void): void } {
  const socket = new WebSocket(url);
  const queued: string[] = [];
  const listeners = new Set<(m: WireMessage) => void>();
  const closeListeners = new Set<(code: number) => void>();
  socket.addEventListener('open', () => queued.splice(0).forEach((m) => socket.send(m)));
  socket.addEventListener('message', (e) => {
    let message: WireMessage;
    try {
      message = JSON.parse(String(e.data)) as WireMessage;
    } catch {
      return; // the harness only sends JSON; anything else is not ours to act on
    }
    if (typeof message === 'object' && message !== null) listeners.forEach((l) => l(message));
  });
  socket.addEventListener('close', (e) => closeListeners.forEach((l) => l(e.code)));
  return {
    send: (message) => {
      const text = JSON.stringify(message);
      if (socket.readyState === WebSocket.OPEN) socket.send(text);
      else queued.push(text);
    },
    onMessage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onClose: (cb) => closeListeners.add(cb),
  };
}

function normalizeErrors(api: Api): Api {
  const invoke = async (method: Method, arg: unknown) => {
    const [domain, name] = method.split('.') as [string, string];
    const fn = (api as unknown as Record<string, Record<string, (a: unknown) => Promise<unknown>>>)[domain][name];
    try {
      return await fn(arg);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (isApiErrorData(error)) throw ApiError.fromData(error);
      throw new ApiError('INTERNAL', error instanceof Error ? error.message : String(error));
    }
  };
  return Object.assign(buildMethods(invoke), { on: api.on });
}

function connect(): Api {
  if (window.api) return normalizeErrors(window.api);
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // The harness prints the page's URL with a per-launch token; the API needs the same token.
  // It goes only to this page's own origin (the CSP allows no other connection).
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const transport = webSocketTransport(`${protocol}//${location.host}/api?token=${encodeURIComponent(token)}`);
  const client = createRpcClient(transport);
  transport.onClose((code) =>
    client.failAll(
      code === 1009
        ? new ApiError('PAYLOAD_TOO_LARGE', 'a message to the backend was over the harness\'s frame limit and the connection was closed; reload the page')
        : new ApiError('INTERNAL', 'the connection to the backend was lost or refused (open the URL the harness printed, with its ?token=); reload the page'),
    ),
  );
  return Object.assign(buildMethods(client.invoke), { on: client.on });
}

export const api: Api = connect();

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs one job call (`call` sends `jobId` with its request), passing that job's progress events,
 * and no other job's, to `onProgress` until the call settles. */
export async function withJobProgress<T>(jobId: string, onProgress: (p: ProgressEvent) => void, call: () => Promise<T>): Promise<T> {
  const stop = api.on('progress', (p) => {
    if (p.jobId === jobId) onProgress(p);
  });
  try {
    return await call();
  } finally {
    stop();
  }
}

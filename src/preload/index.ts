// The preload: exposes the typed API on `window.api` via contextBridge, and nothing else.
// Backend calls travel over a MessagePort that the shell hands over; shell calls (dialogs) go to
// the main process. Rejections are plain {code, message} data: Error objects lose their fields
// when they cross the context bridge.
import { contextBridge, ipcRenderer } from 'electron';
import { shellMethods, type Method } from '../shared/contract';
import { buildMethods, createRpcClient } from '../shared/client';
import { ApiError } from '../shared/errors';
import type { Transport, WireMessage } from '../shared/rpc';

/** The renderer-side MessagePort the shell transfers (typed structurally: no DOM lib here). */
interface RendererPort {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  start(): void;
}

let port: RendererPort | null = null;
const queued: WireMessage[] = [];
const listeners = new Set<(m: WireMessage) => void>();

const transport: Transport = {
  send: (message) => (port ? port.postMessage(message) : queued.push(message)),
  onMessage: (listener) => {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

ipcRenderer.on('api-port', (event) => {
  port = (event.ports[0] as unknown as RendererPort | undefined) ?? null;
  if (!port) return;
  port.onmessage = (e) => listeners.forEach((l) => l(e.data as WireMessage));
  port.start();
  queued.splice(0).forEach((m) => port!.postMessage(m));
});

const client = createRpcClient(transport);

async function invoke(method: Method, arg: unknown): Promise<unknown> {
  try {
    if ((shellMethods as string[]).includes(method)) {
      const reply = (await ipcRenderer.invoke('shell', method, arg)) as { ok: boolean; value?: unknown; error?: unknown };
      if (reply.ok) return reply.value;
      throw reply.error;
    }
    return await client.invoke(method, arg);
  } catch (error) {
    throw error instanceof ApiError ? error.toData() : error;
  }
}

contextBridge.exposeInMainWorld('api', { ...buildMethods(invoke), on: client.on });

// Wire protocol shared by every transport (Electron MessagePort, worker_threads, WebSocket).
// Messages are plain JSON-compatible data.
import type { ApiErrorData } from './errors';
import type { ApiEventName, ApiEvents } from './dto';

export type WireMessage =
  | { kind: 'call'; id: number; method: string; arg: unknown }
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: ApiErrorData }
  | { kind: 'event'; name: ApiEventName; payload: ApiEvents[ApiEventName] };

/** Anything that can carry WireMessages both ways. */
export interface Transport {
  send(message: WireMessage): void;
  /** Returns a function that stops listening. */
  onMessage(listener: (message: WireMessage) => void): () => void;
}

/** Two linked in-memory transports: the whole RPC stack can be tested without any process. */
export function createTransportPair(): [Transport, Transport] {
  const listeners: [Set<(m: WireMessage) => void>, Set<(m: WireMessage) => void>] = [new Set(), new Set()];
  const end = (mine: 0 | 1): Transport => ({
    // Structured-clone semantics, like a real port: the receiver never shares objects with the sender.
    send: (message) => {
      const copy = structuredClone(message);
      queueMicrotask(() => listeners[mine === 0 ? 1 : 0].forEach((l) => l(copy)));
    },
    onMessage: (listener) => {
      listeners[mine].add(listener);
      return () => listeners[mine].delete(listener);
    },
  });
  return [end(0), end(1)];
}

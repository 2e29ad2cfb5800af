// Wire protocol shared by every transport (Electron MessagePort, worker_threads, WebSocket).
// Messages are plain JSON-compatible data.
import type { ApiErrorData } from './errors';
import type { ApiEventName, ApiEvents } from './dto';

export type WireMessage =
  | CallMessage
  | { kind: 'result'; id: number; ok: true; value: unknown }
  | { kind: 'result'; id: number; ok: false; error: ApiErrorData }
  | { kind: 'event'; name: ApiEventName; payload: ApiEvents[ApiEventName] }
  // The answer to a message whose request id could not be read (not JSON, no id, ...).
  | { kind: 'protocol-error'; error: ApiErrorData };

export type CallMessage = { kind: 'call'; id: number; method: string; arg: unknown };

/** What a receiver makes of one incoming message: a call to serve, or the typed answer to send. */
export type ReadCall = { call: CallMessage } | { reply: WireMessage };

/** No contract argument nests deeper than 4 levels; the bound keeps recursive validators and
 * structured cloning of hostile input (`[[[[...]]]]`) far from the stack limit. */
export const MAX_ARG_DEPTH = 32;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Nesting depth of plain data, counted only up to `limit + 1`. */
function depthOver(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (depthOver(child, limit - 1)) return true;
  }
  return false;
}

/** Checks the envelope of any decoded message from a client. Anything that is not a well-formed
 * call gets a typed PROTOCOL_ERROR: as a result carrying the request id when the id can be read,
 * else as a `protocol-error` message. Never throws. */
export function readCall(value: unknown): ReadCall {
  const protocolError = (message: string): ReadCall => ({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message } } });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return protocolError(`a message must be a JSON object {"kind": "call", "id", "method", "arg"}; got ${describeValue(value)}`);
  }
  const m = value as Record<string, unknown>;
  if (!('id' in m)) return protocolError('the message has no "id": a call is {"kind": "call", "id": <integer>, "method", "arg"}');
  if (!Number.isSafeInteger(m.id)) return protocolError(`"id" must be an integer; got ${describeValue(m.id)}`);
  const id = m.id as number;
  const fail = (code: 'PROTOCOL_ERROR' | 'INVALID_ARGUMENT', message: string): ReadCall => ({ reply: { kind: 'result', id, ok: false, error: { code, message } } });
  if (m.kind !== 'call') return fail('PROTOCOL_ERROR', `only calls can be sent (kind "call"); got kind ${typeof m.kind === 'string' ? JSON.stringify(m.kind.slice(0, 40)) : describeValue(m.kind)}`);
  if (typeof m.method !== 'string') return fail('PROTOCOL_ERROR', `the call has no "method" name (a string such as "languages.list"); got ${describeValue(m.method)}`);
  if (depthOver(m.arg, MAX_ARG_DEPTH)) return fail('INVALID_ARGUMENT', `${m.method.slice(0, 80)}: the argument nests deeper than ${MAX_ARG_DEPTH} levels`);
  return { call: { kind: 'call', id, method: m.method, arg: m.arg } };
}

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

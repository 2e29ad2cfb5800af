// Several logical connections over one worker_threads port: the harness serves many browser tabs
// and the CLI one session from a single backend worker. Envelope: {conn, message} or {conn, close}.
import type { Transport, WireMessage } from '../../shared/rpc';

export type Envelope = { conn: number; message: WireMessage } | { conn: number; close: true };

/** The part of a worker_threads MessagePort / Worker / parentPort used here. */
interface Port {
  postMessage(message: unknown): void;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** Worker side: one transport per connection id, handed to `onConnection` when first seen. */
export function serveMultiplexed(port: Port, onConnection: (transport: Transport) => () => void): void {
  const connections = new Map<number, { listeners: Set<(m: WireMessage) => void>; stop: () => void }>();
  port.on('message', (envelope: Envelope) => {
    let connection = connections.get(envelope.conn);
    if ('close' in envelope) {
      connection?.stop();
      connections.delete(envelope.conn);
      return;
    }
    if (!connection) {
      const listeners = new Set<(m: WireMessage) => void>();
      const transport: Transport = {
        send: (message) => port.postMessage({ conn: envelope.conn, message } satisfies Envelope),
        onMessage: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
      connection = { listeners, stop: () => {} };
      connections.set(envelope.conn, connection);
      connection.stop = onConnection(transport);
    }
    connection.listeners.forEach((l) => l(envelope.message));
  });
}

/** Host side: opens logical connections to the worker. */
export function multiplexer(port: Port): { open(): Transport & { close(): void } } {
  let next = 1;
  const listeners = new Map<number, Set<(m: WireMessage) => void>>();
  port.on('message', (envelope: Envelope) => {
    if ('message' in envelope) listeners.get(envelope.conn)?.forEach((l) => l(envelope.message));
  });
  return {
    open() {
      const conn = next++;
      const set = new Set<(m: WireMessage) => void>();
      listeners.set(conn, set);
      return {
        send: (message) => port.postMessage({ conn, message } satisfies Envelope),
        onMessage: (listener) => {
          set.add(listener);
          return () => set.delete(listener);
        },
        close: () => {
          listeners.delete(conn);
          port.postMessage({ conn, close: true } satisfies Envelope);
        },
      };
    },
  };
}

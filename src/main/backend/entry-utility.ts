// Backend host inside Electron: a utility process. The shell hands over one MessagePort per
// renderer page; each port is one connection. Typed structurally so this file never imports electron.
import type { Transport, WireMessage } from '../../shared/rpc';
import { createBackend } from './backend';
import { serveConnection } from './server';

interface PortMain {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
}
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortMain[] }) => void): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
if (!parentPort) throw new Error('backend-utility must run in an Electron utility process');
const dbPath = process.env.LINGUASCOPE_DB;
if (!dbPath) throw new Error('LINGUASCOPE_DB is not set');
const backend = createBackend({ dbPath });

function portTransport(port: PortMain): Transport {
  const listeners = new Set<(m: WireMessage) => void>();
  port.on('message', (e) => listeners.forEach((l) => l(e.data as WireMessage)));
  port.start();
  return {
    send: (message) => port.postMessage(message),
    onMessage: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

parentPort.on('message', (event) => {
  const [port] = event.ports ?? [];
  if (!port) return;
  const stop = serveConnection(portTransport(port), backend.handlers, backend.jobs);
  port.on('close', stop);
});

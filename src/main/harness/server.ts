// The browser harness: serves the built renderer and the real backend (a worker thread) over a
// WebSocket on 127.0.0.1, so the real UI runs in a real Chromium without Electron.
// Usage: node out/main/harness.js [--port N] [--db PATH]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';
import { isMethod, shellMethods } from '../../shared/contract';
import type { WireMessage } from '../../shared/rpc';
import { startBackendWorker } from '../backend/worker-host';
import { packageRoot } from '../package-root';
import { resolveDbPath } from '../store/paths';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const MAX_MESSAGE_BYTES = 1 << 20;

function isCall(value: unknown): value is Extract<WireMessage, { kind: 'call' }> {
  const m = value as { kind?: unknown; id?: unknown; method?: unknown };
  return typeof m === 'object' && m !== null && m.kind === 'call' && Number.isInteger(m.id) && typeof m.method === 'string';
}

export async function startHarness(options: { port: number; dbPath: string; rendererDir?: string }) {
  const rendererDir = options.rendererDir ?? join(packageRoot(), 'out', 'renderer');
  const backend = await startBackendWorker(options.dbPath);

  const serveFile = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const relative = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '') || 'index.html';
    const file = join(rendererDir, relative);
    if (!file.startsWith(rendererDir + sep) && file !== rendererDir) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  };

  const server = createServer((req, res) => void serveFile(req, res));
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    const { port } = server.address() as { port: number };
    const allowed = [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
    if (new URL(req.url ?? '/', 'http://x').pathname !== '/api' || !allowed.includes(req.headers.origin ?? '')) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws));
  });

  const relay = (ws: WebSocket) => {
    const connection = backend.open();
    const stop = connection.onMessage((message) => ws.send(JSON.stringify(message)));
    ws.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return;
      }
      if (!isCall(message)) return;
      if (isMethod(message.method) && (shellMethods as string[]).includes(message.method)) {
        ws.send(JSON.stringify({
          kind: 'result', id: message.id, ok: false,
          error: { code: 'NOT_AVAILABLE', message: `${message.method} needs the desktop app; type a path instead` },
        } satisfies WireMessage));
        return;
      }
      connection.send(message);
    });
    ws.on('close', () => {
      stop();
      connection.close();
    });
  };

  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/`,
    async close() {
      wss.clients.forEach((c) => c.terminate());
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await backend.terminate();
    },
  };
}

const isEntry = process.argv[1] && /harness\.(js|ts)$/.test(process.argv[1]);
if (isEntry) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '5317' }, db: { type: 'string' } } });
  startHarness({ port: Number(values.port), dbPath: resolveDbPath(values.db) }).then(
    (harness) => {
      console.log(`LinguaScope harness: ${harness.url}`);
      const shutdown = () => void harness.close().then(() => process.exit(0));
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
    },
    (error: Error) => {
      console.error(`harness: ${error.message}`);
      process.exit(1);
    },
  );
}

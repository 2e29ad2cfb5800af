// Served mode (`linguascope serve`, also the browser test harness): serves the built renderer and
// the real backend (a worker thread) over a WebSocket, so the real UI runs in any browser without
// Electron — on a GPU workstation reached through an SSH tunnel, or in Chromium under test.
// Open the URL it prints (it carries the per-launch token: http://127.0.0.1:5317/?token=...); the
// page passes the token on to /api. Nothing a client sends may end the process: every request
// gets a typed answer (access.ts and frames.ts say how). serve-process.ts runs it as a process.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { jobMethods, shellMethods } from '../../shared/contract';
import { createApi, type Api } from '../../shared/client';
import type { ApiError } from '../../shared/errors';
import type { WireMessage } from '../../shared/rpc';
import { startBackendWorker, type BackendWorker } from '../backend/worker-host';
import { packageRoot } from '../package-root';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp';
import { bearerToken, hostAllowed, isLoopback, isWildcard, newToken, originAllowed, parseTarget, tokenMatches, urlHost, type Bound } from './access';
import { FRAME_LIMIT_BYTES, readFrame } from './frames';
import { listStaticFiles } from './static-files';

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 426: 'Upgrade Required', 503: 'Service Unavailable',
};
const NO_TOKEN = 'open the URL `linguascope serve` printed: it carries the per-launch token (/?token=...)';

/** Headers on every answer: the page's CSP, no MIME sniffing, and no Referer, so the token in the
 * page's URL is never sent anywhere. */
const COMMON_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

type Refusal = { status: number; message: string };

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

export interface ServeOptions {
  port: number;
  /** The IP address to bind; 127.0.0.1 when absent. Any address needs the token (always on). */
  host?: string;
  dbPath: string;
  rendererDir?: string;
  /** Another backend worker script (tests: a stand-in that crashes on cue). */
  workerPath?: string;
}

export async function startHarness(options: ServeOptions) {
  const address = options.host ?? '127.0.0.1';
  const files = listStaticFiles(options.rendererDir ?? join(packageRoot(), 'out', 'renderer'));
  // The backend worker is replaced if it ever stops by itself: its clients' sockets are closed
  // (1011, the page says the connection was lost) rather than left waiting, and new ones reach
  // the new worker.
  const sockets = new Set<WebSocket>();
  let closing = false;
  /** The server's own connection to the backend, for the job list and cancels at shutdown. */
  let control: { api: Api & { dispose(): void; failAll(error: ApiError): void }; close(): void } | undefined;
  const watch = (worker: BackendWorker) =>
    worker.onExit((error) => {
      if (closing) return;
      console.error(`serve: ${error.message}; starting a new backend`);
      for (const ws of sockets) ws.close(1011, 'the backend stopped; reload the page');
      // Its calls would wait forever on the stopped worker: they fail typed, the next opens anew.
      control?.api.failAll(error);
      control = undefined;
      backend = startBackendWorker(options.dbPath, options.workerPath).then((next) => (watch(next), next));
    });
  let backend: Promise<BackendWorker> = startBackendWorker(options.dbPath, options.workerPath).then((worker) => (watch(worker), worker));
  await backend;
  const token = newToken();
  const bound: Bound = { address, port: 0 };
  /** Set by drain(): no new page, API connection or job is accepted; running jobs go on. */
  let draining = false;
  const hostHint = () =>
    isWildcard(address) ? `an IP address or localhost with port ${bound.port}` : isLoopback(address) ? `${urlHost(address)}:${bound.port}, 127.0.0.1:${bound.port} or localhost:${bound.port}` : `${urlHost(address)}:${bound.port}`;

  /** The checks every request passes, page or API, in the order that leaks least. */
  const refuse = (req: IncomingMessage, api: boolean): Refusal | { path: string; query: URLSearchParams } => {
    if (!hostAllowed(req.headers.host, bound)) return { status: 403, message: `the server answers only to Host ${hostHint()}` };
    const target = parseTarget(req.url);
    if (!target) return { status: 400, message: 'the request URL is not a valid percent-encoded path' };
    if (draining) return { status: 503, message: 'the server is shutting down' };
    if (!api) return target;
    if (target.path !== '/api') return { status: 404, message: 'not found' };
    // Browsers cannot set Authorization on a WebSocket and always send Origin: a Bearer request is
    // a script, whose Origin (if any) must still be the page's; a browser's must be.
    const bearer = bearerToken(req.headers.authorization);
    if ((req.headers.origin !== undefined || bearer === undefined) && !originAllowed(req.headers.origin, req.headers.host, bound)) {
      return { status: 403, message: 'WebSocket connections are accepted only from the page itself' };
    }
    if (!tokenMatches(token, target.query.get('token') ?? bearer)) return { status: 401, message: `missing or wrong token: ${NO_TOKEN}` };
    return target;
  };

  const answer = (res: ServerResponse, { status, message }: Refusal) =>
    res.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${status} ${message}\n`);

  const serveFile = async (req: IncomingMessage, res: ServerResponse) => {
    const target = refuse(req, false);
    if ('status' in target) return answer(res, target);
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, { status: 405, message: 'only GET and HEAD' });
    if (target.path === '/api') return answer(res, { status: 426, message: 'the API is a WebSocket' });
    const path = target.path === '/' ? '/index.html' : target.path;
    const entry = files.get(path);
    if (!entry) return answer(res, { status: 404, message: 'not found' });
    // The page is the door to the API, so it is shown only with the token; its scripts and
    // styles are the public build and carry no secret.
    if (path === '/index.html' && !tokenMatches(token, target.query.get('token'))) return answer(res, { status: 401, message: NO_TOKEN });
    let body: Buffer;
    try {
      body = await readFile(entry.file);
    } catch {
      return answer(res, { status: 404, message: 'not found' });
    }
    res.writeHead(200, { ...COMMON_HEADERS, 'Content-Type': entry.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((req, res) => {
    serveFile(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  // Text frames are checked for UTF-8 by frames.ts (answered, not closed); no compression, so a
  // small frame cannot inflate into a large message.
  const wss = new WebSocketServer({ noServer: true, maxPayload: FRAME_LIMIT_BYTES, skipUTF8Validation: true, perMessageDeflate: false });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node removes its own error handler from upgraded sockets; a reset here must not throw.
    socket.on('error', () => socket.destroy());
    const target = refuse(req, true);
    if ('status' in target) {
      const body = `${target.status} ${target.message}\n`;
      socket.end(
        `HTTP/1.1 ${target.status} ${STATUS_TEXT[target.status]}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => void relay(ws));
  });

  const relay = async (ws: WebSocket) => {
    sockets.add(ws);
    let connection: ReturnType<BackendWorker['open']>;
    try {
      connection = (await backend).open();
    } catch (error) {
      sockets.delete(ws);
      ws.close(1011, `the backend could not start: ${(error as Error).message.slice(0, 80)}`);
      return;
    }
    const reply = (message: WireMessage) => {
      let text: string;
      try {
        text = JSON.stringify(message);
      } catch (error) {
        // A value JSON cannot carry (a BigInt, a cycle): the caller still gets a typed answer.
        if (message.kind !== 'result') return;
        text = JSON.stringify({ kind: 'result', id: message.id, ok: false, error: { code: 'INTERNAL', message: `internal error: the result cannot be sent as JSON (${(error as Error).message.slice(0, 120)})` } } satisfies WireMessage);
      }
      ws.send(text);
    };
    const stop = connection.onMessage(reply);
    ws.on('message', (data, isBinary) => {
      const read = readFrame(asBuffer(data), isBinary);
      if ('reply' in read) return reply(read.reply);
      const { id, method } = read.call;
      if ((shellMethods as string[]).includes(method)) {
        return reply({ kind: 'result', id, ok: false, error: { code: 'NOT_AVAILABLE', message: `${method} needs the desktop app; type a path instead` } });
      }
      if (draining && (jobMethods as string[]).includes(method)) {
        return reply({ kind: 'result', id, ok: false, error: { code: 'NOT_AVAILABLE', message: `${method}: the server is shutting down and starts no new job` } });
      }
      try {
        connection.send(read.call);
      } catch (error) {
        // postMessage refused to clone the argument: the backend never saw it.
        reply({ kind: 'result', id, ok: false, error: { code: 'INVALID_ARGUMENT', message: `${method.slice(0, 80)}: the argument cannot be sent to the backend (${(error as Error).message.slice(0, 120)})` } });
      }
    });
    // ws has already closed the connection (1009 for a frame over FRAME_LIMIT_BYTES); without a
    // listener the error would end the process.
    ws.on('error', (error) => console.error(`serve: closed a connection: ${error.message}`));
    ws.on('close', () => {
      sockets.delete(ws);
      stop();
      connection.close();
    });
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject); // EADDRINUSE, a bad --port: a one-line error, not a stack
      server.listen(options.port, address, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    closing = true;
    await (await backend).terminate();
    throw error;
  }
  bound.port = (server.address() as { port: number }).port;
  // A wildcard bind is reached locally at 127.0.0.1; from elsewhere at the machine's address.
  const origin = `http://${isWildcard(address) ? '127.0.0.1' : urlHost(address)}:${bound.port}`;
  // server.close() calls back once, when the last connection has ended (an open WebSocket too).
  let listening: Promise<void> | undefined;
  const stopListening = () => (listening ??= new Promise<void>((resolve) => server.close(() => resolve())));
  const controlApi = async (): Promise<Api> => {
    if (!control) {
      const connection = (await backend).open();
      control = { api: createApi(connection), close: () => connection.close() };
    }
    return control.api;
  };
  return {
    /** The page, with the token: what a person opens. */
    url: `${origin}/?token=${token}`,
    origin,
    token,
    address,
    port: bound.port,
    /** The WebSocket endpoint with the token; connect with Origin set to `origin`. */
    apiUrl: `ws://${origin.slice('http://'.length)}/api?token=${token}`,
    /** A typed client of the same backend the pages use. */
    backendApi: controlApi,
    /** Stops taking pages, connections and new jobs; open connections keep their running jobs'
     * progress and results. */
    drain() {
      draining = true;
      void stopListening();
      server.closeIdleConnections();
    },
    async close() {
      draining = true;
      control?.api.dispose();
      control?.close();
      wss.clients.forEach((c) => c.terminate());
      await stopListening();
      closing = true;
      await (await backend).terminate();
    },
  };
}

// out/main/harness.js run by itself is `linguascope serve` (the harness became served mode).
const isEntry = process.argv[1] && /harness\.(js|ts)$/.test(process.argv[1]);
if (isEntry) void import('./serve-process').then((m) => m.serveFromArgv(process.argv.slice(2)));

// Served mode (`linguascope serve`, from the build: out/main/cli.js) as its own process, and a raw
// WebSocket client that sends any bytes and records every answer: what a hostile local program would do.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import type { WireMessage } from '../../src/shared/rpc';

const ROOT = join(import.meta.dirname, '..', '..');

export interface HarnessProcess {
  child: ChildProcess;
  /** The printed URL, token included. */
  url: string;
  origin: string;
  token: string;
  port: number;
  /** Everything the process wrote to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** The built CLI; LINGUASCOPE_CLI_JS runs another build (e.g. a copy of out/ that a parallel build
 * cannot change under a running test). */
export const CLI_JS = process.env.LINGUASCOPE_CLI_JS ?? join(ROOT, 'out', 'main', 'cli.js');

/** `serve --port 0 --db dbPath` plus `extraArgs` (e.g. `--host 127.0.0.2`), once it printed its URL. */
export function startHarnessProcess(dbPath: string, extraArgs: string[] = []): Promise<HarnessProcess> {
  const child = spawn(process.execPath, [CLI_JS, 'serve', '--port', '0', '--db', dbPath, ...extraArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 60 s; stderr: ${err}`)), 60_000);
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing its URL; stderr: ${err}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      // The one line serve prints: http://ADDRESS:PORT/?token=TOKEN
      const match = /^(http:\/\/([0-9.]+|\[[0-9a-f:]+\]):(\d+)\/\?token=([A-Za-z0-9_-]+))\n/m.exec(out);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        child,
        stdout: () => out,
        url: match[1],
        origin: `http://${match[2]}:${match[3]}`,
        token: match[4],
        port: Number(match[3]),
        stderr: () => err,
        alive: () => child.exitCode === null && child.signalCode === null,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

type Answer = Exclude<WireMessage, { kind: 'call' }>;

/** A WebSocket to /api that records every message and the close code. */
export class RawClient {
  readonly messages: Answer[] = [];
  closeCode: number | undefined;
  private waiters: { test: (m: Answer) => boolean; resolve: (m: Answer) => void }[] = [];
  private nextId = 1_000_000;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Answer;
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => (w.test(message) ? (w.resolve(message), false) : true));
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => {});
  }

  static open(url: string, origin: string): Promise<RawClient> {
    const ws = new WebSocket(url, { origin });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new RawClient(ws)));
      ws.once('error', reject);
    });
  }

  /** The first recorded or future message passing `test`. */
  next(test: (m: Answer) => boolean, timeoutMs = 30_000): Promise<Answer> {
    const seen = this.messages.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ test, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Messages that arrive after now. */
  after(): { next(test: (m: Answer) => boolean, timeoutMs?: number): Promise<Answer> } {
    const from = this.messages.length;
    return {
      next: (test, timeoutMs) => this.next((m) => this.messages.indexOf(m) >= from && test(m), timeoutMs),
    };
  }

  /** Sends a well-formed call and resolves with its result message. */
  call(method: string, arg: unknown, timeoutMs?: number): Promise<Extract<Answer, { kind: 'result' }>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ kind: 'call', id, method, arg }));
    return this.next((m) => m.kind === 'result' && m.id === id, timeoutMs) as Promise<Extract<Answer, { kind: 'result' }>>;
  }

  send(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  closed(timeoutMs = 30_000): Promise<number> {
    if (this.closeCode !== undefined) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the connection stayed open')), timeoutMs);
      this.ws.once('close', (code) => (clearTimeout(timer), resolve(code)));
    });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The HTTP status a WebSocket upgrade gets, or 101 when it is accepted. */
export function upgradeStatus(url: string, options: { origin?: string; headers?: Record<string, string> }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

// `linguascope serve` as a process (out/main/cli.js, built by `npx electron-vite build`): the one
// URL line, who may connect (token in the query or a Bearer header, own Origin, own Host), another
// bind address (a second loopback address only: tests never bind a non-loopback one), and the
// shutdown that cancels nothing silently (the first signal waits for running jobs, the second
// cancels them).
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoInfo } from '../../src/shared/dto';
import { CLI_JS, type HarnessProcess, RawClient, startHarnessProcess, upgradeStatus } from '../helpers/harness-process';
import { tempDir } from '../helpers/temp';

function exited(h: HarnessProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (!h.alive()) return Promise.resolve({ code: h.child.exitCode, signal: h.child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not exit in ${timeoutMs} ms; stderr: ${h.stderr()}`)), timeoutMs);
    h.child.once('exit', (code, signal) => (clearTimeout(timer), resolve({ code, signal })));
  });
}

async function until(test: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a TCP connection to the port is accepted at all. */
function tcpOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => (socket.destroy(), resolve(true)));
    socket.on('error', () => resolve(false));
  });
}

const stderrLines = (h: HarnessProcess) => h.stderr().split('\n').filter((l) => l && !l.startsWith('linguascope: building'));

describe('linguascope serve: access', () => {
  const tmp = tempDir();
  let h: HarnessProcess;
  let apiBase: string;

  beforeAll(async () => {
    h = await startHarnessProcess(join(tmp.dir, 'serve.db'));
    apiBase = `ws://127.0.0.1:${h.port}/api`;
  }, 90_000);

  afterAll(async () => {
    await h?.stop();
    tmp.cleanup();
  });

  it('prints exactly one line: the URL with a 256-bit token, on 127.0.0.1 and the chosen port', () => {
    expect(h.stdout()).toBe(`http://127.0.0.1:${h.port}/?token=${h.token}\n`);
    expect(h.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(h.port).toBeGreaterThan(0);
  });

  it('refuses an API connection without the token, with a foreign Origin or with a foreign Host', async () => {
    expect(await upgradeStatus(apiBase, { origin: h.origin })).toBe(401);
    expect(await upgradeStatus(`${apiBase}?token=wrong`, { origin: h.origin })).toBe(401);
    expect(await upgradeStatus(`${apiBase}?token=${h.token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${apiBase}?token=${h.token}`, { origin: h.origin, headers: { host: `evil.example:${h.port}` } })).toBe(403);
    expect(await upgradeStatus(`${apiBase}?token=${h.token}`, { origin: h.origin })).toBe(101);
  });

  it('accepts the token as an Authorization: Bearer header (scripts), still checking Origin when one is sent', async () => {
    const bearer = { authorization: `Bearer ${h.token}` };
    expect(await upgradeStatus(apiBase, { headers: bearer })).toBe(101);
    expect(await upgradeStatus(apiBase, { origin: h.origin, headers: bearer })).toBe(101);
    expect(await upgradeStatus(apiBase, { origin: 'http://evil.example', headers: bearer })).toBe(403);
    expect(await upgradeStatus(apiBase, { headers: { authorization: 'Bearer wrong' } })).toBe(401);
    expect(await upgradeStatus(apiBase, { headers: { authorization: `Basic ${h.token}` } })).toBe(403);
    expect(await upgradeStatus(apiBase, { headers: { ...bearer, host: `evil.example:${h.port}` } })).toBe(403);
    // A Bearer connection is a full client of the backend.
    const ws = new WebSocket(apiBase, { headers: bearer });
    await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
    ws.send(JSON.stringify({ kind: 'call', id: 1, method: 'app.info', arg: {} }));
    const answer = JSON.parse(String(await new Promise((resolve) => ws.once('message', resolve)))) as { ok: boolean; value: { version: string } };
    ws.terminate();
    expect(answer.ok).toBe(true);
    expect(answer.value.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('refuses bad options and turning the token off in one line, exit 2, before binding anything', () => {
    for (const [args, message] of [
      [['--port', 'abc'], /--port must be a port number/],
      [['--port', '65536'], /--port must be a port number/],
      [['--port', '-1'], /--port/],
      [['--host', 'gpu-box.example'], /--host must be an IP address/],
      [['--host', ''], /--host must be an IP address/],
      [['--no-token'], /the access token cannot be turned off/],
      [['--host', '0.0.0.0', '--no-token'], /the access token cannot be turned off/],
      [['extra'], /serve takes no positional arguments/],
    ] as const) {
      const run = spawnSync(process.execPath, [CLI_JS, 'serve', ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim()).toMatch(new RegExp(`^linguascope: [^\\n]*${message.source}[^\\n]*$`));
    }
  });
});

describe('linguascope serve --host: another bind address, token on', () => {
  const tmp = tempDir();
  let h: HarnessProcess | undefined;
  afterAll(async () => {
    await h?.stop();
    tmp.cleanup();
  });

  it('binds 127.0.0.2 (a loopback address), prints it, serves it only with the token and the right Host', async () => {
    h = await startHarnessProcess(join(tmp.dir, 'other.db'), ['--host', '127.0.0.2']);
    expect(h.stdout()).toBe(`http://127.0.0.2:${h.port}/?token=${h.token}\n`);
    expect(h.origin).toBe(`http://127.0.0.2:${h.port}`);
    // Bound to 127.0.0.2 only: 127.0.0.1 at that port is not this server.
    expect(await tcpOpen('127.0.0.1', h.port)).toBe(false);
    const api = `ws://127.0.0.2:${h.port}/api`;
    expect(await upgradeStatus(api, { origin: h.origin })).toBe(401);
    expect(await upgradeStatus(`${api}?token=${h.token}`, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(`${api}?token=${h.token}`, { origin: `http://gpu.example:${h.port}`, headers: { host: `gpu.example:${h.port}` } })).toBe(403);
    expect(await upgradeStatus(`${api}?token=${h.token}`, { origin: h.origin })).toBe(101);
    // Through a tunnel the browser names localhost: accepted for a loopback bind.
    expect(await upgradeStatus(`${api}?token=${h.token}`, { origin: `http://localhost:${h.port}`, headers: { host: `localhost:${h.port}` } })).toBe(101);
    const client = await RawClient.open(`${api}?token=${h.token}`, h.origin);
    const info = await client.call('app.info', {});
    client.close();
    expect(info.ok).toBe(true);
  }, 90_000);
});

describe('linguascope serve: SIGINT/SIGTERM cancel nothing silently', () => {
  const tmp = tempDir();
  const started: HarnessProcess[] = [];
  afterAll(async () => {
    for (const h of started) if (h.alive()) h.child.kill('SIGKILL');
    tmp.cleanup();
  });

  /** A served process with a client that started the demo analysis (`limit` segments, the demo's
   * languages or `languages`) as `jobId`,
   * returned once the job has reported progress. */
  async function withRunningJob(name: string, jobId: string, limit: number, languages?: string[]) {
    const h = await startHarnessProcess(join(tmp.dir, `${name}.db`));
    started.push(h);
    const client = await RawClient.open(`ws://127.0.0.1:${h.port}/api?token=${h.token}`, h.origin);
    const info = await client.call('demo.info', {});
    if (!info.ok) throw new Error(info.error.message);
    const demo = info.value as DemoInfo;
    const progress = client.next((m) => m.kind === 'event' && m.name === 'progress' && (m.payload as { jobId?: string }).jobId === jobId, 120_000);
    const result = client.call('analysis.run', { model: demo.model, saes: demo.saes, languages: languages ?? demo.languages, corpus: 'udhr', limit, settings: demo.settings, jobId }, 600_000);
    await progress;
    return { h, client, result };
  }

  it('the first SIGTERM reports the running job, starts nothing new, waits for it; the page gets its result; exit 0', async () => {
    const { h, client, result } = await withRunningJob('wait', 'wait-job', 3, ['en', 'hi']);
    h.child.kill('SIGTERM');
    await until(() => /waiting for 1 running job/.test(h.stderr()), 'the waiting line');
    const lines = stderrLines(h);
    expect(lines[0]).toMatch(/^serve: SIGTERM: waiting for 1 running job to finish \(send SIGTERM again, e\.g\. Ctrl\+C, to cancel it\):$/);
    expect(lines[1]).toMatch(/^ {2}wait-job {2}analysis\.run .* — \S+ \d+\/\d+/);
    // Draining: no new connection, no new job on an open one; quick calls still answered.
    expect(await tcpOpen('127.0.0.1', h.port)).toBe(false);
    const refused = await client.call('fertility.run', { languages: ['en'] });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.error.code).toBe('NOT_AVAILABLE');
    expect((await client.call('languages.list', {})).ok).toBe(true);
    expect(h.alive()).toBe(true);
    const answer = await result;
    expect(answer.ok, JSON.stringify(answer).slice(0, 300)).toBe(true);
    expect(await exited(h, 60_000)).toEqual({ code: 0, signal: null });
    expect(stderrLines(h).slice(-2)).toEqual(['serve: job wait-job ended', 'serve: every job ended; stopped']);
  }, 600_000);

  it('a second SIGINT cancels the running job (one line), its caller gets CANCELLED, exit 130', async () => {
    const { h, result } = await withRunningJob('cancel', 'long-job', 200);
    h.child.kill('SIGINT');
    await until(() => /waiting for 1 running job/.test(h.stderr()), 'the waiting line');
    h.child.kill('SIGINT');
    const answer = await result;
    expect(answer.ok).toBe(false);
    expect(!answer.ok && answer.error.code).toBe('CANCELLED');
    expect(await exited(h, 60_000)).toEqual({ code: 130, signal: null });
    const lines = stderrLines(h);
    expect(lines).toContain('serve: cancelled long-job (analysis.run)');
    expect(lines.at(-1)).toBe('serve: job long-job ended');
  }, 600_000);

  it('with no job running, one SIGTERM stops at once with exit 0', async () => {
    const h = await startHarnessProcess(join(tmp.dir, 'idle.db'));
    started.push(h);
    h.child.kill('SIGTERM');
    expect(await exited(h, 30_000)).toEqual({ code: 0, signal: null });
    expect(stderrLines(h)).toEqual(['serve: SIGTERM: no job is running; stopped']);
  }, 90_000);
});

// serve's shutdown against a stand-in backend worker, with the signals emitted in-process: a job
// list that cannot be read while waiting ends the process with exit 1 and says so (it must not
// claim that every job ended). The real flows (wait, cancel) are in test/e2e/serve.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { describeJob, parseServeOptions, runServe, ServeSetupError } from './serve-process';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const RUNNING = {
  jobId: 'j1', method: 'analysis.run', summary: '10 languages, limit 4', state: 'running', progress: { stage: 'extracting', done: 3, total: 40 },
  startedAt: '2026-01-01T00:00:00Z', finishedAt: null, ownerRun: null, clients: 1, joined: 0, cancelRequested: false, outcome: null,
};

/** jobs.list answers one running job the first time; the second call crashes the worker. */
function flakyWorker(): string {
  const file = join(tmp.dir, 'flaky.mjs');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
let calls = 0;
parentPort.postMessage({ ready: true });
parentPort.on('message', (envelope) => {
  const m = envelope.message;
  if (!m || m.kind !== 'call') return;
  if (m.method === 'jobs.list' && ++calls === 1) parentPort.postMessage({ conn: envelope.conn, message: { kind: 'result', id: m.id, ok: true, value: [${JSON.stringify(RUNNING)}] } });
  else process.exit(7);
});
`,
  );
  return file;
}

describe('serve shutdown', () => {
  it('a job list that fails while waiting: exit 1, said on stderr', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const done = runServe({ port: 0, host: '127.0.0.1', dbPath: join(tmp.dir, 'x.db'), workerPath: flakyWorker() }, { out: (l) => out.push(l), err: (l) => err.push(l) });
    await expect.poll(() => out.length).toBe(1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await done).toBe(1);
    expect(out[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    expect(err[0]).toBe('serve: SIGTERM: waiting for 1 running job to finish (send SIGTERM again, e.g. Ctrl+C, to cancel it):');
    expect(err[1]).toBe('  j1  analysis.run 10 languages, limit 4 — extracting 3/40');
    expect(err.at(-1)).toMatch(/^serve: the backend could not list its jobs \(.*exit code 7.*\); stopping$/);
    expect(err.join('\n')).not.toMatch(/every job ended/);
    expect(process.listenerCount('SIGTERM')).toBe(0);
  }, 30_000);
});

describe('serve options', () => {
  it('take ports 0..65535 and IP addresses (localhost as 127.0.0.1); refuse the rest by class', () => {
    expect(parseServeOptions({ db: join(tmp.dir, 'a.db') })).toMatchObject({ port: 5317, host: '127.0.0.1' });
    expect(parseServeOptions({ port: '0', host: 'LOCALHOST', db: join(tmp.dir, 'a.db') })).toMatchObject({ port: 0, host: '127.0.0.1' });
    expect(parseServeOptions({ port: '65535', host: '::1', db: join(tmp.dir, 'a.db') })).toMatchObject({ port: 65535, host: '::1' });
    for (const port of ['', '-1', '65536', '1e3', '0x10', ' 80', '80 ', '999999', '８０']) {
      expect(() => parseServeOptions({ port }), port).toThrow(ServeSetupError);
    }
    for (const host of ['', 'gpu-box', 'evil.example', '127.0.0.1:80', '[::1]', '256.0.0.1', '127.1', 'http://127.0.0.1']) {
      expect(() => parseServeOptions({ host }), host).toThrow(ServeSetupError);
    }
  });

  it('job lines are one line whatever the summary holds', () => {
    const line = describeJob({ ...RUNNING, summary: 'a\nforged line\r\u001b[2J' } as never);
    expect(line).not.toMatch(/[\n\r\u001b]/);
    expect(describeJob({ ...RUNNING, progress: null } as never)).toMatch(/not started yet$/);
  });
});

// The served mode's own connection to the backend (job list and cancels at shutdown) must follow a
// replaced backend worker: a worker that dies fails that connection's pending call typed, and the
// next call reaches the new worker instead of waiting forever on the stopped one.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { tempDir } from '../../../test/helpers/temp';
import { startHarness } from './server';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A stand-in backend worker speaking the multiplexed protocol: `jobs.list` answers [], any other
 * call crashes the worker (as a backend bug would). */
function standInWorker(): string {
  const file = join(tmp.dir, 'stand-in.mjs');
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ ready: true });
parentPort.on('message', (envelope) => {
  const m = envelope.message;
  if (!m || m.kind !== 'call') return;
  if (m.method === 'jobs.list') parentPort.postMessage({ conn: envelope.conn, message: { kind: 'result', id: m.id, ok: true, value: [] } });
  else process.exit(7);
});
`,
  );
  return file;
}

it('after the backend worker is replaced, the job list comes from the new worker', async () => {
  const server = await startHarness({ port: 0, dbPath: join(tmp.dir, 'x.db'), rendererDir: join(tmp.dir, 'no-renderer'), workerPath: standInWorker() });
  try {
    const api = await server.backendApi();
    expect(await api.jobs.list({})).toEqual([]);
    const crash = await api.app.info({}).then(
      () => null,
      (e: unknown) => e,
    );
    expect(crash).toBeInstanceOf(ApiError);
    expect((crash as ApiError).message).toMatch(/backend stopped unexpectedly \(exit code 7\)/);
    const next = await server.backendApi();
    expect(next).not.toBe(api);
    expect(await next.jobs.list({})).toEqual([]);
  } finally {
    await server.close();
  }
}, 30_000);

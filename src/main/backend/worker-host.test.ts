// A backend worker that dies after it said it was ready (an uncaught error, an out-of-memory
// abort) must not leave its clients waiting forever: every pending call gets a typed error.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createApi } from '../../shared/client';
import { ApiError } from '../../shared/errors';
import { tempDir } from '../../../test/helpers/temp';
import { startBackendWorker } from './worker-host';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A stand-in worker: ready at once, then it crashes on the first call (as a backend bug would). */
function crashingWorker(how: 'throw' | 'exit'): string {
  const file = join(tmp.dir, `crash-${how}.mjs`);
  writeFileSync(
    file,
    `import { parentPort } from 'node:worker_threads';
parentPort.postMessage({ ready: true });
parentPort.on('message', () => { ${how === 'throw' ? "setTimeout(() => { throw new Error('boom in the backend'); });" : 'process.exit(7);'} });
`,
  );
  return file;
}

it.each(['throw', 'exit'] as const)('a worker that dies (%s) fails the pending call with a typed error', async (how) => {
  const worker = await startBackendWorker(join(tmp.dir, 'x.db'), crashingWorker(how));
  const api = createApi(worker.open());
  const exited = new Promise<ApiError>((resolve) => worker.onExit(resolve));
  worker.onExit((error) => api.failAll(error));
  const call = api.languages.list({});
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).message).toMatch(how === 'throw' ? /backend stopped unexpectedly \(exit code 1: boom in the backend\)/ : /backend stopped unexpectedly \(exit code 7\)/);
  expect((await exited).code).toBe('INTERNAL');
  api.dispose();
  await worker.terminate();
});

it('a worker that ends before it is ready rejects the start', async () => {
  const file = join(tmp.dir, 'early.mjs');
  writeFileSync(file, 'process.exit(3);\n');
  await expect(startBackendWorker(join(tmp.dir, 'y.db'), file)).rejects.toThrow(/stopped before it was ready \(exit code 3\)/);
});

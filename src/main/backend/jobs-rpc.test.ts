// Jobs over the whole RPC stack with real work: several connections (tabs) to one real backend on
// a real SQLite file, running fertility with the real tokenizer worker. Identical requests join one
// job, a closed connection's job runs on and is listed, attached and cancelled from another.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { createApi, createRpcClient, type Api } from '../../shared/client';
import type { FertilityResult, JobsChangedEvent, ProgressEvent } from '../../shared/dto';
import { createTransportPair } from '../../shared/rpc';
import { createBackend, type Backend } from './backend';
import { serveConnection } from './server';
import { rejection } from '../../../test/helpers/rejection';

const PAPER = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];
const tmp = tempDir();

interface Tab {
  api: Api & { dispose(): void };
  raw: ReturnType<typeof createRpcClient>;
  /** Closes the connection as a closed tab does (the backend stops serving it). */
  close(): void;
}

function open(backend: Backend): Tab {
  const [client, server] = createTransportPair();
  const stop = serveConnection(server, backend.handlers, backend.jobs);
  return { api: createApi(client), raw: createRpcClient(client), close: () => (stop(), undefined) };
}

function progressOf(api: Api, jobId: string): string[] {
  const seen: string[] = [];
  api.on('progress', (p: ProgressEvent) => p.jobId === jobId && seen.push(`${p.stage} ${p.done}/${p.total}`));
  return seen;
}

describe('jobs over the RPC stack (real backend, SQLite, tokenizer worker)', () => {
  const backends: Backend[] = [];
  const fresh = (name: string) => {
    const b = createBackend({ dbPath: join(tmp.dir, `${name}.db`) });
    backends.push(b);
    return b;
  };
  afterAll(async () => {
    for (const b of backends) await b.close();
    tmp.cleanup();
  });

  it('two tabs asking for the same fertility run get one job, the same progress and the same result', async () => {
    const backend = fresh('join');
    const [a, b] = [open(backend), open(backend)];
    const changes: JobsChangedEvent[] = [];
    b.api.on('jobs', (e) => changes.push(e));
    const seenA = progressOf(a.api, 'tab-a');
    const seenB = progressOf(b.api, 'tab-b');
    const [ra, rb] = await Promise.all([
      a.api.fertility.run({ languages: PAPER, jobId: 'tab-a' }),
      // Same languages, keys in another order: the same request.
      b.raw.invoke('fertility.run', { jobId: 'tab-b', languages: PAPER }) as Promise<FertilityResult>,
    ]);
    expect(rb).toEqual(ra);
    // Computed once: a second job would have found every language in the cache.
    expect(ra.computed).toEqual(PAPER);
    const list = await b.api.jobs.list({});
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ jobId: 'tab-a', method: 'fertility.run', state: 'done', joined: 1 });
    expect(list[0].summary).toContain('languages=en zh ru es it id ca mr ml hi');
    expect(seenA.filter((s) => s.startsWith('tokenizing'))).toEqual(PAPER.map((_, i) => `tokenizing ${i + 1}/10`));
    expect(seenB.filter((s) => s.startsWith('tokenizing'))).toEqual(seenA.filter((s) => s.startsWith('tokenizing')));
    // The other tab was told when it started, was joined and ended (not on every progress event).
    expect(changes.map((c) => c.state)).toEqual(['running', 'running', 'done']);
    // A third identical request after the end is a new job (served from the cache).
    const again = await a.api.fertility.run({ languages: PAPER });
    expect(again.fromCache).toEqual(PAPER);
    expect((await a.api.jobs.list({})).filter((j) => j.method === 'fertility.run')).toHaveLength(2);
    a.close();
    b.close();
  }, 120_000);

  it("a closed tab's job runs on, is listed in another tab, and another tab can attach to it", async () => {
    const backend = fresh('orphan');
    const closing = open(backend);
    const other = open(backend);
    const started = new Promise<void>((resolve) => closing.api.on('progress', (p) => p.stage === 'tokenizing' && resolve()));
    const lost = closing.api.fertility.run({ languages: PAPER, jobId: 'orphan' });
    lost.catch(() => undefined);
    await started;
    closing.close();
    const listed = (await other.api.jobs.list({})).find((j) => j.jobId === 'orphan');
    expect(listed).toMatchObject({ state: 'running', method: 'fertility.run' });
    const seen = progressOf(other.api, 'orphan');
    const result = (await other.api.jobs.attach({ jobId: 'orphan' })) as FertilityResult;
    expect(result.rows.map((r) => r.language)).toEqual(PAPER);
    expect(result.computed).toEqual(PAPER);
    // The attach replayed the latest progress at once, then streamed the rest.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toMatch(/ 10\/10$/);
    expect((await other.api.jobs.list({})).find((j) => j.jobId === 'orphan')).toMatchObject({ state: 'done', clients: 0, outcome: { ok: true } });
    // Attaching after the end answers the stored outcome.
    expect(await other.api.jobs.attach({ jobId: 'orphan' })).toEqual(result);
    other.close();
  }, 120_000);

  it("a closed tab's job is cancellable from another tab; cancel after the end says the state", async () => {
    const backend = fresh('cancel');
    const closing = open(backend);
    const other = open(backend);
    const started = new Promise<void>((resolve) => closing.api.on('progress', (p) => p.stage === 'tokenizing' && resolve()));
    void closing.api.fertility.run({ languages: PAPER, jobId: 'to-cancel' }).catch(() => undefined);
    await started;
    closing.close();
    const attached = other.api.jobs.attach({ jobId: 'to-cancel' });
    expect(await other.api.jobs.cancel({ jobId: 'to-cancel' })).toEqual({ cancelled: true, state: 'running' });
    expect((await rejection(attached)).code).toBe('CANCELLED');
    expect((await other.api.jobs.list({}))[0]).toMatchObject({ jobId: 'to-cancel', state: 'cancelled', outcome: { ok: false, error: { code: 'CANCELLED' } } });
    expect(await other.api.jobs.cancel({ jobId: 'to-cancel' })).toEqual({ cancelled: false, state: 'cancelled' });
    expect(backend.jobs.size).toBe(0);
    other.close();
  }, 120_000);

  it('answers bad job ids and bad jobs.* arguments with typed errors and keeps serving', async () => {
    const backend = fresh('hostile');
    const tab = open(backend);
    const cases: [string, unknown, string][] = [
      ['jobs.attach', { jobId: 'never-issued' }, 'JOB_NOT_FOUND'],
      ['jobs.cancel', { jobId: 'never-issued' }, 'JOB_NOT_FOUND'],
      ['jobs.attach', { jobId: '__proto__' }, 'JOB_NOT_FOUND'],
      ['jobs.cancel', { jobId: 'constructor' }, 'JOB_NOT_FOUND'],
      ['jobs.attach', { jobId: '' }, 'INVALID_ARGUMENT'],
      ['jobs.attach', { jobId: 'j'.repeat(65) }, 'INVALID_ARGUMENT'],
      ['jobs.attach', {}, 'INVALID_ARGUMENT'],
      ['jobs.attach', { jobId: 7 }, 'INVALID_ARGUMENT'],
      ['jobs.cancel', { jobId: ['a'] }, 'INVALID_ARGUMENT'],
      ['jobs.list', { all: true }, 'INVALID_ARGUMENT'],
      ['jobs.list', 'everything', 'INVALID_ARGUMENT'],
    ];
    for (const [method, arg, code] of cases) {
      const error = await rejection(tab.raw.invoke(method as 'jobs.list', arg));
      expect(error.code, `${method} ${JSON.stringify(arg)}`).toBe(code);
    }
    expect((await rejection(tab.api.jobs.attach({ jobId: 'never-issued' }))).details).toEqual({ jobId: 'never-issued' });
    // A requested id that names a running job doing other work is refused; the job is untouched.
    const running = tab.api.fertility.run({ languages: ['en', 'hi'], jobId: 'busy' });
    const clash = await rejection(tab.api.fertility.run({ languages: ['en', 'ml'], jobId: 'busy' }));
    expect(clash.code).toBe('INVALID_ARGUMENT');
    expect(clash.message).toContain('"busy" is already running');
    expect((await running).rows.map((r) => r.language)).toEqual(['en', 'hi']);
    expect(await tab.api.jobs.list({})).toHaveLength(1);
    tab.close();
  }, 120_000);
});

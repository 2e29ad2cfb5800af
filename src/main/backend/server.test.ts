// The whole RPC stack in one process: typed client -> in-memory transport pair -> server ->
// real handlers, real SQLite file, real tokenizer.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { createApi, createRpcClient, type Api } from '../../shared/client';
import type { ProgressEvent } from '../../shared/dto';
import { createTransportPair, type WireMessage } from '../../shared/rpc';
import { createBackend, type Backend } from './backend';
import { serveConnection } from './server';
import { rejection } from '../../../test/helpers/rejection';

const tmp = tempDir();

function connect(dbName: string): { api: Api & { dispose(): void }; backend: Backend; raw: ReturnType<typeof createRpcClient> } {
  const backend = createBackend({ dbPath: join(tmp.dir, dbName) });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const [rawClient, rawServer] = createTransportPair();
  serveConnection(rawServer, backend.handlers, backend.jobs);
  return { api: createApi(client), backend, raw: createRpcClient(rawClient) };
}

function tableCounts(backend: Backend): Record<string, number> {
  const tables = backend.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
  return Object.fromEntries(tables.map(({ name }) => [name, (backend.db.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n]));
}

const PAPER = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];

describe('backend over the RPC stack', () => {
  const main = connect('main.db');
  afterAll(() => {
    main.api.dispose();
    main.backend.close();
    tmp.cleanup();
  });

  it('serves the contract', async () => {
    expect((await main.api.languages.list({})).map((l) => l.code)).toEqual(PAPER);
    expect((await main.api.app.info({})).dbPath).toBe(join(tmp.dir, 'main.db'));
  });

  it('validates every payload and answers with typed errors', async () => {
    const badTier = await rejection(main.api.languages.setTier({ code: 'en', tier: 'bogus' as 'high' }));
    expect(badTier.code).toBe('INVALID_ARGUMENT');
    expect(badTier.message).toContain('tier');
    expect((await rejection(main.raw.invoke('languages.list', { extra: 1 } as never))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(main.raw.invoke('languages.list', 'text' as never))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(main.raw.invoke('no.such' as never, {}))).code).toBe('UNKNOWN_METHOD');
    expect((await rejection(main.raw.invoke('dialog.openFolder', {}))).code).toBe('UNKNOWN_METHOD');
    expect((await rejection(main.api.fertility.run({ languages: [] }))).code).toBe('INVALID_ARGUMENT');
  });

  it('runs fertility with progress events, then serves the same request from the cache', async () => {
    const events: ProgressEvent[] = [];
    const stop = main.api.on('progress', (p) => events.push(p));
    const first = await main.api.fertility.run({ languages: PAPER, jobId: 'first' });
    stop();
    expect(first.rows.map((r) => r.language)).toEqual(PAPER);
    expect(first.computed).toEqual(PAPER);
    expect(first.rows[0].ratio_to_en).toBe(1);
    expect(events.filter((e) => e.stage === 'tokenizing').map((e) => `${e.jobId}:${e.done}/${e.total}`)).toEqual(
      PAPER.map((_, i) => `first:${i + 1}/10`),
    );
    const second = await main.api.fertility.run({ languages: PAPER });
    expect(second.fromCache).toEqual(PAPER);
    expect(second.computed).toEqual([]);
    expect(second.rows).toEqual(first.rows);
    // A subset aligns differently (fewer merged sections) but reuses the cached paragraph counts.
    const subset = await main.api.fertility.run({ languages: ['hi', 'ml'] });
    expect(subset.rows.map((r) => r.language)).toEqual(['en', 'hi', 'ml']);
    expect(subset.fromCache).toEqual(['en', 'hi', 'ml']);
    expect(subset.corpus.alignedSegments).toBeGreaterThanOrEqual(first.corpus.alignedSegments);
  }, 60_000);

  it('answers every malformed message with a typed error and keeps serving (any transport, not only the harness)', async () => {
    const [client, server] = createTransportPair();
    serveConnection(server, main.backend.handlers, main.backend.jobs);
    const answers: WireMessage[] = [];
    client.onMessage((m) => answers.push(m));
    const junk: unknown[] = [null, 42, 'text', [], [{ kind: 'call', id: 1, method: 'languages.list', arg: {} }], {}, { kind: 'call', method: 'languages.list' }, { kind: 'call', id: 'x', method: 'languages.list' }];
    for (const message of junk) client.send(message as WireMessage);
    client.send({ kind: 'result', id: 7, ok: true, value: 1 });
    client.send({ kind: 'call', id: 8, method: 42 as unknown as string, arg: {} });
    client.send({ kind: 'call', id: 9, method: 'languages.list', arg: {} });
    await expect.poll(() => answers.length).toBe(junk.length + 3);
    expect(answers.slice(0, junk.length).every((m) => m.kind === 'protocol-error' && m.error.code === 'PROTOCOL_ERROR')).toBe(true);
    expect(answers.slice(junk.length)).toMatchObject([
      { kind: 'result', id: 7, ok: false, error: { code: 'PROTOCOL_ERROR' } },
      { kind: 'result', id: 8, ok: false, error: { code: 'PROTOCOL_ERROR' } },
      { kind: 'result', id: 9, ok: true },
    ]);
  });

  it('leaves the database unchanged on bad input', async () => {
    const before = tableCounts(main.backend);
    const notADir = join(tmp.dir, 'a-file');
    writeFileSync(notADir, 'x');
    const noTokenizer = join(tmp.dir, 'empty-folder');
    mkdirSync(noTokenizer);
    const cases: [Promise<unknown>, string, string][] = [
      [main.api.fertility.run({ languages: ['en', 'xx'] }), 'UNKNOWN_LANGUAGE', '"xx"'],
      [main.api.fertility.run({ languages: ['hi'], tokenizer: noTokenizer }), 'TOKENIZER_NOT_FOUND', 'tokenizer.json'],
      [main.api.fertility.export({ languages: ['hi'], outDir: join(notADir, 'out') }), 'OUTPUT_NOT_WRITABLE', 'a-file'],
      [main.api.languages.add({ code: 'xx' }), 'UNKNOWN_LANGUAGE', '"xx"'],
      [main.api.languages.setTier({ code: 'xx', tier: 'high' }), 'UNKNOWN_LANGUAGE', '"xx"'],
    ];
    // Every rejection is caught at once: they settle in any order (tokenizer checks run in a worker).
    const errors = await Promise.all(cases.map(([promise]) => rejection(promise)));
    cases.forEach(([, code, text], i) => {
      expect(errors[i].code).toBe(code);
      expect(errors[i].message).toContain(text);
    });
    expect(tableCounts(main.backend)).toEqual(before);
  });

  it('cancels a running job, keeps only complete cached languages, and a re-run matches an uninterrupted run', async () => {
    const fresh = connect('cancel.db');
    try {
      const stop = fresh.api.on('progress', (p) => {
        if (p.stage === 'tokenizing' && p.done === 3) void fresh.api.jobs.cancel({ jobId: p.jobId });
      });
      const cancelled = await rejection(fresh.api.fertility.run({ languages: PAPER, jobId: 'to-cancel' }));
      stop();
      expect(cancelled.code).toBe('CANCELLED');
      const sets = fresh.backend.db.prepare('SELECT corpus_code, paragraphs FROM fertility_sets').all() as { corpus_code: string; paragraphs: number }[];
      expect(sets.length).toBeGreaterThanOrEqual(3);
      expect(sets.length).toBeLessThan(10);
      for (const set of sets) {
        const n = fresh.backend.db.prepare('SELECT COUNT(*) AS n FROM fertility_counts WHERE corpus_code = ?').get(set.corpus_code) as { n: number };
        expect(n.n).toBe(set.paragraphs);
      }
      expect(fresh.backend.db.prepare('SELECT COUNT(*) AS n FROM analysis_runs').get()).toEqual({ n: 0 });
      expect(fresh.backend.jobs.size).toBe(0);
      expect(await fresh.api.jobs.cancel({ jobId: 'to-cancel' })).toEqual({ cancelled: false, state: 'cancelled' });

      const resumed = await fresh.api.fertility.run({ languages: PAPER });
      expect(resumed.fromCache.length).toBe(sets.length);
      const uninterrupted = await main.api.fertility.run({ languages: PAPER });
      expect(resumed.rows).toEqual(uninterrupted.rows);
    } finally {
      fresh.api.dispose();
      fresh.backend.close();
    }
  }, 60_000);
});

describe('rpc client', () => {
  it('rejects pending calls when disposed', async () => {
    const [client] = createTransportPair();
    const api = createApi(client);
    const pending = api.languages.list({});
    api.dispose();
    expect((await rejection(pending)).code).toBe('CANCELLED');
  });
});


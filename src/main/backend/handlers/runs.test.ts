// The run history through the backend's handlers on a real SQLite file, with real analyses of a
// copy of the bundled demo: every finished analysis.run / analysis.export is stored with its
// request, fingerprints, summary and timing; opening one returns the stored summary (the model may
// be gone); renames, deletes, damaged rows and ids that do not exist.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { backendContract } from '../../../shared/contract';
import type { AnalysisExport, AnalysisRunListItem, AnalysisRunRecord, DisparitySummary } from '../../../shared/dto';
import { openDatabase } from '../../store/db';
import { RunsRepo, sha256 } from '../../store/runs-repo';
import { createBackend, type Backend } from '../backend';
import type { JobContext } from '../handler';
import { recordAnalysis } from '../run-history';
import { DEMO_DIR } from './demo';

const tmp = tempDir();
const logs: [string, string][] = [];
const ctx = (jobId: string): JobContext => ({ jobId, signal: new AbortController().signal, progress: () => {}, log: (level, message) => logs.push([level, message]) });
const call = <M extends keyof Backend['handlers']>(b: Backend, method: M, arg: unknown, jobId = 'call') =>
  (b.handlers[method] as (a: unknown, c: JobContext) => Promise<unknown>)(arg, ctx(jobId));

describe('run history (handlers, real analyses)', () => {
  const dbPath = join(tmp.dir, 'runs.db');
  const demo = join(tmp.dir, 'demo');
  let backend: Backend;
  let first: DisparitySummary;
  let second: AnalysisExport;
  const request = () => ({ model: join(demo, 'model'), saes: join(demo, 'saes'), languages: ['en', 'es', 'hi'], limit: 2 });

  beforeAll(async () => {
    cpSync(DEMO_DIR(), demo, { recursive: true });
    backend = createBackend({ dbPath });
    first = (await call(backend, 'analysis.run', { ...request(), settings: { reduction: 'max', bootstrap: 20 } }, 'job-a')) as DisparitySummary;
    second = (await call(backend, 'analysis.export', { ...request(), settings: { reduction: 'mean', bootstrap: 20 }, outDir: join(tmp.dir, 'report') }, 'job-b')) as AnalysisExport;
  }, 120_000);

  afterAll(async () => {
    await backend?.close();
    tmp.cleanup();
  });

  it('stores each finished analysis, newest first, with its settings, timing and the hash of its summary', async () => {
    const list = (await call(backend, 'runs.list', {})) as AnalysisRunListItem[];
    expect(list.map((r) => r.method)).toEqual(['analysis.export', 'analysis.run']);
    const [b, a] = list;
    expect(a).toMatchObject({ kind: 'analysis', languages: ['en', 'es', 'hi'], layers: [0, 1, 2, 3, 4, 5], segments: 2, corpus: 'udhr', outDir: null, problem: null });
    expect(a.settings.reduction).toBe('max');
    expect(b.settings.reduction).toBe('mean');
    expect(b.outDir).toBe(join(tmp.dir, 'report'));
    expect(a.summarySha256).toBe(sha256(JSON.stringify(first)));
    expect(b.summarySha256).toBe(sha256(JSON.stringify(second.summary)));
    for (const r of list) {
      expect(r.seconds).toBeGreaterThan(0);
      expect(Date.parse(r.finishedAt) - Date.parse(r.startedAt)).toBeGreaterThanOrEqual(Math.floor(r.seconds * 1000) - 5);
      expect(r.gapRange).not.toBeNull();
    }
    const gaps = first.gap_percent.filter((g): g is number => g !== null);
    expect(a.gapRange).toEqual([Math.min(...gaps), Math.max(...gaps)]);
    // A client holding a summary finds its run by the summary's hash.
    expect(((await call(backend, 'runs.list', { summarySha256: sha256(JSON.stringify(first)) })) as { id: number }[]).map((r) => r.id)).toEqual([a.id]);
    expect(await call(backend, 'runs.list', { limit: 1 })).toHaveLength(1);
  });

  it('opens a run from the store, never recomputing: the same summary with the model and SAEs deleted', async () => {
    const [, a] = (await call(backend, 'runs.list', {})) as { id: number }[];
    rmSync(demo, { recursive: true, force: true });
    const run = (await call(backend, 'runs.get', { id: a.id })) as AnalysisRunRecord;
    expect(run.summary).toEqual(first);
    expect(run.request).toEqual({ ...request(), corpus: 'udhr', settings: { reduction: 'max', bootstrap: 20 }, outDir: null });
    expect(run.fingerprints.model).toBe(first.model.fingerprint);
    expect(run.fingerprints.saes.map((s) => s.fingerprint)).toEqual(first.saes.map((s) => s.fingerprint));
    expect(run.fingerprints.model).toMatch(/^[0-9a-f]{64}$/);
  });

  it('renames and deletes one run, leaving the other; a deleted or never-issued id is RUN_NOT_FOUND', async () => {
    const [b, a] = (await call(backend, 'runs.list', {})) as { id: number }[];
    expect(await call(backend, 'runs.rename', { id: a.id, name: 'max over tokens' })).toMatchObject({ id: a.id, name: 'max over tokens' });
    expect(await call(backend, 'runs.delete', { id: b.id })).toEqual({ deleted: true });
    for (const id of [b.id, 424242]) {
      for (const m of ['runs.get', 'runs.delete'] as const) await expect(call(backend, m, { id })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND', details: { id } });
      await expect(call(backend, 'runs.rename', { id, name: 'x' })).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    }
    expect(((await call(backend, 'runs.list', {})) as { name: string }[]).map((r) => r.name)).toEqual(['max over tokens']);
    expect(((await call(backend, 'runs.get', { id: a.id })) as { summary: unknown }).summary).toEqual(first);
  });

  it('reports a damaged row as RUN_CORRUPT for that run alone, and still lists it', async () => {
    const repo = new RunsRepo(openDatabase(dbPath));
    const good = repo.add({ method: 'analysis.run', name: 'good', jobId: null, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:01.000Z', seconds: 1, request: { ...request(), corpus: 'udhr', settings: {}, limit: 2, outDir: null }, summary: first });
    const db = openDatabase(dbPath);
    const damage: [string, string][] = [
      ['summary_json', '{"languages": [SECRET'],
      ['summary_json', '"a string"'],
      ['summary_json', '{"layers": 3}'],
      ['request_json', 'not json'],
      ['fingerprints_json', '{'],
      ['digest_json', '{oops'],
    ];
    const ids = damage.map(([column, text]) => {
      const { id } = repo.add({ method: 'analysis.run', name: `bad ${column}`, jobId: null, startedAt: '2026-01-02T00:00:00.000Z', finishedAt: '2026-01-02T00:00:01.000Z', seconds: 1, request: { ...request(), corpus: 'udhr', settings: {}, limit: 2, outDir: null }, summary: first });
      db.prepare(`UPDATE runs SET ${column} = ? WHERE id = ?`).run(text, id);
      return id;
    });
    for (const id of ids) {
      const error = await call(backend, 'runs.get', { id }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RUN_CORRUPT', details: { id } });
      expect((error as Error).message).not.toContain('SECRET');
    }
    const listed = (await call(backend, 'runs.list', {})) as { id: number; problem: string | null }[];
    expect(listed.find((r) => r.id === ids.at(-1))?.problem).toMatch(/cannot be read; delete the run/);
    expect(listed.filter((r) => r.problem === null).map((r) => r.id)).toContain(good.id);
    expect(((await call(backend, 'runs.get', { id: good.id })) as { summary: unknown }).summary).toEqual(first);
    for (const id of ids) await call(backend, 'runs.delete', { id });
  });

  it('returns the analysis when the history cannot be written, with a warning (nothing computed is lost)', async () => {
    const broken = openDatabase(join(tmp.dir, 'broken.db'));
    broken.exec('DROP TABLE runs');
    logs.length = 0;
    const out = await recordAnalysis(new RunsRepo(broken), 'analysis.run', request(), ctx('job-c'), async () => first, (s) => s);
    expect(out).toBe(first);
    expect(logs).toEqual([['warn', expect.stringMatching(/^the analysis finished but could not be added to the run history: could not store the run/)]]);
  });

  it('refuses malformed ids and names at the contract (INVALID_ARGUMENT classes)', () => {
    for (const id of [0, -1, 1.5, '1', null, 2 ** 60]) expect(backendContract['runs.get'].input.safeParse({ id }).success).toBe(false);
    for (const name of ['', '   ', 'x'.repeat(201), 7]) expect(backendContract['runs.rename'].input.safeParse({ id: 1, name }).success).toBe(false);
    expect(backendContract['runs.list'].input.safeParse({ summarySha256: 'abc' }).success).toBe(false);
    expect(backendContract['runs.list'].input.safeParse({ extra: 1 }).success).toBe(false);
  });
});

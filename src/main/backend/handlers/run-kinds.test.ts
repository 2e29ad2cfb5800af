// Evaluations and fine-tunes become stored runs, through the whole RPC stack on a real SQLite file
// with the compute and tokenizer workers (`npx electron-vite build` first): a 2-step fine-tune of a
// copy of the tiny random demo model (its held-out analyses stay analysis runs) and an evaluation
// of that model with the fine-tune's adapter on a tiny multiple-choice set. Each is listed with its
// digest (checked against the result the call returned), names its job's run, opens as stored with
// the model deleted, renames and deletes; a failed call stores nothing; a history that cannot be
// written loses no result; an evaluation run is refused where an analysis is needed.
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../../../../test/helpers/rejection';
import { tempDir } from '../../../../test/helpers/temp';
import { writePairsCorpus } from '../../../../test/helpers/pairs-corpus';
import { createApi } from '../../../shared/client';
import { backendContract } from '../../../shared/contract';
import type { EvaluationRunRecord, FinetuneRunRecord, RunListItem } from '../../../shared/dto';
import type { EvalResult } from '../../../shared/eval';
import type { FinetuneResult } from '../../../shared/finetune';
import { createTransportPair } from '../../../shared/rpc';
import { openDatabase } from '../../store/db';
import { RunsRepo } from '../../store/runs-repo';
import { createBackend } from '../backend';
import type { JobContext } from '../handler';
import { recordResult } from '../run-history';
import { serveConnection } from '../server';
import { DEMO_DIR } from './demo';

const tmp = tempDir('linguascope-run-kinds-');

/** Four generic multiple-choice items per language, in the alexandrainst folder layout. */
function mcData(): string {
  const root = join(tmp.dir, 'mc');
  const items = {
    en: [['The sky is', ['blue', 'green', 'loud'], 0], ['Two and two make', ['five', 'four'], 1], ['Water is', ['dry', 'wet'], 1], ['A cat says', ['moo', 'meow'], 1]],
    hi: [['आसमान का रंग', ['नीला', 'हरा'], 0], ['दो और दो', ['पाँच', 'चार'], 1], ['पानी', ['सूखा', 'गीला'], 1], ['आग', ['गरम', 'ठंडी'], 0]],
  } as const;
  for (const [lang, rows] of Object.entries(items)) {
    mkdirSync(join(root, 'data', lang), { recursive: true });
    writeFileSync(join(root, 'data', lang, 'test.jsonl'), rows.map(([context, choices, gold]) => JSON.stringify({ context, choices, gold })).join('\n') + '\n');
  }
  return root;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('eval.run and finetune.run become stored runs', () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'runs.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const demo = join(tmp.dir, 'demo');
  const data = mcData();
  const ftDir = join(tmp.dir, 'ft');
  let ft: FinetuneResult;
  let ev: EvalResult;

  beforeAll(async () => {
    cpSync(DEMO_DIR(), demo, { recursive: true });
    ft = await api.finetune.run({
      model: join(demo, 'model'),
      saes: join(demo, 'saes'),
      languages: ['en', 'hi'],
      corpus: writePairsCorpus(tmp.dir),
      outDir: ftDir,
      settings: { steps: 2, data: { batchPairs: 4, heldOut: 0.3 }, lora: { rank: 4, alpha: 8 }, monitor: { evalEvery: 2, checkpointEvery: 2 } },
      jobId: 'ft-job',
    });
    ev = await api.eval.run({ model: join(demo, 'model'), adapter: ft.adapterDir, data, task: 'mc', languages: ['en', 'hi'], jobId: 'ev-job' });
  }, 300_000);

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it('lists the evaluation and the fine-tune (after its held-out analyses) with digests taken from their results', async () => {
    const list = await api.runs.list({});
    expect(list.map((r) => r.kind)).toEqual(['evaluation', 'finetune', 'analysis', 'analysis']);
    const [e, f] = list as [Extract<RunListItem, { kind: 'evaluation' }>, Extract<RunListItem, { kind: 'finetune' }>];
    expect(e).toMatchObject({ method: 'eval.run', model: join(demo, 'model'), adapter: ft.adapterDir, preset: 'lm-eval-okapi', tasks: ['mc'], languages: ['en', 'hi'], outDir: null, problem: null });
    expect(ev.results).toHaveLength(2);
    expect(e.meanAcc.before).toBe(mean(ev.results.map((r) => r.before.acc)));
    expect(e.meanAcc.after).toBe(mean(ev.results.map((r) => r.after!.acc)));
    expect(e.name).toBe('model + adapter, lm-eval-okapi, mc, 2 languages');
    expect(f).toMatchObject({ method: 'finetune.run', model: join(demo, 'model'), languages: ['en', 'hi'], steps: 2, stepsPlanned: 2, outcome: ft.outcome, outDir: ftDir, problem: null });
    expect(f.gainPercent).toEqual({ hi: ft.report.gain_percent.hi.value });
    expect(f.meanGainPercent).toBe(ft.report.gain_percent.hi.value);
    expect(f.retentionPercent).toBe(ft.report.retention_percent.value);
    expect(f.name).toBe(`model fine-tune, en/hi, 2 steps, ${ft.outcome}`);
    for (const r of [e, f]) expect(Date.parse(r.finishedAt) - Date.parse(r.startedAt)).toBeGreaterThanOrEqual(Math.floor(r.seconds * 1000) - 5);
    // The kind filter, and each job names the run it produced.
    expect((await api.runs.list({ kind: 'evaluation' })).map((r) => r.id)).toEqual([e.id]);
    expect((await api.runs.list({ kind: 'analysis' })).map((r) => r.kind)).toEqual(['analysis', 'analysis']);
    // The held-out analyses say which they are, the one with the adapter names it.
    const segments = ft.analysis.before.segments;
    const reduction = ft.analysis.before.settings.reduction;
    expect((await api.runs.list({ kind: 'analysis' })).map((r) => r.name)).toEqual([
      `held-out segments after the fine-tune: model + adapter, 2 languages, ${segments} segments, ${reduction}`,
      `held-out segments before the fine-tune: model, 2 languages, ${segments} segments, ${reduction}`,
    ]);
    const jobs = await api.jobs.list({});
    expect(jobs.find((j) => j.jobId === 'ft-job')?.ownerRun).toBe(String(f.id));
    expect(jobs.find((j) => j.jobId === 'ev-job')?.ownerRun).toBe(String(e.id));
  });

  it('opens each from the store, never recomputing: the same result with the model deleted', async () => {
    const [e, f] = await api.runs.list({});
    rmSync(join(demo, 'model'), { recursive: true, force: true });
    const evaluation = (await api.runs.get({ id: e.id })) as EvaluationRunRecord;
    expect(evaluation.result).toEqual(ev);
    expect(evaluation.request).toEqual({ model: join(demo, 'model'), adapter: ft.adapterDir, data, task: 'mc', languages: ['en', 'hi'] });
    const finetune = (await api.runs.get({ id: f.id })) as FinetuneRunRecord;
    expect(finetune.result).toEqual(ft);
    expect(finetune.request).toMatchObject({ outDir: ftDir, languages: ['en', 'hi'], settings: { steps: 2 } });
    expect(finetune.request).not.toHaveProperty('jobId');
    expect(finetune.fingerprints.model).toBe(ft.analysis.before.model.fingerprint);
    expect(finetune.fingerprints.model).toMatch(/^[0-9a-f]{64}$/);
    // The evaluation's model is gone: running it again is an error, opening it is not.
    expect(await rejection(api.eval.run({ model: join(demo, 'model'), data, task: 'mc', languages: ['en', 'hi'] }))).toMatchObject({ code: expect.any(String) });
  });

  it('a failed call stores no run', async () => {
    const before = (await api.runs.list({})).length;
    expect(await rejection(api.eval.run({ model: join(tmp.dir, 'nowhere'), data, task: 'mc' }))).toMatchObject({ code: expect.any(String) });
    expect(await rejection(api.finetune.run({ model: join(tmp.dir, 'nowhere'), saes: join(demo, 'saes'), languages: ['en', 'hi'], outDir: join(tmp.dir, 'ft2') }))).toMatchObject({ code: expect.any(String) });
    expect(await api.runs.list({})).toHaveLength(before);
  });

  it('an evaluation run is refused where an analysis is needed (eval.correlate), by name', async () => {
    const [e] = await api.runs.list({ kind: 'evaluation' });
    const error = await rejection(api.eval.correlate({ analysis: { runId: e.id }, eval: { result: JSON.parse(JSON.stringify(ev)) } }));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { id: e.id, kind: 'evaluation' } });
    expect(error.message).toMatch(/is an evaluation, not a disparity analysis; choose an analysis run/);
  });

  it('renames and deletes an evaluation and a fine-tune; the analyses stay', async () => {
    const [e, f] = await api.runs.list({});
    expect(await api.runs.rename({ id: e.id, name: 'hi after LoRA' })).toMatchObject({ id: e.id, kind: 'evaluation', name: 'hi after LoRA', tasks: ['mc'] });
    expect(await api.runs.delete({ id: f.id })).toEqual({ deleted: true });
    expect(await rejection(api.runs.get({ id: f.id }))).toMatchObject({ code: 'RUN_NOT_FOUND', details: { id: f.id } });
    expect((await api.runs.list({})).map((r) => [r.kind, r.name])).toEqual([['evaluation', 'hi after LoRA'], ...(await api.runs.list({ kind: 'analysis' })).map((r) => ['analysis', r.name])]);
    expect((await api.runs.list({ kind: 'analysis' })).length).toBe(2);
  });

  it('returns the result when the history cannot be written, with a warning (nothing computed is lost)', async () => {
    const broken = openDatabase(join(tmp.dir, 'broken.db'));
    broken.exec('DROP TABLE runs');
    const logs: [string, string][] = [];
    const ctx: JobContext = { jobId: 'x', signal: new AbortController().signal, progress: () => {}, log: (level, message) => logs.push([level, message]) };
    const out = await recordResult(new RunsRepo(broken), 'evaluation', { model: '/m', data: '/d' }, ctx, async () => ev);
    expect(out).toBe(ev);
    expect(logs).toEqual([['warn', expect.stringMatching(/^the evaluation finished but could not be added to the run history: could not store the run/)]]);
    broken.close();
  });

  it('refuses a kind filter it does not know at the contract (INVALID_ARGUMENT classes)', () => {
    for (const kind of ['bogus', 'Analysis', 'eval.run', '', 7, null, ['analysis']]) expect(backendContract['runs.list'].input.safeParse({ kind }).success, String(kind)).toBe(false);
    for (const kind of ['analysis', 'evaluation', 'finetune', 'sweep']) expect(backendContract['runs.list'].input.safeParse({ kind, limit: 3 }).success).toBe(true);
  });
});

// sweep.run through the whole RPC stack: the demo model and SAEs, a user's corpus file, a tiny
// generic multiple-choice dataset (data/en/test.jsonl, data/hi/test.jsonl), a real SQLite file,
// the compute and tokenizer workers (`npx electron-vite build` first). A 2×1×1 grid writes every
// point and the comparison; a second call reads the finished points back; an interrupted point
// resumes; bad grids are typed errors naming the setting before any work. eval.correlate pairs a
// stored held-out analysis with a point's evaluation.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejection } from '../../../test/helpers/rejection';
import { tempDir } from '../../../test/helpers/temp';
import { createApi } from '../../shared/client';
import type { Input } from '../../shared/contract';
import type { EvalResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';
import { createTransportPair } from '../../shared/rpc';
import { createBackend } from './backend';
import { serveConnection } from './server';
import { writePairsCorpus } from '../../../test/helpers/pairs-corpus';

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'resources', 'demo');
const tmp = tempDir('linguascope-sweep-service-');

const corpusFile = () => writePairsCorpus(tmp.dir);

/** Six generic multiple-choice items per language, in the alexandrainst folder layout. */
function mcData(): string {
  const root = join(tmp.dir, 'mc');
  const items = {
    en: [['The sky is', ['blue', 'green', 'loud'], 0], ['Two and two make', ['five', 'four'], 1], ['Water is', ['dry', 'wet', 'square'], 1], ['A cat says', ['moo', 'meow'], 1], ['Fire is', ['hot', 'cold'], 0], ['The sun rises in the', ['west', 'east', 'sea'], 1]],
    hi: [['आसमान का रंग', ['नीला', 'हरा', 'ऊँचा'], 0], ['दो और दो', ['पाँच', 'चार'], 1], ['पानी', ['सूखा', 'गीला', 'चौकोर'], 1], ['बिल्ली कहती है', ['मू', 'म्याऊँ'], 1], ['आग', ['गरम', 'ठंडी'], 0], ['सूरज उगता है', ['पश्चिम में', 'पूर्व में'], 1]],
  } as const;
  for (const [lang, rows] of Object.entries(items)) {
    mkdirSync(join(root, 'data', lang), { recursive: true });
    writeFileSync(join(root, 'data', lang, 'test.jsonl'), rows.map(([context, choices, gold]) => JSON.stringify({ context, choices, gold })).join('\n') + '\n');
  }
  return root;
}

describe('sweep.run over the API', () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'sweep.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const corpus = corpusFile();
  const data = mcData();
  const dir = join(tmp.dir, 'sweep');
  const request = (outDir: string, over: Partial<Input<'sweep.run'>> = {}): Input<'sweep.run'> => ({
    model: join(DEMO, 'model'),
    saes: join(DEMO, 'saes'),
    languages: ['en', 'hi'],
    corpus,
    alphas: [0.5, 2],
    adaptLayerSets: [[0, 1]],
    spaces: ['sae-codes'],
    settings: { steps: 2, data: { batchPairs: 4, heldOut: 0.3 }, lora: { rank: 4, alpha: 8 }, monitor: { evalEvery: 2, checkpointEvery: 2 } },
    evalData: data,
    task: 'mc',
    outDir,
    ...over,
  });
  let first: SweepResult;

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it('runs every grid point (fine-tune, held-out re-measurement, evaluation) and writes the comparison', async () => {
    const seen: string[] = [];
    const stop = api.on('progress', (p) => p.stage.startsWith('point ') && seen.push(p.stage));
    first = await api.sweep.run(request(dir)).finally(stop);
    expect(seen).toContain('point 1/2: alpha 0.5, layers 0-1, sae-codes');
    expect(seen.some((s) => s.startsWith('point 2/2: alpha 2, layers 0-1, sae-codes: training'))).toBe(true);
    expect(seen.some((s) => s.startsWith('point 2/2: alpha 2, layers 0-1, sae-codes: scoring with the adapter'))).toBe(true);
    const names = ['alpha-0.5_layers-0-1_sae-codes', 'alpha-2_layers-0-1_sae-codes'];
    expect(first.points.map((p) => p.name)).toEqual(names);
    expect(readdirSync(dir).sort()).toEqual(['accuracy.svg', 'gain-retention.svg', ...names, 'sweep-plan.json', 'sweep.csv', 'sweep.html', 'sweep.json'].sort());
    for (const [i, p] of first.points.entries()) {
      expect(p.status).toBe('ran');
      expect(p.steps).toBe(2);
      expect(p.resolvedLossLayers).toEqual([0, 1]);
      // The figures are the point's own report and evaluation, not recomputed.
      const ft = JSON.parse(readFileSync(join(dir, names[i], 'report', 'result.json'), 'utf8')) as FinetuneResult;
      expect(ft.config.settings.loss.alpha).toBe(p.alpha);
      expect(ft.config.adaptLayers).toEqual([0, 1]);
      expect(p.gain_percent.hi.value).toBe(ft.report.gain_percent.hi.value);
      expect(p.retention_percent.value).toBe(ft.report.retention_percent.value);
      const ev = JSON.parse(readFileSync(join(dir, names[i], 'eval', 'results.json'), 'utf8')) as EvalResult;
      expect(ev.adapter).toBe(ft.adapterDir);
      const hi = ev.results.find((r) => r.language === 'hi')!;
      expect(p.accuracy.find((a) => a.language === 'hi' && a.metric === 'acc')).toMatchObject({ n: 6, before: hi.before.acc, after: hi.after!.acc, difference: hi.difference!.acc.difference, ci: hi.difference!.acc.ci });
      // The base model's items are scored once: the second point takes them from the cache.
      if (i === 1) expect(ev.cache).toEqual({ items: 12, cached: 12, scored: 12 });
    }
    expect(JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8'))).toEqual(first);
    const csv = readFileSync(join(dir, 'sweep.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('point,alpha,adapt_layers,loss_layers,space,outcome,steps,quantity,task,language,value,ci_low,ci_high');
    expect(csv.filter((l) => l.includes(',english_retention_percent,'))).toHaveLength(2);
    expect(csv.filter((l) => l.includes(',acc_change,mc,hi,'))).toHaveLength(2);
    expect(readFileSync(join(dir, 'sweep.html'), 'utf8')).toMatch(/Activation gain against accuracy change/);
    expect(readFileSync(join(dir, 'gain-retention.svg'), 'utf8').match(/class="point"/g)).toHaveLength(2);
    // The held-out analyses (before and after each point) are stored runs.
    expect((await api.runs.list({ kind: 'analysis' })).filter((r) => r.kind === 'analysis' && r.segments === 3).length).toBeGreaterThanOrEqual(4);
    // The sweep itself is a stored run, opened as returned (its points' fine-tunes are not: they ran inside it).
    const [sweepRun, ...more] = await api.runs.list({ kind: 'sweep' });
    expect(more).toEqual([]);
    expect(sweepRun).toMatchObject({ kind: 'sweep', method: 'sweep.run', outDir: dir, points: 2, pointsRan: 2, model: join(DEMO, 'model'), languages: ['en', 'hi'], problem: null });
    expect(await api.runs.get({ id: sweepRun.id })).toMatchObject({ result: first, request: { alphas: [0.5, 2], outDir: dir } });
    expect(await api.runs.list({ kind: 'finetune' })).toEqual([]);
  }, 600_000);

  it('a second call reads the finished points back: no training, no scoring', async () => {
    const stages: string[] = [];
    const stop = api.on('progress', (p) => stages.push(p.stage));
    const t0 = performance.now();
    const again = await api.sweep.run(request(dir)).finally(stop);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(again.points.map((p) => p.status)).toEqual(['done before', 'done before']);
    expect(stages.some((s) => /training|scoring/.test(s))).toBe(false);
    expect(again.points.map((p) => ({ ...p, status: 'ran' }))).toEqual(first.points);
  }, 120_000);

  it('an interrupted point resumes from its checkpoint; the finished one is kept', async () => {
    const point = join(dir, 'alpha-2_layers-0-1_sae-codes');
    const stepRecords = () => readFileSync(join(point, 'steps.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.kind === 'step').map((r) => [r.step, r.loss]);
    const steps = stepRecords();
    // As if killed after training, before the report and the evaluation were written.
    rmSync(join(point, 'report'), { recursive: true });
    rmSync(join(point, 'eval'), { recursive: true });
    const resumed = await api.sweep.run(request(dir));
    expect(resumed.points.map((p) => p.status)).toEqual(['done before', 'ran']);
    expect(stepRecords()).toEqual(steps);
    expect(resumed.points[1].gain_percent).toEqual(first.points[1].gain_percent);
    expect(resumed.points[1].accuracy).toEqual(first.points[1].accuracy);
    expect(existsSync(join(point, 'eval', 'results.json'))).toBe(true);
  }, 300_000);

  it('a sweep cancelled inside a point resumes there: the finished point is read back, the cancelled one runs again to the same figures', async () => {
    const point = join(dir, 'alpha-2_layers-0-1_sae-codes');
    rmSync(point, { recursive: true });
    const jobId = 'sweep-cancel-test';
    const stop = api.on('progress', (p) => {
      if (p.stage.startsWith('point 2/2') && p.stage.endsWith(': training')) void api.jobs.cancel({ jobId });
    });
    const error = await rejection(api.sweep.run({ ...request(dir), jobId })).finally(stop);
    expect(error.code).toBe('CANCELLED');
    expect(existsSync(join(point, 'finetune.json'))).toBe(true);
    expect(existsSync(join(point, 'report', 'result.json'))).toBe(false);
    const resumed = await api.sweep.run(request(dir));
    expect(resumed.points.map((p) => p.status)).toEqual(['done before', 'ran']);
    expect(resumed.points[1].gain_percent).toEqual(first.points[1].gain_percent);
    expect(resumed.points[1].accuracy).toEqual(first.points[1].accuracy);
  }, 300_000);

  it('eval.correlate pairs a stored held-out analysis with a point\'s evaluation', async () => {
    const run = (await api.runs.list({ kind: 'analysis' })).find((r) => r.kind === 'analysis' && r.segments === 3)!;
    const out = join(tmp.dir, 'correlation');
    const r = await api.eval.correlate({ analysis: { runId: run.id }, eval: { path: join(dir, 'alpha-0.5_layers-0-1_sae-codes', 'eval') }, measure: 'mean_activation', outDir: out });
    expect(r.task).toBe('mc');
    expect(r.points.map((p) => p.language)).toEqual(['en', 'hi']);
    expect(r.per_layer.every((l) => l.n === 2 && l.pearson.ci === null)).toBe(true);
    expect(r.warnings[0]).toMatch(/n = 2 languages: below 4 no interval/);
    expect(readdirSync(out)).toEqual(expect.arrayContaining(['correlation.json', 'correlation.csv', 'points.csv', 'correlation.svg', ...r.layers.map((l) => `scatter-layer-${l}.svg`)]));
    expect(await rejection(api.eval.correlate({ analysis: { runId: 999_999 }, eval: { path: data } }))).toMatchObject({ code: 'RUN_NOT_FOUND' });
  }, 60_000);

  it('a foreign folder is refused; a resume with another grid is refused', async () => {
    const foreign = join(tmp.dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    expect(await rejection(api.sweep.run(request(foreign)))).toMatchObject({ code: 'OUTPUT_EXISTS' });
    expect(readdirSync(foreign)).toEqual(['notes.txt']);
    const other = await rejection(api.sweep.run(request(dir, { alphas: [0.5, 2], settings: { ...request(dir).settings, steps: 3 } })));
    expect(other).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/started with another settings/) });
  }, 60_000);

  it.each([
    ['no α', { alphas: [] }, 'alphas'],
    ['a negative α', { alphas: [1, -0.5] }, 'alphas'],
    ['a duplicate α (a duplicate point)', { alphas: [1, 1] }, 'alphas'],
    ['no layer set', { adaptLayerSets: [] }, 'adaptLayerSets'],
    ['an empty layer set', { adaptLayerSets: [[0], []] }, 'adaptLayerSets'],
    ['a layer set beyond the model', { adaptLayerSets: [[0, 6]] }, 'adaptLayerSets'],
    ['a fractional layer', { adaptLayerSets: [[0.5]] }, 'adaptLayerSets'],
    ['the same layer set twice (a duplicate point)', { adaptLayerSets: [[0, 1], [1, 0, 1]] }, 'adaptLayerSets'],
    ['no loss space', { spaces: [] }, 'spaces'],
    ['a loss space twice', { spaces: ['sae-codes', 'sae-codes'] }, 'spaces'],
    ['α in the shared settings', { settings: { loss: { alpha: 1 } } }, 'settings.loss.alpha'],
    ['adapted layers in the shared settings', { settings: { lora: { adaptLayers: [0] } } }, 'settings.lora.adaptLayers'],
    ['loss layers deeper than a set reaches', { adaptLayerSets: [[4, 5]], settings: { lora: { lossLayers: [1] } } }, 'adaptLayerSets'],
  ] as [string, Partial<Input<'sweep.run'>>, string][])('refuses %s before any work, naming the setting', async (_name, over, setting) => {
    const out = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}`);
    const error = await rejection(api.sweep.run(request(out, over)));
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { setting } });
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

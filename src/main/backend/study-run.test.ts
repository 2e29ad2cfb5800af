// study.run end to end over the whole RPC stack: the demo model and SAEs (whatever their current
// build: no figure of theirs is pinned), a short en/es/hi corpus file, a real SQLite file, the
// compute and tokenizer workers (`npx electron-vite build` first), two fine-tune steps. Checks the
// stage order, that every stage left its own run and folder, that the continuation task was cut
// from exactly the fine-tune's held-out segments, and that study.json's figures are the stages' own
// result files (nothing recomputed or altered on the way into the report); a cancelled study
// leaves a folder the next study replaces.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PAIRS_EN, PAIRS_HI } from '../../../test/helpers/pairs-corpus';
import { rejection } from '../../../test/helpers/rejection';
import { tempDir } from '../../../test/helpers/temp';
import { createApi } from '../../shared/client';
import type { Input } from '../../shared/contract';
import { createTransportPair } from '../../shared/rpc';
import { STUDY_STAGES, type StudyResult } from '../../shared/study';
import { createBackend } from './backend';
import { serveConnection } from './server';

const DEMO = resolve(import.meta.dirname, '..', '..', '..', 'resources', 'demo');
const tmp = tempDir('linguascope-study-run-');

/** Spanish beside the en/hi pairs, so that the gap has a high-resource language to compare with. */
const PAIRS_ES = ['todas las personas son libres', 'todos tienen derechos', 'nadie será esclavo', 'todos pueden viajar', 'la familia está protegida', 'todos pueden trabajar', 'todos pueden descansar', 'la educación es gratuita', 'todos pueden votar', 'deberes con la comunidad'];

function corpusFile(): string {
  const file = join(tmp.dir, 'three.tsv');
  const rows = PAIRS_EN.flatMap((t, i) => [`s${i}\ten\t${t}`, `s${i}\tes\t${PAIRS_ES[i]}`, `s${i}\thi\t${PAIRS_HI[i]}`]);
  writeFileSync(file, ['segment\tlanguage\ttext', ...rows].join('\n') + '\n');
  return file;
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('study.run on the demo', () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'study.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const dir = join(tmp.dir, 'study');
  const request: Input<'study.run'> = {
    model: join(DEMO, 'model'),
    saes: join(DEMO, 'saes'),
    languages: ['en', 'es', 'hi'],
    corpus: corpusFile(),
    analysis: { bootstrap: 50 },
    finetune: { steps: 2, data: { batchPairs: 4, heldOut: 0.5 }, lora: { rank: 4, alpha: 8 }, monitor: { evalEvery: 2, checkpointEvery: 2 } },
    task: { choices: 3 },
    bootstrap: 50,
    outDir: dir,
  };
  let result: StudyResult;

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it('runs the five stages in order, each leaving its own folder and stored run', async () => {
    const stages: string[] = [];
    const stop = api.on('progress', (p) => {
      const m = /^(\d)\/5 ([^:]+)/.exec(p.stage);
      if (m && stages.at(-1) !== m[2]) stages.push(m[2]);
    });
    result = await api.study.run(request).finally(stop);
    expect(stages).toEqual([...STUDY_STAGES]);
    expect(result.stages.map((s) => s.stage)).toEqual([...STUDY_STAGES]);
    expect(result.targets).toEqual(['hi']);
    expect(result.languages).toEqual(['en', 'es', 'hi']);
    expect(readdirSync(dir).sort()).toEqual(['analysis', 'charts', 'correlation', 'eval', 'figures.csv', 'finetune', 'report.html', 'study-plan.json', 'study.json', 'task']);
    expect(readdirSync(join(dir, 'charts')).sort()).toEqual(['accuracy.svg', 'activation.svg', 'gap.svg']);
    expect(result.files.map((f) => f.slice(dir.length + 1)).sort()).toEqual(['charts/accuracy.svg', 'charts/activation.svg', 'charts/gap.svg', 'figures.csv', 'report.html', 'study.json']);
    expect(readdirSync(join(dir, 'analysis'))).toEqual(expect.arrayContaining(['summary.json', 'report.html']));
    expect(readdirSync(join(dir, 'finetune'))).toEqual(expect.arrayContaining(['adapter', 'finetune.json', 'report', 'steps.jsonl']));
    expect(readdirSync(join(dir, 'eval'))).toEqual(expect.arrayContaining(['results.json']));
    expect(readdirSync(join(dir, 'correlation'))).toEqual(expect.arrayContaining(['correlation.json']));
    // The stages' runs are in the history like any other: the analysis, the fine-tune, the evaluation.
    const runs = await api.runs.list({});
    for (const kind of ['analysis', 'finetune', 'evaluation'] as const) expect(runs.some((r) => r.kind === kind), kind).toBe(true);
    expect(result.finetune.steps).toBe(2);
    expect(result.evaluation.adapter).toBe(result.finetune.adapterDir);
  }, 300_000);

  it('cuts the task from exactly the fine-tune\'s held-out segments, the same items in every language', () => {
    const heldOut = result.finetune.config.split.heldOutSegments;
    expect(heldOut.length).toBe(5);
    const description = json(join(dir, 'task', 'continuation-task.json'));
    expect([...description.heldOut].sort()).toEqual([...heldOut].sort());
    // Items and skipped segments together are the held-out ones, each once.
    const cut = description.items.map((i: { segment: string }) => i.segment);
    const skipped = description.skipped.map((s: { segment: string }) => s.segment);
    expect([...cut, ...skipped].sort()).toEqual([...heldOut].sort());
    expect(result.task.segments).toEqual(cut);
    expect(result.task.items).toBe(cut.length);
    for (const lang of ['en', 'es', 'hi']) {
      const rows = readFileSync(join(dir, 'task', 'data', lang, 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(rows.map((r) => r.segment)).toEqual(cut);
      for (const r of rows) {
        expect(r.choices).toHaveLength(3);
        for (const s of r.choice_segments) expect(heldOut).toContain(s);
      }
    }
    const trained = new Set(result.finetune.config.split.trainSegments);
    for (const s of cut) expect(trained.has(s)).toBe(false);
    expect(result.evaluation.results.map((r) => [r.language, r.n])).toEqual(['en', 'es', 'hi'].map((l) => [l, cut.length]));
  });

  it('study.json holds the stages\' own results, read back from their files unchanged', async () => {
    const study = json(join(dir, 'study.json'));
    const { files: _, ...whole } = result;
    expect(study).toEqual(JSON.parse(JSON.stringify(whole)));
    expect(study.analysis.summary).toEqual(json(join(dir, 'analysis', 'summary.json')));
    const ft = json(join(dir, 'finetune', 'report', 'result.json'));
    expect(study.finetune.report).toEqual(ft.report);
    expect(study.finetune.config.split).toEqual(ft.config.split);
    const evaluation = json(join(dir, 'eval', 'results.json'));
    expect(study.evaluation.results).toEqual(evaluation.results);
    const { outDir: _o, files: _f, ...base } = study.correlation.base;
    const baseFile = json(join(dir, 'correlation', 'correlation.json'));
    expect(base).toEqual(baseFile);
    // The adapted model's correlation is written nowhere else: the handler on the stage files must
    // give the same figures.
    const adapted = await api.eval.correlate({ analysis: { path: join(dir, 'analysis') }, eval: { path: join(dir, 'eval') }, task: 'mc', measure: 'deficit', model: 'adapted', bootstrap: 50 });
    expect(study.correlation.adapted.per_layer).toEqual(adapted.per_layer);
    expect(study.correlation.adapted.points).toEqual(adapted.points);
    expect(study.correlation.base.per_layer.map((l: { n: number }) => l.n)).toEqual(study.analysis.summary.layers.map(() => 3));
  });

  it('cancelled during the fine-tune: CANCELLED, and the folder stays a study of ours', async () => {
    let cancelled = false;
    const stop = api.on('progress', (p) => {
      if (!cancelled && p.stage.startsWith('2/5 fine-tune: ')) {
        cancelled = true;
        void api.jobs.cancel({ jobId: 'study-to-cancel' });
      }
    });
    const error = await rejection(api.study.run({ ...request, jobId: 'study-to-cancel' })).finally(stop);
    expect(error.code).toBe('CANCELLED');
    expect(cancelled).toBe(true);
    // The first study's report was removed before the new one started; no report claims to be whole.
    expect(readdirSync(dir)).not.toContain('report.html');
    expect(readdirSync(dir)).toContain('study-plan.json');
  }, 300_000);

  it('a second study into the same folder replaces the first one\'s parts', async () => {
    const again = await api.study.run({ ...request, task: { choices: 2 } });
    expect(again.task.choices).toBe(2);
    expect(json(join(dir, 'study.json')).task.choices).toBe(2);
    const rows = readFileSync(join(dir, 'task', 'data', 'en', 'test.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.every((r) => r.choices.length === 2)).toBe(true);
  }, 300_000);
});

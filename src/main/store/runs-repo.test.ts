// The run history's store on a real SQLite file: a database made by the schema before evaluations,
// fine-tunes and sweeps were runs migrates with its analysis runs intact (same ids, same list
// fields, same stored summary) and ids never reused; each new kind is stored, listed with its digest, filtered by kind
// and opened as stored; the table refuses a kind it does not know and a method of another kind;
// damaged rows of every kind are errors for that run alone; an analysis-only reader refuses the
// other kinds by name.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { DisparitySummary, StoredAnalysisRequest } from '../../shared/dto';
import type { EvalResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';
import { MIGRATIONS, openDatabase } from './db';
import { RunsRepo, sha256, type NewResultRun } from './runs-repo';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const MIGRATION = '20261130T0900_runs_all_kinds';
const OLD_SCHEMA = MIGRATIONS.filter((m) => m.id < MIGRATION);

// Plain stored documents: the repository keeps and returns them as given and reads only the
// fields named here (the handler tests store real ones).
const SUMMARY = {
  model: { path: '/models/gemma', fingerprint: 'f'.repeat(64) },
  saes: [{ layer: 0, source: '/saes/l0', fingerprint: 'a'.repeat(64) }],
  languages: [{ code: 'en' }, { code: 'hi' }],
  layers: [0, 3],
  segments: 7,
  corpus: { source: 'udhr' },
  settings: { reduction: 'max', features: 'english-active', includeBos: false, bootstrap: 20, seed: 0, fidelityWarnDrop: 0.1, topFeatures: 10, keepFeatures: 64 },
  gap_percent: [12.5, null, -3],
} as unknown as DisparitySummary;
const REQUEST: StoredAnalysisRequest = { model: '/models/gemma', saes: '/saes', languages: ['en', 'hi'], corpus: 'udhr', limit: 7, settings: { reduction: 'max' }, outDir: null };

const scores = (acc: number) => ({ acc, acc_stderr: 0.1, acc_norm: acc, acc_norm_stderr: 0.1 });
const EVAL = {
  model: '/models/gemma',
  adapter: '/runs/ft/adapter',
  data: '/bench',
  preset: 'lm-eval-okapi',
  fewshot: 0,
  fewshotPerTask: {},
  presetNote: 'note',
  results: [
    { task: 'arc', language: 'en', n: 4, before: scores(0.5), after: scores(0.75) },
    { task: 'arc', language: 'hi', n: 4, before: scores(0.25), after: scores(0.25) },
    { task: 'mmlu', language: 'hi', n: 2, before: scores(0), after: scores(0.5) },
  ],
  files: [{ path: '/bench/en.jsonl', sha256: 'b'.repeat(64), format: 'jsonl', task: 'arc', language: 'en', split: 'test', rows: 4 }],
  cache: { items: 10, cached: 0, scored: 20 },
  seconds: 1.5,
  outDir: '/out/eval',
} as unknown as EvalResult;
const FINETUNE = {
  outDir: '/runs/ft',
  adapterDir: '/runs/ft/adapter',
  reportDir: '/runs/ft/report',
  outcome: 'early-stopped',
  reason: 'no gain for 2 evaluations',
  steps: 6,
  stepsPlanned: 10,
  config: { model: '/models/gemma', languages: ['en', 'hi', 'ml'], adaptLayers: [0, 1], lossLayers: [1] },
  final: { kind: 'eval' },
  report: { segments: 3, bootstrap: 20, gain_percent: { hi: { value: 4, ci: [1, 7] }, ml: { value: null, ci: null } }, retention_percent: { value: 99.5, ci: [98, 101] }, retention_cosine: { value: 0.99, ci: null } },
  analysis: { before: SUMMARY, after: SUMMARY },
} as unknown as FinetuneResult;
const SWEEP = {
  outDir: '/sweeps/s1',
  points: [
    { name: 'alpha-0.5', status: 'ran', adaptLayers: [0], gain_percent: {}, retention_percent: { value: null, ci: null }, accuracy: [] },
    { name: 'alpha-2', status: 'done before', adaptLayers: [0], gain_percent: {}, retention_percent: { value: null, ci: null }, accuracy: [] },
  ],
  base: {},
  evalData: null,
  files: [],
  seconds: 3,
} as unknown as SweepResult;

const timing = (day: number) => ({ jobId: null, startedAt: `2026-01-0${day}T00:00:00.000Z`, finishedAt: `2026-01-0${day}T00:00:02.000Z`, seconds: 2 });
const analysis = (day: number, name = `analysis ${day}`) => ({ method: 'analysis.run' as const, name, ...timing(day), request: REQUEST, summary: SUMMARY });
const evaluation = (day: number): Extract<NewResultRun, { kind: 'evaluation' }> => ({ kind: 'evaluation', name: 'eval', ...timing(day), request: { model: '/models/gemma', adapter: '/runs/ft/adapter', data: '/bench' }, result: EVAL });
const finetune = (day: number): NewResultRun => ({ kind: 'finetune', name: 'ft', ...timing(day), request: { model: '/models/gemma', saes: '/saes', languages: ['en', 'hi', 'ml'], outDir: '/runs/ft' }, result: FINETUNE });
const sweep = (day: number): NewResultRun => ({
  kind: 'sweep',
  name: 'sweep',
  ...timing(day),
  request: { model: '/models/gemma', saes: '/saes', languages: ['en', 'hi'], alphas: [0.5, 2], adaptLayerSets: [[0]], spaces: ['sae-codes'], outDir: '/sweeps/s1' },
  result: SWEEP,
});

let n = 0;
const freshPath = () => join(tmp.dir, `runs-${++n}.db`);

describe('RunsRepo: the migration from the analysis-only table', () => {
  it('keeps every analysis run (id, list fields, stored summary) and then takes the other kinds', () => {
    const path = freshPath();
    const old = openDatabase(path, OLD_SCHEMA);
    const oldRepo = new RunsRepo(old);
    const first = oldRepo.add(analysis(1, 'kept'));
    const second = oldRepo.add(analysis(2, 'deleted before the upgrade'));
    const third = oldRepo.add({ ...analysis(3, 'export'), method: 'analysis.export', request: { ...REQUEST, outDir: '/out/report' } });
    oldRepo.delete(second.id);
    // The old table refuses any other kind: this is why the migration exists.
    expect(() => old.prepare("UPDATE runs SET kind = 'evaluation' WHERE id = ?").run(first.id)).toThrow(/CHECK constraint failed/);
    const before = oldRepo.list();
    const storedBefore = [oldRepo.get(first.id), oldRepo.get(third.id)];
    old.close();

    const db = openDatabase(path);
    expect((db.prepare('SELECT id FROM schema_migrations WHERE id = ?').get(MIGRATION) as { id: string } | undefined)?.id).toBe(MIGRATION);
    const repo = new RunsRepo(db);
    expect(repo.list()).toEqual(before);
    expect([repo.get(first.id), repo.get(third.id)]).toEqual(storedBefore);
    expect(repo.get(first.id)).toMatchObject({ kind: 'analysis', name: 'kept', summary: SUMMARY, request: REQUEST, gapRange: [-3, 12.5], outDir: null });
    // The indexes came back with the table.
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((r) => r.name).sort();
    expect(indexes).toEqual(['runs_by_kind', 'runs_by_summary', 'runs_by_time']);
    // A deleted id is not reused by the copy, and new rows of every kind go in after the kept ones.
    const ev = repo.addResult(evaluation(4));
    expect(ev.id).toBeGreaterThan(third.id);
    expect(repo.list().map((r) => [r.kind, r.name])).toEqual([['evaluation', 'eval'], ['analysis', 'export'], ['analysis', 'kept']]);
    expect(() => repo.get(second.id)).toThrowError(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
    // Nor is the newest run's id after it is deleted: a project naming it cannot reopen on another run.
    repo.delete(ev.id);
    const next = repo.addResult(finetune(5));
    expect(next.id).toBeGreaterThan(ev.id);
    expect(() => repo.get(ev.id)).toThrowError(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
    db.close();
  });
});

describe('RunsRepo: evaluations, fine-tunes and sweeps', () => {
  const path = freshPath();
  const db = openDatabase(path);
  const repo = new RunsRepo(db);
  const a = repo.add(analysis(1));
  const e = repo.addResult(evaluation(2));
  const f = repo.addResult(finetune(3));
  const s = repo.addResult(sweep(4));

  it('lists each kind newest first with its digest', () => {
    expect(repo.list().map((r) => r.id)).toEqual([s.id, f.id, e.id, a.id]);
    expect(e).toMatchObject({ kind: 'evaluation', method: 'eval.run', model: '/models/gemma', adapter: '/runs/ft/adapter', preset: 'lm-eval-okapi', tasks: ['arc', 'mmlu'], languages: ['en', 'hi'], outDir: '/out/eval', problem: null });
    // Unweighted means over the three task × language rows: (0.5 + 0.25 + 0) / 3 and (0.75 + 0.25 + 0.5) / 3.
    expect(e.kind === 'evaluation' && e.meanAcc.before).toBeCloseTo(0.25, 15);
    expect(e.kind === 'evaluation' && e.meanAcc.after).toBeCloseTo(0.5, 15);
    expect(f).toMatchObject({ kind: 'finetune', method: 'finetune.run', model: '/models/gemma', languages: ['en', 'hi', 'ml'], steps: 6, stepsPlanned: 10, outcome: 'early-stopped', gainPercent: { hi: 4, ml: null }, meanGainPercent: 4, retentionPercent: 99.5, outDir: '/runs/ft' });
    expect(s).toMatchObject({ kind: 'sweep', method: 'sweep.run', model: '/models/gemma', languages: ['en', 'hi'], points: 2, pointsRan: 1, outDir: '/sweeps/s1' });
    for (const [item, doc] of [[e, EVAL], [f, FINETUNE], [s, SWEEP]] as const) expect(item.summarySha256).toBe(sha256(JSON.stringify(doc)));
  });

  it('an evaluation without an adapter has no mean after; one with no rows has no means', () => {
    const plain = repo.addResult({ ...evaluation(5), result: { ...EVAL, adapter: null, results: EVAL.results.map(({ after: _after, ...r }) => r) } });
    expect(plain).toMatchObject({ adapter: null, meanAcc: { before: expect.closeTo(0.25, 15), after: null } });
    const empty = repo.addResult({ ...evaluation(5), result: { ...EVAL, results: [] } });
    expect(empty).toMatchObject({ tasks: [], languages: [], meanAcc: { before: null, after: null } });
    repo.delete(plain.id);
    repo.delete(empty.id);
  });

  it('filters by kind (alone, with a limit, with a summary hash)', () => {
    expect(repo.list({ kind: 'analysis' }).map((r) => r.id)).toEqual([a.id]);
    expect(repo.list({ kind: 'evaluation' }).map((r) => r.id)).toEqual([e.id]);
    expect(repo.list({ kind: 'finetune', limit: 1 }).map((r) => r.id)).toEqual([f.id]);
    expect(repo.list({ kind: 'sweep', summarySha256: s.summarySha256 }).map((r) => r.id)).toEqual([s.id]);
    expect(repo.list({ kind: 'analysis', summarySha256: s.summarySha256 })).toEqual([]);
  });

  it('opens each as stored: the request and the result as returned', () => {
    expect(repo.get(e.id)).toEqual({ ...e, request: evaluation(2).request, result: EVAL });
    expect(repo.get(f.id)).toEqual({ ...f, request: finetune(3).request, result: FINETUNE, fingerprints: { model: 'f'.repeat(64), saes: [{ layer: 0, source: '/saes/l0', fingerprint: 'a'.repeat(64) }] } });
    expect(repo.get(s.id)).toEqual({ ...s, request: sweep(4).request, result: SWEEP });
    expect(JSON.parse((db.prepare('SELECT fingerprints_json FROM runs WHERE id = ?').get(e.id) as { fingerprints_json: string }).fingerprints_json)).toEqual({ files: [{ path: '/bench/en.jsonl', sha256: 'b'.repeat(64) }] });
  });

  it("takes only the kind's own fields from a stored digest (a stored id, kind or name does not reach the list)", () => {
    const run = repo.addResult(evaluation(5));
    const hostile = { kind: 'analysis', id: 999, name: 'spoofed', method: 'analysis.run', problem: null, segments: 3, preset: 'okapi-original' };
    db.prepare('UPDATE runs SET digest_json = ? WHERE id = ?').run(JSON.stringify(hostile), run.id);
    const listed = repo.item(run.id);
    expect(listed).toMatchObject({ id: run.id, kind: 'evaluation', method: 'eval.run', name: 'eval', preset: 'okapi-original', problem: null });
    expect(listed).not.toHaveProperty('segments');
    const old = repo.add(analysis(5));
    db.prepare('UPDATE runs SET digest_json = ? WHERE id = ?').run(JSON.stringify({ ...hostile, kind: 'sweep', segments: 4 }), old.id);
    expect(repo.item(old.id)).toMatchObject({ id: old.id, kind: 'analysis', method: 'analysis.run', name: 'analysis 5', segments: 4 });
    expect(repo.item(old.id)).not.toHaveProperty('preset');
    repo.delete(run.id);
    repo.delete(old.id);
  });

  it('renames and deletes a run of any kind', () => {
    expect(repo.rename(f.id, 'hi + ml, early stop')).toMatchObject({ id: f.id, kind: 'finetune', name: 'hi + ml, early stop', steps: 6 });
    const extra = repo.addResult(sweep(5));
    repo.delete(extra.id);
    expect(() => repo.get(extra.id)).toThrowError(expect.objectContaining({ code: 'RUN_NOT_FOUND' }));
    expect(repo.list().map((r) => r.id)).toEqual([s.id, f.id, e.id, a.id]);
  });

  it('an analysis-only reader refuses the other kinds by name (INVALID_ARGUMENT), and reads analyses', () => {
    expect(repo.getAnalysis(a.id).summary).toEqual(SUMMARY);
    for (const [id, word] of [[e.id, 'an evaluation'], [f.id, 'a finetune'], [s.id, 'a sweep']] as const) {
      let error: unknown;
      try {
        repo.getAnalysis(id);
      } catch (x) {
        error = x;
      }
      expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', details: { id } });
      expect((error as Error).message).toContain(`is ${word}, not a disparity analysis`);
    }
  });

  it('the table refuses an unknown kind and a method of another kind', () => {
    const insert = (kind: string, method: string) =>
      db
        .prepare(
          `INSERT INTO runs (kind, method, name, started_at, finished_at, seconds, request_json, fingerprints_json, digest_json, summary_json, summary_sha256) VALUES (?, ?, 'x', '', '', 0, '{}', '{}', '{}', '{}', '')`,
        )
        .run(kind, method);
    for (const [kind, method] of [
      ['training', 'train.run'],
      ['evaluation', 'analysis.run'],
      ['analysis', 'eval.run'],
      ['sweep', 'finetune.run'],
      ['finetune', 'sweep.run'],
      ['Evaluation', 'eval.run'],
    ]) {
      expect(() => insert(kind, method), `${kind}/${method}`).toThrow(/CHECK constraint failed/);
    }
  });

  it('a damaged row of any kind is RUN_CORRUPT for that run alone, listed with why', () => {
    const damage: [string, string][] = [
      ['summary_json', '{"results": [SECRET'],
      ['summary_json', '"a string"'],
      ['summary_json', '[1, 2]'],
      ['summary_json', '{}'],
      ['summary_json', 'null'],
      ['request_json', 'not json'],
      ['request_json', '42'],
      ['digest_json', '{oops'],
      ['digest_json', '"text"'],
      // Fields of the wrong shape, which would break whoever lists them.
      ['digest_json', '{"languages": "en"}'],
      ['digest_json', '{"model": 7}'],
      ['digest_json', '{"languages": null}'],
    ];
    const makers = [evaluation, finetune, sweep];
    const bad: number[] = [];
    const badDigest: number[] = [];
    for (const make of makers) {
      for (const [column, text] of damage) {
        const { id } = repo.addResult(make(6));
        db.prepare(`UPDATE runs SET ${column} = ? WHERE id = ?`).run(text, id);
        bad.push(id);
        if (column === 'digest_json') badDigest.push(id);
      }
    }
    // A result of the wrong shape for its kind (an evaluation's rows without scores, a sweep's points not objects).
    const shapes: [NewResultRun, unknown][] = [
      [evaluation(6), { ...EVAL, results: [{ task: 'arc', language: 'en' }] }],
      [finetune(6), { ...FINETUNE, report: null }],
      [finetune(6), { ...FINETUNE, config: { ...FINETUNE.config, adaptLayers: '0,1' } }],
      [finetune(6), { ...FINETUNE, report: { ...FINETUNE.report, retention_cosine: 0.9 } }],
      [sweep(6), { ...SWEEP, points: [3] }],
      [sweep(6), { ...SWEEP, points: [{ ...SWEEP.points[0], accuracy: null }] }],
      [evaluation(6), FINETUNE],
    ];
    for (const [run, doc] of shapes) {
      const { id } = repo.addResult(run);
      db.prepare('UPDATE runs SET summary_json = ? WHERE id = ?').run(JSON.stringify(doc), id);
      bad.push(id);
    }
    for (const id of bad) {
      let error: unknown;
      try {
        repo.get(id);
      } catch (x) {
        error = x;
      }
      expect(error, `run ${id}`).toMatchObject({ code: 'RUN_CORRUPT', details: { id } });
      expect((error as Error).message).toMatch(/cannot be read; delete the run \(other runs are unaffected\)/);
      expect((error as Error).message).not.toContain('SECRET');
    }
    // The list reads only the digest: a run whose digest is damaged is listed with why (and can be
    // deleted); the others list normally and fail when opened.
    const listed = repo.list();
    expect(listed.filter((r) => r.problem !== null).map((r) => r.id)).toEqual([...badDigest].reverse());
    // A damaged row lists with the empty digest, so the list itself stays readable.
    for (const r of listed.filter((x) => x.problem !== null)) expect(Array.isArray(r.languages) && typeof r.model === 'string').toBe(true);
    expect(listed.find((r) => r.id === badDigest[0])?.problem).toMatch(/stored description of run .* cannot be read/);
    // The undamaged runs open as before; the damaged ones delete.
    expect(repo.get(e.id)).toMatchObject({ result: EVAL });
    expect(repo.get(s.id)).toMatchObject({ result: SWEEP });
    for (const id of bad) repo.delete(id);
    expect(repo.list().map((r) => r.id)).toEqual([s.id, f.id, e.id, a.id]);
  });

  it("a kind this version does not know (a newer version's, on a shared file) is listed with why, refused when opened, renamable and deletable", () => {
    // A newer schema would allow it; here the CHECK is suspended to write such a row.
    db.pragma('ignore_check_constraints = ON');
    const { lastInsertRowid } = db
      .prepare(
        `INSERT INTO runs (kind, method, name, started_at, finished_at, seconds, request_json, fingerprints_json, digest_json, summary_json, summary_sha256) VALUES ('training', 'train.run', 'lm', '2026-01-09T00:00:00.000Z', '2026-01-09T00:00:01.000Z', 1, '{}', '{}', '{"steps": 9}', '{}', '')`,
      )
      .run();
    db.pragma('ignore_check_constraints = OFF');
    const id = Number(lastInsertRowid);
    const [listed] = repo.list();
    expect(listed).toMatchObject({ id, kind: 'training', name: 'lm', languages: [] });
    expect(listed.problem).toMatch(/is a "training" run, which this version of LinguaScope cannot open/);
    expect(() => repo.get(id)).toThrowError(expect.objectContaining({ code: 'RUN_CORRUPT', details: { id } }));
    expect(repo.list({ kind: 'analysis' }).map((r) => r.id)).toEqual([a.id]);
    expect(repo.rename(id, 'later').name).toBe('later');
    repo.delete(id);
    expect(repo.list().map((r) => r.id)).toEqual([s.id, f.id, e.id, a.id]);
  });

  it('a second connection on the same file sees the same runs (a file, not memory)', () => {
    const other = new Database(path, { readonly: true });
    expect((other.prepare('SELECT kind, COUNT(*) AS n FROM runs GROUP BY kind ORDER BY kind').all() as { kind: string; n: number }[]).map((r) => [r.kind, r.n])).toEqual([
      ['analysis', 1],
      ['evaluation', 1],
      ['finetune', 1],
      ['sweep', 1],
    ]);
    other.close();
  });
});

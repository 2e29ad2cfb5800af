// Projects on a real SQLite file: round trips, optimistic saves across two connections (two
// windows, or two processes), damaged rows reported for their project alone, ids that do not exist.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { ProjectState } from '../../shared/dto';
import { openDatabase } from './db';
import { ProjectsRepo } from './projects-repo';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const STATE: ProjectState = {
  step: 'saes',
  languages: ['en', 'hi', 'ml'],
  tiers: { en: 'reference', hi: 'medium-low', ml: 'medium-low' },
  tokenizerPath: '',
  modelPath: '/models/gemma',
  saesPath: '/models/gemma-saes',
  saeChoice: { '0': '/models/gemma-saes/layer_0.safetensors', '3': null },
  corpus: 'udhr',
  runSettings: { reduction: 'max', features: 'english-active', includeBos: false, bootstrap: 200, keepFeatures: 64, limit: 12 },
  runId: null,
};

let n = 0;
const fresh = () => {
  const path = join(tmp.dir, `projects-${++n}.db`);
  return { path, repo: new ProjectsRepo(openDatabase(path)) };
};

describe('ProjectsRepo', () => {
  it('stores a project and reads the same state back, at revision 1', () => {
    const { repo } = fresh();
    const made = repo.create('Hindi study', 'user', STATE);
    expect(made).toMatchObject({ name: 'Hindi study', kind: 'user', revision: 1, problem: null, openedAt: null });
    expect(repo.get(made.id).state).toEqual(STATE);
    expect(repo.list().map((p) => p.id)).toEqual([made.id]);
  });

  it('saves with the revision it was based on; a stale save from a second connection is CONFLICT and changes nothing', () => {
    const { path, repo } = fresh();
    const other = new ProjectsRepo(openDatabase(path)); // a second window's backend on the same file
    const { id } = repo.create('p', 'user', STATE);
    expect(repo.save(id, 1, { ...STATE, step: 'run' })).toMatchObject({ revision: 2 });
    // The other window still holds revision 1.
    let error: unknown;
    try {
      other.save(id, 1, { ...STATE, step: 'model', languages: ['en'] });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'CONFLICT', details: { id, revision: 2 } });
    expect((error as Error).message).toMatch(/changed elsewhere .*revision 2.* based on 1/);
    expect(other.get(id).state.step).toBe('run');
    // After reloading (revision 2) its save wins, and the first window is told in turn.
    expect(other.save(id, 2, { ...STATE, step: 'model' }).revision).toBe(3);
    expect(() => repo.save(id, 2, STATE)).toThrowError(expect.objectContaining({ code: 'CONFLICT' }));
    expect(repo.get(id)).toMatchObject({ revision: 3, state: { step: 'model' } });
  });

  it('renames without bumping the revision (a rename never makes another window\'s save a conflict)', () => {
    const { repo } = fresh();
    const { id } = repo.create('p', 'user', STATE);
    expect(repo.rename(id, 'renamed')).toMatchObject({ name: 'renamed', revision: 1 });
    expect(repo.save(id, 1, STATE).revision).toBe(2);
  });

  it('duplicates as a user project with its own revision; deleting one leaves the other', () => {
    const { repo } = fresh();
    const demo = repo.create('demo', 'demo', STATE);
    repo.save(demo.id, 1, { ...STATE, step: 'results' });
    const copy = repo.duplicate(demo.id);
    expect(copy).toMatchObject({ name: 'demo (copy)', kind: 'user', revision: 1 });
    expect(repo.get(copy.id).state.step).toBe('results');
    repo.delete(demo.id);
    expect(repo.get(copy.id).state).toEqual({ ...STATE, step: 'results' });
    expect(repo.duplicate(copy.id, 'named').name).toBe('named');
  });

  it('keeps one demo project: a second create returns the first', () => {
    const { repo } = fresh();
    const a = repo.create('demo', 'demo', STATE);
    const b = repo.create('demo again', 'demo', { ...STATE, step: 'model' });
    expect(b.id).toBe(a.id);
    expect(repo.list()).toHaveLength(1);
  });

  it('reopens the project opened last, even within one clock tick', () => {
    const { repo } = fresh();
    const ids = [1, 2, 3].map((i) => repo.create(`p${i}`, 'user', STATE).id);
    expect(repo.lastOpened()).toBeNull();
    for (const id of [ids[2], ids[0], ids[1], ids[0]]) repo.markOpened(id);
    expect(repo.lastOpened()?.id).toBe(ids[0]);
    expect(repo.list().map((p) => p.id)).toEqual([ids[0], ids[1], ids[2]]);
  });

  it('reports a damaged row as PROJECT_CORRUPT for that project only, without quoting it; it can still be renamed and deleted', () => {
    const { path, repo } = fresh();
    const good = repo.create('good', 'user', STATE);
    const db = openDatabase(path);
    // Classes of damage: not JSON, JSON of the wrong type, a field of the wrong type, a missing
    // field, a bad value inside a nested field.
    const damaged = [
      '{"step": "model", SECRET_TEXT',
      '[1,2,3]',
      'null',
      JSON.stringify({ ...STATE, languages: 'en' }),
      JSON.stringify({ ...STATE, runSettings: undefined }),
      JSON.stringify({ ...STATE, runSettings: { ...STATE.runSettings, bootstrap: -1 } }),
      JSON.stringify({ ...STATE, saeChoice: { layer: 'x' } }),
    ];
    const ids = damaged.map((text, i) => {
      const { id } = repo.create(`bad${i}`, 'user', STATE);
      db.prepare('UPDATE projects SET state_json = ? WHERE id = ?').run(text, id);
      return id;
    });
    for (const id of ids) {
      expect(() => repo.get(id)).toThrowError(expect.objectContaining({ code: 'PROJECT_CORRUPT', details: { id } }));
      expect(() => repo.duplicate(id)).toThrowError(expect.objectContaining({ code: 'PROJECT_CORRUPT' }));
    }
    const listed = repo.list();
    expect(listed.find((p) => p.id === good.id)?.problem).toBeNull();
    for (const id of ids) expect(listed.find((p) => p.id === id)?.problem).toMatch(/damaged|not valid JSON/);
    expect(JSON.stringify(listed)).not.toContain('SECRET');
    expect(repo.get(good.id).state).toEqual(STATE);
    expect(repo.rename(ids[0], 'broken').name).toBe('broken');
    repo.delete(ids[0]);
    expect(repo.list()).toHaveLength(damaged.length);
  });

  it('opens a row written by a newer version (unknown keys) with the keys it knows', () => {
    const { path, repo } = fresh();
    const { id } = repo.create('p', 'user', STATE);
    openDatabase(path).prepare('UPDATE projects SET state_json = ? WHERE id = ?').run(JSON.stringify({ ...STATE, finetune: { rank: 8 } }), id);
    expect(repo.get(id).state).toEqual(STATE);
  });

  it('answers PROJECT_NOT_FOUND for ids never issued and for deleted ones, on every operation', () => {
    const { repo } = fresh();
    const { id } = repo.create('p', 'user', STATE);
    repo.delete(id);
    for (const missing of [id, 999_999, Number.MAX_SAFE_INTEGER]) {
      const ops: (() => unknown)[] = [
        () => repo.get(missing),
        () => repo.item(missing),
        () => repo.save(missing, 1, STATE),
        () => repo.rename(missing, 'x'),
        () => repo.duplicate(missing),
        () => repo.delete(missing),
        () => repo.markOpened(missing),
      ];
      for (const op of ops) expect(op).toThrowError(expect.objectContaining({ code: 'PROJECT_NOT_FOUND', details: { id: missing } }));
    }
    expect(repo.list()).toEqual([]);
  });
});

// Projects through the backend's handlers on a real SQLite file: the bundled demo is a project
// that runs as stored (no step visited), a project survives a backend restart, a moved model or
// SAE folder is reported on open and relocated, stale saves are CONFLICT, and ids that do not
// exist are PROJECT_NOT_FOUND.
import { cpSync, existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { backendContract, projectStateInput } from '../../../shared/contract';
import type { DisparitySummary, OpenedProject, Project, ProjectListItem, ProjectState } from '../../../shared/dto';
import { createBackend, type Backend } from '../backend';
import type { JobContext } from '../handler';
import { DEMO_DIR, DEMO_LIMIT, DEMO_SETTINGS } from './demo';
import { movedPath } from './projects';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const ctx: JobContext = { jobId: 'call', signal: new AbortController().signal, progress: () => {}, log: () => {} };
const call = <T>(b: Backend, method: keyof Backend['handlers'], arg: unknown) =>
  (b.handlers[method] as (a: unknown, c: JobContext) => Promise<unknown>)(arg, ctx) as Promise<T>;

describe('projects (handlers)', () => {
  it('opens a fresh database on the demo project, runnable as stored: every layer has its SAE', async () => {
    const backend = createBackend({ dbPath: join(tmp.dir, 'demo.db') });
    try {
      const last = await call<ProjectListItem>(backend, 'projects.last', {});
      expect(last).toMatchObject({ kind: 'demo', revision: 1, problem: null });
      const { project, status } = await call<OpenedProject>(backend, 'projects.open', { id: last.id });
      const s = project.state;
      expect(s.modelPath).toBe(join(DEMO_DIR(), 'model'));
      expect(Object.keys(s.saeChoice).sort()).toEqual(['0', '1', '2', '3', '4', '5']);
      expect(Object.values(s.saeChoice).every((p) => p && existsSync(p))).toBe(true);
      expect(s.runSettings).toMatchObject({ reduction: DEMO_SETTINGS.reduction, limit: DEMO_LIMIT });
      expect(s.tiers.en).toBe('reference');
      expect(status).toMatchObject({ model: { state: 'ok' }, saes: { state: 'ok' }, corpus: { state: 'ok' }, missingSaes: [] });
      // The request the Run step builds from the stored state alone (segments cut to 1 here).
      const summary = await call<DisparitySummary>(backend, 'analysis.run', {
        model: s.modelPath,
        saes: Object.keys(s.saeChoice).sort((a, b) => Number(a) - Number(b)).map((l) => s.saeChoice[l]!),
        languages: s.languages.slice(0, 3),
        limit: 1,
        settings: { reduction: s.runSettings.reduction, bootstrap: 0 },
      });
      expect(summary.layers).toEqual([0, 1, 2, 3, 4, 5]);
      // Listing again never makes a second demo.
      await call(backend, 'projects.list', {});
      expect((await call<ProjectListItem[]>(backend, 'projects.list', {})).filter((p) => p.kind === 'demo')).toHaveLength(1);
    } finally {
      await backend.close();
    }
  }, 60_000);

  it('reopens the last project with its state after a backend restart on the same file', async () => {
    const dbPath = join(tmp.dir, 'restart.db');
    let backend = createBackend({ dbPath });
    const demo = await call<ProjectListItem>(backend, 'projects.last', {});
    const { project } = await call<OpenedProject>(backend, 'projects.open', { id: demo.id });
    const mine = await call<Project>(backend, 'projects.create', { name: 'Indic', state: { ...project.state, step: 'saes', languages: ['en', 'hi', 'ml'], runSettings: { ...project.state.runSettings, reduction: 'mean' } } });
    await call(backend, 'projects.open', { id: mine.id });
    const saved = await call<{ revision: number }>(backend, 'projects.save', { id: mine.id, revision: 1, state: { ...mine.state, step: 'run' } });
    await backend.close();
    backend = createBackend({ dbPath });
    try {
      const last = await call<ProjectListItem>(backend, 'projects.last', {});
      expect(last).toMatchObject({ id: mine.id, name: 'Indic', revision: saved.revision });
      const again = await call<OpenedProject>(backend, 'projects.open', { id: last.id });
      expect(again.project.state).toEqual({ ...mine.state, step: 'run' });
    } finally {
      await backend.close();
    }
  });

  it('says when the model or SAE folder moved, and relocates the project (SAE picks follow their folder)', async () => {
    const backend = createBackend({ dbPath: join(tmp.dir, 'moved.db') });
    try {
      const work = join(tmp.dir, 'work');
      mkdirSync(work);
      cpSync(join(DEMO_DIR(), 'model'), join(work, 'model'), { recursive: true });
      cpSync(join(DEMO_DIR(), 'saes'), join(work, 'saes'), { recursive: true });
      const demo = await call<OpenedProject>(backend, 'projects.open', { id: (await call<ProjectListItem>(backend, 'projects.last', {})).id });
      const state: ProjectState = {
        ...demo.project.state,
        modelPath: join(work, 'model'),
        saesPath: join(work, 'saes'),
        saeChoice: Object.fromEntries(Object.entries(demo.project.state.saeChoice).map(([l, p]) => [l, movedPath(p!, join(DEMO_DIR(), 'saes'), join(work, 'saes'))])),
      };
      const made = await call<Project>(backend, 'projects.create', { name: 'moving', state });
      expect((await call<OpenedProject>(backend, 'projects.open', { id: made.id })).status.model.state).toBe('ok');
      renameSync(join(work, 'model'), join(work, 'model-new'));
      renameSync(join(work, 'saes'), join(work, 'saes-new'));
      const opened = await call<OpenedProject>(backend, 'projects.open', { id: made.id });
      expect(opened.status.model).toEqual({ path: join(work, 'model'), state: 'missing', message: expect.stringContaining('is not there any more') });
      expect(opened.status.saes.state).toBe('missing');
      expect(opened.status.missingSaes.sort()).toEqual(['0', '1', '2', '3', '4', '5']);
      // A folder that is not a model: the Model step's typed error, and the project is unchanged.
      await expect(call(backend, 'projects.relocate', { id: made.id, revision: 1, model: join(work, 'saes-new') })).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
      await expect(call(backend, 'projects.relocate', { id: made.id, revision: 1, model: join(work, 'nowhere') })).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
      expect((await call<OpenedProject>(backend, 'projects.open', { id: made.id })).project.revision).toBe(1);
      const fixed = await call<OpenedProject>(backend, 'projects.relocate', { id: made.id, revision: 1, model: join(work, 'model-new'), saes: join(work, 'saes-new') });
      expect(fixed.status).toMatchObject({ model: { state: 'ok' }, saes: { state: 'ok' }, missingSaes: [] });
      expect(fixed.project.revision).toBe(2);
      expect(Object.values(fixed.project.state.saeChoice).every((p) => p!.startsWith(join(work, 'saes-new') + '/'))).toBe(true);
      // Based on an older revision: another window relocated or saved first.
      await expect(call(backend, 'projects.relocate', { id: made.id, revision: 1, model: join(work, 'model-new') })).rejects.toMatchObject({ code: 'CONFLICT', details: { revision: 2 } });
    } finally {
      await backend.close();
    }
  });

  it('two windows: the stale save is CONFLICT naming the stored revision; rename, duplicate and delete; deleted ids are PROJECT_NOT_FOUND; the demo comes back fresh', async () => {
    const backend = createBackend({ dbPath: join(tmp.dir, 'windows.db') });
    try {
      const demo = await call<ProjectListItem>(backend, 'projects.last', {});
      const { project } = await call<OpenedProject>(backend, 'projects.open', { id: demo.id });
      await call(backend, 'projects.save', { id: demo.id, revision: 1, state: { ...project.state, step: 'model' } });
      await expect(call(backend, 'projects.save', { id: demo.id, revision: 1, state: { ...project.state, step: 'run' } })).rejects.toMatchObject({ code: 'CONFLICT', details: { id: demo.id, revision: 2 } });
      expect((await call<OpenedProject>(backend, 'projects.open', { id: demo.id })).project.state.step).toBe('model');
      const copy = await call<ProjectListItem>(backend, 'projects.duplicate', { id: demo.id });
      expect(copy).toMatchObject({ kind: 'user', name: 'LinguaScope demo (copy)' });
      expect(await call(backend, 'projects.rename', { id: copy.id, name: 'mine' })).toMatchObject({ name: 'mine' });
      expect(await call(backend, 'projects.delete', { id: demo.id })).toEqual({ deleted: true });
      for (const m of ['projects.open', 'projects.delete', 'projects.duplicate'] as const) {
        await expect(call(backend, m, { id: demo.id })).rejects.toMatchObject({ code: 'PROJECT_NOT_FOUND', details: { id: demo.id } });
      }
      await expect(call(backend, 'projects.save', { id: demo.id, revision: 2, state: project.state })).rejects.toMatchObject({ code: 'PROJECT_NOT_FOUND' });
      await expect(call(backend, 'projects.relocate', { id: demo.id, revision: 2, model: join(DEMO_DIR(), 'model') })).rejects.toMatchObject({ code: 'PROJECT_NOT_FOUND' });
      const list = await call<ProjectListItem[]>(backend, 'projects.list', {});
      const fresh = list.find((p) => p.kind === 'demo')!;
      expect(fresh.id).not.toBe(demo.id);
      expect((await call<OpenedProject>(backend, 'projects.open', { id: fresh.id })).project.state.step).toBe('languages');
      expect((await call<OpenedProject>(backend, 'projects.open', { id: copy.id })).project.state.step).toBe('model');
    } finally {
      await backend.close();
    }
  });

  it('refuses malformed project input at the contract (classes of bad state and ids)', async () => {
    const backend = createBackend({ dbPath: join(tmp.dir, 'input.db') });
    const { project } = await call<OpenedProject>(backend, 'projects.open', { id: (await call<ProjectListItem>(backend, 'projects.last', {})).id });
    await backend.close();
    const good = project.state;
    expect(projectStateInput.safeParse(good).success).toBe(true);
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { ...good, step: 'Model!' },
      { ...good, step: '' },
      { ...good, languages: ['en', ''] },
      { ...good, tiers: { en: 'low' } },
      { ...good, saeChoice: { first: '/x' } },
      { ...good, saeChoice: { 0: '' } },
      { ...good, corpus: '' },
      { ...good, runSettings: { ...good.runSettings, bootstrap: -1 } },
      { ...good, runSettings: { ...good.runSettings, limit: 0 } },
      { ...good, runSettings: { ...good.runSettings, reduction: 'median' } },
      { ...good, runId: 0 },
      { ...good, modelPath: 'x'.repeat(5000) },
      null,
      [],
    ];
    for (const state of bad) expect(projectStateInput.safeParse(state).success, JSON.stringify(state)?.slice(0, 80)).toBe(false);
    for (const id of [0, -3, 2.5, '1', null]) expect(backendContract['projects.open'].input.safeParse({ id }).success).toBe(false);
    expect(backendContract['projects.save'].input.safeParse({ id: 1, state: good }).success).toBe(false); // no revision
    expect(backendContract['projects.relocate'].input.safeParse({ id: 1, revision: 1 }).success).toBe(false); // nothing to relocate
    expect(backendContract['projects.create'].input.safeParse({ name: ' ', state: good }).success).toBe(false);
  });

  it('moves paths by whole components only', () => {
    expect(movedPath('/a/saes/x.safetensors', '/a/saes', '/b/s')).toBe('/b/s/x.safetensors');
    expect(movedPath('/a/saes-old/x', '/a/saes', '/b')).toBe('/a/saes-old/x');
    expect(movedPath('/a/saes', '/a/saes/', '/b/')).toBe('/b/');
    expect(movedPath('/elsewhere', '', '/b')).toBe('/elsewhere');
  });
});

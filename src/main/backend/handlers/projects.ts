// Projects: the bundled demo is one (created on first use, runnable from any step: its SAE pick
// per layer is made here), `open` checks every path a project names so a moved model folder is
// reported (and `relocate` points the project at its new place) instead of failing a run later.
import { existsSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { DEFAULT_DISPARITY } from '../../analysis/disparity';
import type { LanguageRegistry } from '../../data/registry';
import type { OpenedProject, PathCheck, ProjectListItem, ProjectState, ProjectStatus, Tier } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { openModelFolder } from '../../models/model';
import { findSaes, loadSae, saeInfo } from '../../sae/sae';
import type { ProjectsRepo } from '../../store/projects-repo';
import { chooseSaes } from '../analysis-service';
import type { HandlerMap } from '../handler';
import { demoInfo } from './demo';

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

function check(path: string, present: (p: string) => boolean, what: string): PathCheck {
  if (!path) return { path, state: 'unset', message: null };
  if (present(path)) return { path, state: 'ok', message: null };
  return { path, state: 'missing', message: `the ${what} ${path} is not there any more (moved or deleted?): choose its new place` };
}

export function projectStatus(state: ProjectState): ProjectStatus {
  return {
    model: check(state.modelPath, (p) => isDir(p) && isFile(join(p, 'config.json')), 'model folder'),
    saes: check(state.saesPath, existsSync, 'SAE folder'),
    corpus: state.corpus === 'udhr' ? { path: 'udhr', state: 'ok', message: null } : check(state.corpus, isFile, 'corpus file'),
    missingSaes: Object.entries(state.saeChoice)
      .filter(([, source]) => source !== null && !existsSync(source))
      .map(([layer]) => layer),
  };
}

/** `path` moved from under `from` to under `to` (whole path components only). */
export function movedPath(path: string, from: string, to: string): string {
  const base = from.replace(/[\\/]+$/, '');
  if (!base) return path;
  if (path === base) return to;
  for (const s of new Set([sep, '/'])) if (path.startsWith(base + s)) return to.replace(/[\\/]+$/, '') + s + path.slice(base.length + 1);
  return path;
}

/** Every path of `state` that lay under `from`, now under `to`. */
function relocated(state: ProjectState, from: string, to: string): ProjectState {
  const move = (p: string) => movedPath(p, from, to);
  return {
    ...state,
    modelPath: move(state.modelPath),
    saesPath: move(state.saesPath),
    tokenizerPath: move(state.tokenizerPath),
    corpus: state.corpus === 'udhr' ? 'udhr' : move(state.corpus),
    saeChoice: Object.fromEntries(Object.entries(state.saeChoice).map(([layer, source]) => [layer, source === null ? null : move(source)])),
  };
}

/** The bundled demo's project: its model and SAEs (one per layer, the backend's pick), the paper's
 * ten languages, and the main job's settings. */
export async function demoState(registry: LanguageRegistry): Promise<ProjectState> {
  const demo = demoInfo();
  const saeChoice: Record<string, string> = {};
  if (demo.ok) for (const spec of await chooseSaes(demo.saes)) saeChoice[String(saeInfo(spec).layer)] = spec.source;
  const tiers: Record<string, Tier> = {};
  for (const l of registry.resolve(demo.languages)) tiers[l.code] = l.tier;
  const { reduction, features, includeBos, bootstrap, keepFeatures } = { ...DEFAULT_DISPARITY, ...demo.settings };
  return {
    step: 'languages',
    languages: demo.languages,
    tiers,
    tokenizerPath: '',
    modelPath: demo.model,
    saesPath: demo.saes,
    saeChoice,
    corpus: 'udhr',
    runSettings: { reduction, features, includeBos, bootstrap, keepFeatures, limit: demo.limit },
    runId: null,
  };
}

/** The demo project, created with the bundled demo's state when the database has none (a fresh
 * one, or its demo project was deleted). */
export async function ensureDemoProject(repo: ProjectsRepo, registry: LanguageRegistry): Promise<ProjectListItem> {
  return repo.demo() ?? repo.create('LinguaScope demo', 'demo', await demoState(registry));
}

export function projectHandlers(
  repo: ProjectsRepo,
  registry: LanguageRegistry,
): HandlerMap<
  'projects.list' | 'projects.last' | 'projects.open' | 'projects.create' | 'projects.save' | 'projects.rename' | 'projects.duplicate' | 'projects.delete' | 'projects.relocate'
> {
  // A fresh database (or one whose demo project was deleted) gets the demo project back.
  const ensureDemo = () => ensureDemoProject(repo, registry);

  const open = (id: number): OpenedProject => {
    let project = repo.get(id);
    // The demo project follows the bundled demo when the app itself moved (an update, another
    // install folder): its old paths are gone, the current demo's are there.
    if (project.kind === 'demo') {
      const demo = demoInfo();
      const status = projectStatus(project.state);
      const from = project.state.modelPath.replace(/[\\/]model[\\/]*$/, '');
      if (demo.ok && status.model.state === 'missing' && from && from !== project.state.modelPath && from !== demo.dir) {
        repo.save(id, project.revision, relocated(project.state, from, demo.dir));
        project = repo.get(id);
      }
    }
    repo.markOpened(id);
    return { project: repo.get(id), status: projectStatus(project.state) };
  };

  return {
    'projects.list': async () => {
      await ensureDemo();
      return repo.list();
    },
    'projects.last': async () => {
      await ensureDemo();
      return repo.lastOpened() ?? repo.demo()!;
    },
    'projects.open': async ({ id }) => open(id),
    'projects.create': async ({ name, state }) => repo.create(name, 'user', state),
    'projects.save': async ({ id, revision, state }) => repo.save(id, revision, state),
    'projects.rename': async ({ id, name }) => repo.rename(id, name),
    'projects.duplicate': async ({ id, name }) => repo.duplicate(id, name),
    'projects.delete': async ({ id }) => (repo.delete(id), { deleted: true as const }),
    'projects.relocate': async ({ id, revision, model, saes }) => {
      const project = repo.get(id);
      let state = project.state;
      // Each new place is read before anything is stored: a wrong folder is the same typed error
      // the Model and SAEs steps give, and the project stays as it was.
      if (model !== undefined) {
        const folder = openModelFolder(model);
        if (state.modelPath) state = relocated(state, state.modelPath, folder.path);
        state = { ...state, modelPath: folder.path };
      }
      if (saes !== undefined) {
        const found = isDir(saes) ? await findSaes(saes) : [await loadSae(saes)];
        if (found.length === 0) throw new ApiError('WEIGHTS_NOT_FOUND', `${saes}: no SAE found`, { file: saes });
        if (state.saesPath) state = relocated(state, state.saesPath, saes);
        state = { ...state, saesPath: saes };
      }
      repo.save(id, revision, state);
      return open(id);
    },
  };
}

// A finished study of the bundled demo shown in the demo project, on a real SQLite file: the project
// then names the study's measurement (Results), its fine-tune folder (Fine-tune) and its stored
// evaluation (Evaluate) found among the study job's own runs, and opens first; the study's runs are
// labelled. Classes that must leave projects alone: a study of another model, a demo project that
// names other SAEs, another corpus or another model, a user project with the demo's model, a step
// whose job the app still follows, a damaged demo row (PROJECT_CORRUPT, left as stored). A save
// that meets another window's is made on the newer state.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { DisparitySummary, ProjectState } from '../../shared/dto';
import type { EvalResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';
import type { StudyResult } from '../../shared/study';
import { LanguageRegistry } from '../data/registry';
import { demoPaths } from '../demo/build';
import { openDatabase } from '../store/db';
import { LanguagesRepo } from '../store/languages-repo';
import { ProjectsRepo } from '../store/projects-repo';
import { RunsRepo } from '../store/runs-repo';
import { projectMatchesStudy, showStudyInDemoProject, studyRunLabel } from './study-project';
import type { StudyRequest } from './study-service';

const tmp = tempDir('linguascope-study-project-');
const DEMO_DIR = join(tmp.dir, 'bundled-demo');
const DEMO = demoPaths(DEMO_DIR);
const STUDY = join(tmp.dir, 'report');
let previousDemoDir: string | undefined;
beforeAll(() => {
  previousDemoDir = process.env.LINGUASCOPE_DEMO_DIR;
  process.env.LINGUASCOPE_DEMO_DIR = DEMO_DIR;
});
afterAll(() => {
  if (previousDemoDir === undefined) delete process.env.LINGUASCOPE_DEMO_DIR;
  else process.env.LINGUASCOPE_DEMO_DIR = previousDemoDir;
  tmp.cleanup();
});

const LANGUAGES = ['en', 'es', 'hi'];
const DEMO_STATE: ProjectState = {
  step: 'languages',
  languages: LANGUAGES,
  tiers: { en: 'high', es: 'high', hi: 'medium-low' },
  tokenizerPath: '',
  modelPath: DEMO.model,
  saesPath: DEMO.saes,
  saeChoice: { '0': join(DEMO.saes, 'l0.safetensors'), '1': join(DEMO.saes, 'l1.safetensors') },
  corpus: 'udhr',
  runSettings: { reduction: 'mean', features: 'english-active', includeBos: false, bootstrap: 100, keepFeatures: 64, limit: 40 },
  runId: null,
};
const REQUEST: StudyRequest = { model: DEMO.model, saes: DEMO.saes, languages: LANGUAGES, corpus: 'udhr', finetune: { steps: 40, lora: { rank: 8 } }, outDir: STUDY };

// Plain stored documents: the repositories keep them as given and read only the fields named here.
const SUMMARY = {
  model: { path: DEMO.model, fingerprint: 'f'.repeat(64) },
  saes: [],
  languages: LANGUAGES.map((code) => ({ code })),
  layers: [0, 1],
  segments: 40,
  corpus: { source: 'udhr' },
  settings: { reduction: 'mean', features: 'english-active', includeBos: false, bootstrap: 100, seed: 0, fidelityWarnDrop: 0.1, topFeatures: 10, keepFeatures: 64 },
  gap_percent: [3, 4],
} as unknown as DisparitySummary;
const FINETUNE = {
  outDir: join(STUDY, 'finetune'),
  adapterDir: join(STUDY, 'finetune', 'adapter'),
  outcome: 'completed',
  steps: 40,
  stepsPlanned: 40,
  config: { model: DEMO.model, languages: ['en', 'hi'] },
  report: { gain_percent: { hi: { value: 4, ci: null } }, retention_percent: { value: 99, ci: null } },
  analysis: { before: SUMMARY, after: SUMMARY },
} as unknown as FinetuneResult;
const EVAL = {
  model: DEMO.model,
  adapter: FINETUNE.adapterDir,
  preset: 'lm-eval-okapi',
  results: [{ task: 'mc', language: 'hi', n: 4, before: { acc: 0.25 }, after: { acc: 0.5 } }],
  files: [],
  outDir: join(STUDY, 'eval'),
} as unknown as EvalResult;
const RESULT = {
  outDir: STUDY,
  languages: LANGUAGES,
  targets: ['hi'],
  analysis: { outDir: join(STUDY, 'analysis'), files: [], summary: SUMMARY },
  finetune: FINETUNE,
  task: { dir: join(STUDY, 'task'), segments: [], items: 4, choices: 4, rule: '' },
  evaluation: EVAL,
} as unknown as StudyResult;

const at = (second: number, jobId: string | null) => ({ jobId, startedAt: `2026-11-30T12:00:${String(second).padStart(2, '0')}.000Z`, finishedAt: `2026-11-30T12:00:${String(second + 1).padStart(2, '0')}.000Z`, seconds: 1 });
const analysisRequest = (outDir: string | null) => ({ model: DEMO.model, saes: DEMO.saes, languages: LANGUAGES, corpus: 'udhr', limit: 40, settings: {}, outDir });

let n = 0;
function fresh() {
  const db = openDatabase(join(tmp.dir, `study-${++n}.db`));
  const deps = { projects: new ProjectsRepo(db), runs: new RunsRepo(db), registry: new LanguageRegistry(new LanguagesRepo(db)) };
  return { db, deps };
}

/** The runs a study job stores (its measurement, the fine-tune's two held-out analyses, the
 * fine-tune, the evaluation), after an older study's evaluation in the same folder. */
function storeStudyRuns(runs: RunsRepo, jobId: string) {
  const older = runs.addResult({ kind: 'evaluation', name: 'older study', ...at(1, 'job-older'), request: { model: DEMO.model, data: RESULT.task.dir }, result: EVAL });
  const measure = runs.add({ method: 'analysis.export', name: 'measure', ...at(10, jobId), request: analysisRequest(RESULT.analysis.outDir), summary: SUMMARY });
  runs.add({ method: 'analysis.run', name: 'held-out before', ...at(20, jobId), request: analysisRequest(null), summary: SUMMARY });
  runs.add({ method: 'analysis.run', name: 'held-out after', ...at(21, jobId), request: analysisRequest(null), summary: SUMMARY });
  const finetune = runs.addResult({ kind: 'finetune', name: 'fine-tune', ...at(22, jobId), request: { model: DEMO.model, saes: DEMO.saes, languages: ['en', 'hi'], outDir: FINETUNE.outDir }, result: FINETUNE });
  const evaluation = runs.addResult({ kind: 'evaluation', name: 'evaluation', ...at(30, jobId), request: { model: DEMO.model, data: RESULT.task.dir }, result: EVAL });
  return { older, measure, finetune, evaluation };
}

describe('the study run label', () => {
  it('says "demo study" for the bundled demo model however its path is spelt, else the study folder', () => {
    expect(studyRunLabel({ model: DEMO.model, outDir: STUDY })).toBe('demo study');
    expect(studyRunLabel({ model: `${DEMO.model}/`, outDir: STUDY })).toBe('demo study');
    expect(studyRunLabel({ model: join(DEMO.model, '..', 'model'), outDir: STUDY })).toBe('demo study');
    expect(studyRunLabel({ model: '/models/gemma-2-2b', outDir: join(tmp.dir, 'hindi-study') })).toBe('study hindi-study');
    expect(studyRunLabel({ model: '/models/gemma-2-2b', outDir: `${join(tmp.dir, 'hindi-study')}/` })).toBe('study hindi-study');
  });
});

describe('which project is the study\'s', () => {
  it.each<[string, Partial<ProjectState>, Partial<StudyRequest>, boolean]>([
    ['the same model, SAE folder and corpus', {}, {}, true],
    ['the same SAE files, layer by layer, in another order', {}, { saes: [join(DEMO.saes, 'l1.safetensors'), join(DEMO.saes, 'l0.safetensors')] }, true],
    ['one SAE file fewer than the project chose', {}, { saes: [join(DEMO.saes, 'l0.safetensors')] }, false],
    ['a layer the project left out', { saeChoice: { '0': join(DEMO.saes, 'l0.safetensors'), '1': null } }, { saes: [join(DEMO.saes, 'l0.safetensors'), join(DEMO.saes, 'l1.safetensors')] }, false],
    ['another model', { modelPath: '/models/gemma-2-2b' }, {}, false],
    ['no model chosen', { modelPath: '' }, {}, false],
    ['another SAE folder', { saesPath: '/saes/other' }, {}, false],
    ['no SAE folder chosen', { saesPath: '' }, {}, false],
    ['a corpus file instead of the UDHR', { corpus: '/data/corpus.tsv' }, {}, false],
    ['the study on a corpus file, the project on the UDHR', {}, { corpus: '/data/corpus.tsv' }, false],
    ['the same corpus file spelt differently', { corpus: '/data/corpus.tsv' }, { corpus: '/data/../data/corpus.tsv' }, true],
  ])('%s', (_name, state, request, matches) => {
    expect(projectMatchesStudy({ ...DEMO_STATE, ...state }, { ...REQUEST, ...request })).toBe(matches);
  });
});

describe('showStudyInDemoProject on a real SQLite file', () => {
  it('points the demo project at the study: Results its measurement, Fine-tune its folder, Evaluate its stored evaluation; the demo opens first; a user project with the same model is untouched', async () => {
    const { deps } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', { ...DEMO_STATE, step: 'saes' });
    const user = deps.projects.create('my demo copy', 'user', DEMO_STATE);
    deps.projects.markOpened(user.id);
    const ids = storeStudyRuns(deps.runs, 'job-study');
    expect(await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-study')).toBe(demo.id);
    const after = deps.projects.get(demo.id);
    expect(after.revision).toBe(demo.revision + 1);
    expect(after.state).toEqual({
      ...DEMO_STATE,
      step: 'saes',
      runId: ids.measure.id,
      finetune: { outDir: FINETUNE.outDir, targets: ['hi'], limit: null, settings: { steps: 40, lora: { rank: 8 }, loss: { reduction: 'mean' } }, jobId: null, run: { corpus: 'udhr', limit: null } },
      evaluate: { data: RESULT.task.dir, task: 'mc', languages: 'project', preset: 'lm-eval-okapi', limit: null, fewshot: null, adapter: 'finetune', adapterPath: '', outDir: EVAL.outDir, jobId: null, runId: ids.evaluation.id },
    });
    expect(deps.projects.lastOpened()?.id).toBe(demo.id);
    expect(deps.projects.get(user.id)).toMatchObject({ revision: user.revision, state: DEMO_STATE });
  });

  it('creates the demo project on a database that has none yet', async () => {
    const { deps } = fresh();
    expect(deps.projects.demo()).toBeNull();
    // No bundled demo at DEMO_DIR: the created project names its paths and no SAE choice, so it is
    // the study's only when the study names the same (empty) choice; a folder match is enough.
    const ids = storeStudyRuns(deps.runs, 'job-fresh');
    const id = await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-fresh');
    expect(id).toBe(deps.projects.demo()?.id);
    expect(deps.projects.get(id!).state).toMatchObject({ modelPath: DEMO.model, saesPath: DEMO.saes, runId: ids.measure.id, evaluate: { runId: ids.evaluation.id } });
  });

  it('creates no demo project for a study of the demo model that a fresh demo project would not match (another corpus, other SAEs)', async () => {
    for (const other of [{ corpus: join(tmp.dir, 'corpus.tsv') }, { saes: join(tmp.dir, 'my-saes') }]) {
      const { deps } = fresh();
      expect(await showStudyInDemoProject(deps, { ...REQUEST, ...other }, RESULT, 'job-other-corpus')).toBeNull();
      expect(deps.projects.demo()).toBeNull();
      expect(deps.projects.list()).toEqual([]);
    }
  });

  it('evaluates "only these" languages when the study measured others than the project has', async () => {
    const { deps } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', { ...DEMO_STATE, languages: ['en', 'hi'] });
    storeStudyRuns(deps.runs, 'job-langs');
    await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-langs');
    expect(deps.projects.get(demo.id).state.evaluate?.languages).toEqual(LANGUAGES);
  });

  it.each<[string, Partial<ProjectState>]>([
    ['other SAEs', { saesPath: '/saes/other' }],
    ['another model', { modelPath: '/models/gemma-2-2b' }],
    ['another corpus', { corpus: '/data/corpus.tsv' }],
  ])('leaves a demo project that names %s as it was (revision, state, last opened)', async (_name, changed) => {
    const { deps } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', { ...DEMO_STATE, ...changed });
    const user = deps.projects.create('mine', 'user', DEMO_STATE);
    deps.projects.markOpened(user.id);
    storeStudyRuns(deps.runs, 'job-x');
    expect(await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-x')).toBeNull();
    expect(deps.projects.get(demo.id)).toMatchObject({ revision: demo.revision, state: { ...DEMO_STATE, ...changed } });
    expect(deps.projects.lastOpened()?.id).toBe(user.id);
  });

  it('a study of another model changes no project and creates no demo project', async () => {
    const { deps } = fresh();
    const other = { ...REQUEST, model: '/models/gemma-2-2b' };
    const user = deps.projects.create('gemma', 'user', { ...DEMO_STATE, modelPath: other.model });
    expect(await showStudyInDemoProject(deps, other, RESULT, 'job-y')).toBeNull();
    expect(deps.projects.demo()).toBeNull();
    expect(deps.projects.get(user.id).revision).toBe(user.revision);
  });

  it('leaves a step whose job the app still follows, and sets the others', async () => {
    const { deps } = fresh();
    const following = { outDir: '/runs/mine', targets: ['hi'], limit: null, settings: {}, jobId: 'ft-in-app', run: { corpus: 'udhr' as const, limit: null } };
    const demo = deps.projects.create('LinguaScope demo', 'demo', { ...DEMO_STATE, finetune: following });
    const ids = storeStudyRuns(deps.runs, 'job-z');
    await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-z');
    const state = deps.projects.get(demo.id).state;
    expect(state.finetune).toEqual(following);
    expect(state).toMatchObject({ runId: ids.measure.id, evaluate: { runId: ids.evaluation.id } });
  });

  it('takes only the study job\'s runs: another job\'s evaluation of the same folder is not shown, and none found leaves Results and Evaluate as they were', async () => {
    const { deps } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', { ...DEMO_STATE, runId: null });
    storeStudyRuns(deps.runs, 'job-other');
    await showStudyInDemoProject(deps, REQUEST, RESULT, 'job-never-stored');
    const state = deps.projects.get(demo.id).state;
    expect(state.runId).toBeNull();
    expect(state.evaluate).toBeUndefined();
    expect(state.finetune?.outDir).toBe(FINETUNE.outDir);
  });

  it('a damaged demo project row is PROJECT_CORRUPT and stays exactly as stored (never overwritten)', async () => {
    const { deps, db } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', DEMO_STATE);
    db.prepare('UPDATE projects SET state_json = ? WHERE id = ?').run('{"step": 3', demo.id);
    storeStudyRuns(deps.runs, 'job-damaged');
    await expect(showStudyInDemoProject(deps, REQUEST, RESULT, 'job-damaged')).rejects.toMatchObject({ code: 'PROJECT_CORRUPT' });
    expect(db.prepare('SELECT state_json, revision FROM projects WHERE id = ?').get(demo.id)).toEqual({ state_json: '{"step": 3', revision: demo.revision });
  });

  it('a window that saved meanwhile: the study is saved on that window\'s state, which is kept', async () => {
    const { deps, db } = fresh();
    const demo = deps.projects.create('LinguaScope demo', 'demo', DEMO_STATE);
    const window = new ProjectsRepo(db);
    let raced = false;
    // The other window saves between the study's read and its save.
    const racing = Object.assign(Object.create(deps.projects) as ProjectsRepo, {
      save: (id: number, revision: number, state: ProjectState) => {
        if (!raced) {
          raced = true;
          window.save(id, revision, { ...window.get(id).state, step: 'results' });
        }
        return deps.projects.save(id, revision, state);
      },
    });
    const ids = storeStudyRuns(deps.runs, 'job-race');
    await showStudyInDemoProject({ ...deps, projects: racing }, REQUEST, RESULT, 'job-race');
    const after = deps.projects.get(demo.id);
    expect(after.revision).toBe(demo.revision + 2);
    expect(after.state).toMatchObject({ step: 'results', runId: ids.measure.id });
  });
});

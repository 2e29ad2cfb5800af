// The bundled demo's study (`linguascope demo`) shown in the demo project: the app and served mode
// open on that project, so once the study is done its steps show the study's results: Results its
// measurement (a stored run), Fine-tune its run folder (read back by finetune.status), Evaluate its
// evaluation (a stored run: the study's job ended with the CLI's process, so a job id would show
// nothing). Only the demo project is changed, and only while it names the study's model, SAEs and
// corpus; a step whose job the app started and has not seen end is left as it is.
import { basename, resolve } from 'node:path';
import { projectStateInput } from '../../shared/contract';
import type { ProjectEvaluateState, ProjectState, RunListItem } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { StudyResult } from '../../shared/study';
import type { LanguageRegistry } from '../data/registry';
import { demoPaths } from '../demo/build';
import type { ProjectsRepo } from '../store/projects-repo';
import type { RunsRepo } from '../store/runs-repo';
import type { StudyRequest } from './study-service';
import { DEMO_DIR } from './handlers/demo';
import { demoState, ensureDemoProject } from './handlers/projects';

const same = (a: string, b: string) => resolve(a) === resolve(b);
const isDemoModel = (model: string) => same(model, demoPaths(DEMO_DIR()).model);

/** What the study's runs are called before their own names: "demo study" on the bundled demo,
 * else "study <folder>". */
export function studyRunLabel(request: Pick<StudyRequest, 'model' | 'outDir'>): string {
  return isDemoModel(request.model) ? 'demo study' : `study ${basename(resolve(request.outDir))}`;
}

/** The project names the study's model, SAEs (a folder, or the same files layer by layer) and corpus. */
export function projectMatchesStudy(state: ProjectState, request: Pick<StudyRequest, 'model' | 'saes' | 'corpus'>): boolean {
  if (!state.modelPath || !same(state.modelPath, request.model)) return false;
  const corpus = request.corpus ?? 'udhr';
  if (corpus === 'udhr' || state.corpus === 'udhr' ? corpus !== state.corpus : !same(corpus, state.corpus)) return false;
  if (typeof request.saes === 'string') return Boolean(state.saesPath) && same(state.saesPath, request.saes);
  const chosen = Object.values(state.saeChoice).filter((s): s is string => s !== null).map((s) => resolve(s)).sort();
  const asked = request.saes.map((s) => resolve(s)).sort();
  return chosen.length === asked.length && chosen.every((s, i) => s === asked[i]);
}

/** The study's stored runs, by what they are: this job's runs written to the study's parts. */
function studyRuns(runs: RunsRepo, jobId: string, result: StudyResult) {
  const mine = runs.list({ jobId });
  const find = <K extends RunListItem['kind']>(kind: K, outDir: string | null) =>
    mine.find((r): r is Extract<RunListItem, { kind: K }> => r.kind === kind && r.outDir !== null && outDir !== null && same(r.outDir, outDir)) ?? null;
  return { measure: find('analysis', result.analysis.outDir), finetune: find('finetune', result.finetune.outDir), evaluation: find('evaluation', result.evaluation.outDir) };
}

/** The demo project's state with the study's results in its Results, Fine-tune and Evaluate steps. */
export function stateWithStudy(state: ProjectState, request: StudyRequest, result: StudyResult, ids: { measure: number | null; evaluation: number | null }): ProjectState {
  const next: ProjectState = { ...state };
  if (ids.measure !== null) next.runId = ids.measure;
  if (!state.finetune?.jobId) {
    const reduction = result.analysis.summary.settings.reduction;
    next.finetune = {
      outDir: result.finetune.outDir,
      targets: result.targets,
      // The study's fine-tune reads every aligned segment of its corpus.
      limit: null,
      settings: { ...request.finetune, loss: { reduction, ...request.finetune?.loss } },
      jobId: null,
      run: { corpus: request.corpus ?? 'udhr', limit: null },
    };
  }
  if (!state.evaluate?.jobId && ids.evaluation !== null) {
    const projectLanguages = [...next.languages].sort().join();
    const evaluate: ProjectEvaluateState = {
      data: result.task.dir,
      task: 'mc',
      languages: [...result.languages].sort().join() === projectLanguages ? 'project' : result.languages,
      // The evaluation's own preset name; projectStateInput checks it below.
      preset: result.evaluation.preset as ProjectEvaluateState['preset'],
      limit: null,
      fewshot: null,
      adapter: 'finetune',
      adapterPath: '',
      outDir: result.evaluation.outDir ?? '',
      jobId: null,
      runId: ids.evaluation,
    };
    next.evaluate = evaluate;
  }
  return next;
}

export interface StudyProjectDeps {
  projects: ProjectsRepo;
  runs: RunsRepo;
  registry: LanguageRegistry;
}

/** After a study of the bundled demo: its results go into the demo project (created if the database
 * has none yet), which becomes the project the app opens. Returns the project's id, or null when the
 * study is not the demo's or the demo project names other model or SAEs. A save that meets another
 * window's (CONFLICT) is tried once more on the state that window saved. */
export async function showStudyInDemoProject(deps: StudyProjectDeps, request: StudyRequest, result: StudyResult, jobId: string): Promise<number | null> {
  if (!isDemoModel(request.model)) return null;
  // A database without a demo project gets one only for a study it would match.
  if (!deps.projects.demo() && !projectMatchesStudy(await demoState(deps.registry), request)) return null;
  const { id } = await ensureDemoProject(deps.projects, deps.registry);
  const found = studyRuns(deps.runs, jobId, result);
  for (let attempt = 0; ; attempt++) {
    const project = deps.projects.get(id);
    if (!projectMatchesStudy(project.state, request)) return null;
    const state = projectStateInput.parse(stateWithStudy(project.state, request, result, { measure: found.measure?.id ?? null, evaluation: found.evaluation?.id ?? null })) as ProjectState;
    try {
      deps.projects.save(id, project.revision, state);
      break;
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'CONFLICT') || attempt > 0) throw error;
    }
  }
  deps.projects.markOpened(id);
  return id;
}

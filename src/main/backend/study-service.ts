// The whole study as one job (study.run; the main job `linguascope demo` runs it on the bundled
// demo). Five stages, each the product's own step with its own rules and stored run:
//   1 measure    analysis.export of every language            -> DIR/analysis/
//   2 fine-tune  finetune.run, English + the targets           -> DIR/finetune/ (held-out before/after)
//   3 task       a multiple-choice task cut from the fine-tune's held-out segments -> DIR/task/
//   4 evaluate   eval.run of the base and the adapted model    -> DIR/eval/
//   5 correlate  eval.correlate, the measure against accuracy  -> DIR/correlation/
// then one report (DIR/report.html, study.json, figures.csv) with every figure, its formula and
// its interval. DIR is new or empty, or a study of ours, whose parts are replaced.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ParsedInput } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import { STUDY_FILES, STUDY_PARTS, STUDY_PLAN_FILE, STUDY_STAGES, type StudyResult, type StudyStage } from '../../shared/study';
import { studyFindings, studyReportFiles } from '../analysis/study-report';
import { makeDirs } from '../io/fs';
import { checkOutputFolder, OUTPUT_MARKER, writeError, writeFileSynced } from '../io/output';
import { FINETUNE_CONFIG_FILE, STEP_LOG_FILE } from '../train/finetune';
import { buildContinuationTask, writeContinuationTask } from '../data/continuation-task';
import { CUT_RULE } from '../data/continuation-cut';
import type { AnalysisService } from './analysis-service';
import type { HandlerMap, JobContext } from './handler';
import { throwIfCancelled } from './jobs';

export type StudyRequest = ParsedInput<'study.run'>;
/** Where the task's texts come from: the analysis' own reading of the corpus. */
export type ContinuationSource = Pick<AnalysisService, 'segmentTextsOf'>;
export type StudyHandlers = Pick<HandlerMap, 'analysis.export' | 'finetune.run' | 'eval.run' | 'eval.correlate'>;

const PLAN_PRODUCER = 'linguascope study';
const KNOWN_ENTRIES = new Set<string>([...Object.values(STUDY_PARTS), ...STUDY_FILES, STUDY_PLAN_FILE, OUTPUT_MARKER, 'charts']);
const CHART_FILES = ['gap.svg', 'activation.svg', 'accuracy.svg'];
/** A checkpoint, or one a killed run was writing (finetune.ts removes those on resume). */
const CHECKPOINT = /^step-\d+\.safetensors(\.tmp-\d+)?$/;

type EntryKind = 'file' | 'dir' | 'link' | 'other';
function kindOf(path: string): EntryKind {
  const s = lstatSync(path);
  return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
}

/** An output folder written through io/output.ts (its marker lists what it holds), or empty. */
function markedFolderIsOurs(path: string): boolean {
  try {
    checkOutputFolder(path);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'OUTPUT_EXISTS') return false;
    throw error;
  }
}

/** The first entry of a study folder of ours that the study did not write, or null. Removing the
 * parts removes everything under them, so each is checked by the rules of the step that wrote it:
 * marked output folders (analysis, task, eval, correlation, the adapter, the fine-tune's report),
 * the fine-tune run's own files, the charts and report files as plain files, never a link.
 * Hidden entries (a step's staging leftovers) are neither checked nor removed. */
function foreignEntry(dir: string, entries: readonly string[]): string | null {
  for (const e of entries) {
    if (e.startsWith('.')) continue;
    const path = join(dir, e);
    const kind = kindOf(path);
    if (!KNOWN_ENTRIES.has(e)) return e;
    if ((STUDY_FILES as readonly string[]).includes(e) || e === STUDY_PLAN_FILE) {
      if (kind !== 'file') return e;
    } else if (kind !== 'dir') return e;
    else if (e === 'charts') {
      const odd = readdirSync(path).find((f) => !CHART_FILES.includes(f) || kindOf(join(path, f)) !== 'file');
      if (odd !== undefined) return `charts/${odd}`;
    } else if (e === STUDY_PARTS.finetune) {
      for (const f of readdirSync(path)) {
        if (f.startsWith('.')) continue;
        const p = join(path, f);
        const k = kindOf(p);
        const ok =
          f === FINETUNE_CONFIG_FILE || f === STEP_LOG_FILE
            ? k === 'file'
            : f === 'checkpoints'
              ? k === 'dir' && readdirSync(p).every((c) => CHECKPOINT.test(c) && kindOf(join(p, c)) === 'file')
              : (f === 'adapter' || f === 'report') && k === 'dir' && markedFolderIsOurs(p);
        if (!ok) return `${e}/${f}`;
      }
    } else if (!markedFolderIsOurs(path)) return e;
  }
  return null;
}

/** Checked before any work: DIR missing or empty ('new'), or a study of ours (its parts are
 * removed, nothing else is there to lose). Anything else is refused with OUTPUT_EXISTS. */
export function prepareStudyFolder(dir: string): 'new' | 'replaced' {
  let stats;
  try {
    stats = lstatSync(dir);
  } catch {
    return 'new';
  }
  if (stats.isSymbolicLink()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a symbolic link; choose a real folder for the study`, { path: dir });
  if (!stats.isDirectory()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a file; the study needs a folder`, { path: dir });
  const entries = readdirSync(dir);
  if (entries.length === 0) return 'new';
  let plan: { producer?: unknown } | null = null;
  try {
    // A plan that is a link could be anyone's file: only a plain file of ours counts.
    if (kindOf(join(dir, STUDY_PLAN_FILE)) === 'file') plan = JSON.parse(readFileSync(join(dir, STUDY_PLAN_FILE), 'utf8')) as { producer?: unknown };
  } catch {
    plan = null;
  }
  if (plan?.producer !== PLAN_PRODUCER) {
    throw new ApiError('OUTPUT_EXISTS', `${dir} is not empty and is not a study of LinguaScope (no ${STUDY_PLAN_FILE} of ours); choose a new or empty folder`, { path: dir });
  }
  const foreign = foreignEntry(dir, entries);
  if (foreign !== null) {
    throw new ApiError('OUTPUT_EXISTS', `${dir} holds a study and also ${foreign}, which the study did not write; choose a new or empty folder`, { path: dir });
  }
  for (const e of entries) if (KNOWN_ENTRIES.has(e)) rmSync(join(dir, e), { recursive: true, force: true });
  return 'replaced';
}

export class StudyService {
  constructor(
    private readonly handlers: StudyHandlers,
    private readonly source: ContinuationSource,
  ) {}

  async run(request: StudyRequest, ctx: JobContext): Promise<StudyResult> {
    const t0 = performance.now();
    const dir = resolve(request.outDir);
    const languages = [...new Set(request.languages)];
    // Codes are compared as the registry reads them: case-insensitively, English in any region.
    if (request.targets?.some(isEnglish)) throw new ApiError('INVALID_ARGUMENT', 'English is the reference the targets are pulled towards; it cannot be a target', { setting: 'targets' });
    const measured = new Set(languages.map((l) => l.toLowerCase()));
    const missing = (request.targets ?? []).filter((t) => !measured.has(t.toLowerCase()));
    if (missing.length) throw new ApiError('INVALID_ARGUMENT', `target${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not among the languages measured (${languages.join(', ')})`, { setting: 'targets' });
    prepareStudyFolder(dir);
    try {
      makeDirs(dir);
      writeFileSynced(join(dir, STUDY_PLAN_FILE), `${JSON.stringify({ producer: PLAN_PRODUCER, request: { ...request, jobId: undefined } }, null, 2)}\n`);
    } catch (error) {
      throw writeError(dir, error, `cannot write the study folder ${dir}`);
    }
    const stages: StudyResult['stages'] = [];
    const stage = async <T>(name: StudyStage, work: (sub: JobContext) => Promise<T>): Promise<T> => {
      throwIfCancelled(ctx.signal);
      const k = STUDY_STAGES.indexOf(name) + 1;
      const started = performance.now();
      ctx.progress(`${k}/${STUDY_STAGES.length} ${name}`, k - 1, STUDY_STAGES.length);
      const sub: JobContext = {
        ...ctx,
        setOwnerRun: undefined,
        progress: (s, done, total, eta, detail) => ctx.progress(`${k}/${STUDY_STAGES.length} ${name}: ${s}`, done, total, eta, detail),
      };
      const value = await work(sub);
      stages.push({ stage: name, seconds: round((performance.now() - started) / 1000) });
      return value;
    };
    const common = { model: request.model, saes: request.saes, corpus: request.corpus };

    const analysis = await stage('measure', (sub) =>
      this.handlers['analysis.export']({ ...common, languages, limit: request.limit, settings: request.analysis, outDir: join(dir, STUDY_PARTS.analysis) }, sub),
    );
    const summary = analysis.summary;
    const codes = summary.languages.map((l) => l.code);
    const targets = request.targets ?? summary.languages.filter((l) => l.tier === 'medium-low').map((l) => l.code);
    if (!summary.languages.some((l) => l.code === 'en')) throw new ApiError('INVALID_ARGUMENT', 'the study needs English among the languages (the reference)', { setting: 'languages' });
    if (targets.length === 0) {
      throw new ApiError('INVALID_ARGUMENT', 'no target language: none of the chosen languages is of the medium/low-resource tier; name targets explicitly', { setting: 'targets' });
    }
    const reduction = summary.settings.reduction;
    const finetune = await stage('fine-tune', (sub) =>
      this.handlers['finetune.run'](
        { ...common, languages: ['en', ...targets], settings: { ...request.finetune, loss: { reduction, ...request.finetune?.loss } }, reduction, outDir: join(dir, STUDY_PARTS.finetune) },
        sub,
      ),
    );
    const task = await stage('task', async (sub) => {
      sub.progress('cutting the held-out segments into items', 0, 1);
      const heldOut = finetune.config.split.heldOutSegments;
      const held = new Set(heldOut);
      const { segments } = this.source.segmentTextsOf(request.corpus, codes);
      const built = buildContinuationTask(segments.filter((x) => held.has(x.key)), heldOut, codes, request.task?.seed ?? 0, { choices: request.task?.choices });
      const written = writeContinuationTask(join(dir, STUDY_PARTS.task), built);
      const summaryOfTask = { dir: written.dir, segments: built.items.map((i) => i.segment), items: written.items, choices: built.settings.choices, rule: `Each item: the first part of a held-out paragraph and its true continuation among ${built.settings.choices - 1} continuations of other held-out paragraphs. The cut: ${CUT_RULE}.` };
      sub.progress('cutting the held-out segments into items', 1, 1);
      return summaryOfTask;
    });
    const evaluation = await stage('evaluate', (sub) =>
      this.handlers['eval.run'](
        { model: request.model, adapter: finetune.adapterDir, data: task.dir, task: 'mc', languages: codes, bootstrap: request.bootstrap, outDir: join(dir, STUDY_PARTS.eval) },
        sub,
      ),
    );
    const correlation = await stage('correlate', async (sub) => {
      const args = { analysis: { path: analysis.outDir }, eval: { result: evaluation as never }, task: 'mc' as const, measure: 'deficit' as const, bootstrap: request.bootstrap };
      const base = await this.handlers['eval.correlate']({ ...args, model: 'base', outDir: join(dir, STUDY_PARTS.correlation) }, sub);
      const adapted = await this.handlers['eval.correlate']({ ...args, model: 'adapted' }, sub);
      return { base, adapted };
    });

    const result: StudyResult = {
      outDir: dir,
      report: join(dir, 'report.html'),
      files: [],
      languages: codes,
      targets,
      stages,
      seconds: round((performance.now() - t0) / 1000),
      analysis,
      finetune,
      task,
      evaluation,
      correlation,
      findings: [],
    };
    result.findings = studyFindings(result);
    try {
      for (const f of studyReportFiles(result)) {
        const path = join(dir, f.name);
        if (f.name.includes('/')) makeDirs(join(path, '..'));
        writeFileSynced(path, f.content);
        result.files.push(path);
      }
    } catch (error) {
      throw writeError(dir, error, `cannot write the study report in ${dir}`);
    }
    if (!existsSync(result.report)) throw new ApiError('INTERNAL', `the study report ${result.report} was not written`);
    return result;
  }
}

const round = (v: number) => Number(v.toFixed(2));
const isEnglish = (code: string) => /^en([-_]|$)/i.test(code);

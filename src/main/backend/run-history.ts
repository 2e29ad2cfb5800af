// Every finished analysis, evaluation, fine-tune and sweep becomes a stored run (settings, request,
// input fingerprints, summary or result, timing). Recorded by the handler around the service call;
// a run history that cannot be written (disk full, locked database) is logged and the result still
// returned: the computation is not lost.
import { basename } from 'node:path';
import type { DisparitySummary, StoredAnalysisRequest } from '../../shared/dto';
import type { EvalResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult } from '../../shared/finetune';
import type { NewResultRun, RunsRepo } from '../store/runs-repo';
import type { JobContext } from './handler';

export interface AnalysisArg {
  model: string;
  saes: string | string[];
  languages: string[];
  corpus?: string;
  limit?: number;
  settings?: StoredAnalysisRequest['settings'];
  outDir?: string;
  adapter?: string;
  segments?: string[];
}

export function defaultRunName(summary: DisparitySummary): string {
  // The adapter is named: a fine-tune's held-out analyses before and after it differ only by it.
  const model = `${basename(summary.model.path)}${summary.adapter ? ` + ${basename(summary.adapter.path)}` : ''}`;
  return `${model}, ${summary.languages.length} languages, ${summary.segments} segments, ${summary.settings.reduction}`;
}

/** The stored name: the job's label (the larger job it belongs to) before the default name. */
export const labelledRunName = (ctx: Pick<JobContext, 'runLabel'>, name: string): string => (ctx.runLabel ? `${ctx.runLabel}: ${name}` : name);

export async function recordAnalysis<T>(
  runs: RunsRepo,
  method: 'analysis.run' | 'analysis.export',
  arg: AnalysisArg,
  ctx: JobContext,
  compute: () => Promise<T>,
  summaryOf: (result: T) => DisparitySummary,
): Promise<T> {
  const startedAt = new Date();
  const t0 = performance.now();
  const result = await compute();
  const summary = summaryOf(result);
  try {
    const run = runs.add({
      method,
      name: labelledRunName(ctx, defaultRunName(summary)),
      jobId: ctx.jobId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
      request: {
        model: arg.model,
        saes: arg.saes,
        languages: arg.languages,
        corpus: arg.corpus ?? 'udhr',
        limit: arg.limit ?? null,
        settings: arg.settings ?? {},
        outDir: arg.outDir ?? null,
        ...(arg.adapter !== undefined ? { adapter: arg.adapter } : {}),
        ...(arg.segments !== undefined ? { segments: arg.segments } : {}),
      },
      summary,
    });
    ctx.setOwnerRun?.(String(run.id));
  } catch (error) {
    ctx.log('warn', `the analysis finished but could not be added to the run history: ${error instanceof Error ? error.message : String(error)}`);
  }
  return result;
}

/** The method's argument as stored: the jobId (which job ran it) is not part of what was asked. */
const withoutJobId = <T extends { jobId?: unknown }>(arg: T): Omit<T, 'jobId'> => {
  const { jobId: _jobId, ...rest } = arg;
  return rest;
};

const KIND_WORD = { evaluation: 'evaluation', finetune: 'fine-tune', sweep: 'sweep' } as const;

type KindResult = { kind: 'evaluation'; result: EvalResult } | { kind: 'finetune'; result: FinetuneResult } | { kind: 'sweep'; result: SweepResult };

export function defaultResultRunName(run: KindResult): string {
  if (run.kind === 'evaluation') {
    const r = run.result;
    const tasks = [...new Set(r.results.map((x) => x.task))].join('/');
    const languages = new Set(r.results.map((x) => x.language)).size;
    return `${basename(r.model)}${r.adapter ? ` + ${basename(r.adapter)}` : ''}, ${r.preset}, ${tasks || 'no task'}, ${languages} languages`;
  }
  if (run.kind === 'finetune') {
    const r = run.result;
    return `${basename(r.config.model)} fine-tune, ${r.config.languages.join('/')}, ${r.steps} steps, ${r.outcome}`;
  }
  const r = run.result;
  return `sweep of ${r.points.length} ${r.points.length === 1 ? 'point' : 'points'}, ${basename(r.outDir)}`;
}

type ResultOf<K extends NewResultRun['kind']> = Extract<NewResultRun, { kind: K }>['result'];
type RequestOf<K extends NewResultRun['kind']> = Extract<NewResultRun, { kind: K }>['request'];

/** Runs `compute` (an eval.run, finetune.run or sweep.run) and stores what it returned as a run of
 * `kind`; the job is marked as producing that run. */
export async function recordResult<K extends NewResultRun['kind']>(
  runs: RunsRepo,
  kind: K,
  arg: RequestOf<K> & { jobId?: string },
  ctx: JobContext,
  compute: () => Promise<ResultOf<K>>,
): Promise<ResultOf<K>> {
  const startedAt = new Date();
  const t0 = performance.now();
  const result = await compute();
  try {
    // `kind` ties the request and the result together (the type parameter cannot say so to TypeScript).
    const run = { kind, request: withoutJobId(arg), result } as unknown as NewResultRun;
    const stored = runs.addResult({
      ...run,
      name: labelledRunName(ctx, defaultResultRunName(run as KindResult)),
      jobId: ctx.jobId,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      seconds: Number(((performance.now() - t0) / 1000).toFixed(3)),
    });
    ctx.setOwnerRun?.(String(stored.id));
  } catch (error) {
    ctx.log('warn', `the ${KIND_WORD[kind]} finished but could not be added to the run history: ${error instanceof Error ? error.message : String(error)}`);
  }
  return result;
}

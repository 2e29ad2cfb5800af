// Every finished analysis becomes a stored run (settings, request, input fingerprints, summary,
// timing). Recorded by the handler around the service call; a run history that cannot be written
// (disk full, locked database) is logged and the result still returned: the analysis is not lost.
import { basename } from 'node:path';
import type { DisparitySummary, StoredAnalysisRequest } from '../../shared/dto';
import type { RunsRepo } from '../store/runs-repo';
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
  return `${basename(summary.model.path)}, ${summary.languages.length} languages, ${summary.segments} segments, ${summary.settings.reduction}`;
}

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
      name: defaultRunName(summary),
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

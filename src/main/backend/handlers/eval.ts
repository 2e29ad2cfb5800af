// Benchmark evaluation over the typed API. Every finished evaluation is a stored run (run-history.ts).
import type { RunsRepo } from '../../store/runs-repo';
import type { EvalService } from '../eval-service';
import type { HandlerMap } from '../handler';
import { recordResult } from '../run-history';

export function evalHandlers(service: EvalService, runs: RunsRepo): HandlerMap<'eval.run'> {
  return {
    'eval.run': async (arg, ctx) => recordResult(runs, 'evaluation', arg, ctx, () => service.run(arg, ctx)),
  };
}

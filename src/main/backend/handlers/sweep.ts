// Sweeps of fine-tunes over the typed API (sweep-service.ts). A finished sweep is a stored run
// (run-history.ts); its points' held-out analyses are stored as analysis runs by the fine-tune.
import type { RunsRepo } from '../../store/runs-repo';
import type { HandlerMap } from '../handler';
import { recordResult } from '../run-history';
import type { SweepService } from '../sweep-service';

export function sweepHandlers(service: SweepService, runs: RunsRepo): HandlerMap<'sweep.run'> {
  return {
    'sweep.run': async (arg, ctx) => recordResult(runs, 'sweep', arg, ctx, () => service.run(arg, ctx)),
  };
}

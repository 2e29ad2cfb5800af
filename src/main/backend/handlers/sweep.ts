// Sweeps of fine-tunes over the typed API (sweep-service.ts).
import type { HandlerMap } from '../handler';
import type { SweepService } from '../sweep-service';

export function sweepHandlers(service: SweepService): HandlerMap<'sweep.run'> {
  return {
    'sweep.run': async (arg, ctx) => service.run(arg, ctx),
  };
}

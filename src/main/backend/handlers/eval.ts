// Benchmark evaluation over the typed API.
import type { EvalService } from '../eval-service';
import type { HandlerMap } from '../handler';

export function evalHandlers(service: EvalService): HandlerMap<'eval.run'> {
  return {
    'eval.run': async (arg, ctx) => service.run(arg, ctx),
  };
}

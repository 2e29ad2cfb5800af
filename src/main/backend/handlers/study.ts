// The whole study over the typed API (study-service.ts). Its stages are stored in the run history
// as their own runs (an analysis, a fine-tune with its held-out analyses, an evaluation).
import type { RunsRepo } from '../../store/runs-repo';
import type { HandlerMap } from '../handler';
import type { StudyService } from '../study-service';

export function studyHandlers(service: StudyService, _runs: RunsRepo): HandlerMap<'study.run'> {
  return {
    'study.run': async (arg, ctx) => service.run(arg, ctx),
  };
}

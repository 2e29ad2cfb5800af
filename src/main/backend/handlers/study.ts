// The whole study over the typed API (study-service.ts). Its stages are stored in the run history
// as their own runs (an analysis, a fine-tune with its held-out analyses, an evaluation), named as
// the study's; a study of the bundled demo is then shown in the demo project (study-project.ts).
import type { RunsRepo } from '../../store/runs-repo';
import type { HandlerMap } from '../handler';
import { showStudyInDemoProject, studyRunLabel, type StudyProjectDeps } from '../study-project';
import type { StudyService } from '../study-service';

export function studyHandlers(service: StudyService, _runs: RunsRepo, project?: StudyProjectDeps): HandlerMap<'study.run'> {
  return {
    'study.run': async (arg, ctx) => {
      const result = await service.run(arg, { ...ctx, runLabel: studyRunLabel(arg) });
      // The study is done and written: a project that cannot be updated loses nothing of it.
      if (project) {
        try {
          await showStudyInDemoProject(project, arg, result, ctx.jobId);
        } catch (error) {
          ctx.log('warn', `the study finished but the demo project could not be pointed at it: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      return result;
    },
  };
}

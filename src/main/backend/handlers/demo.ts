import { join } from 'node:path';
import type { DemoInfo } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { PAPER_LANGUAGES } from '../../data/languages';
import { buildDemo, DEMO_RECIPE, demoPaths, verifyDemo } from '../../demo/build';
import type { RuntimeHost } from '../../engine/runtime-host';
import { packageRoot } from '../../package-root';
import type { HandlerMap } from '../handler';

/** resources/demo in the package; LINGUASCOPE_DEMO_DIR points elsewhere (tests, custom builds). */
export const DEMO_DIR = () => process.env.LINGUASCOPE_DEMO_DIR ?? join(packageRoot(), 'resources', 'demo');
/** Aligned segments the main job analyses (the whole job stays within two minutes on 2 cores). */
export const DEMO_LIMIT = 40;

export function demoInfo(): DemoInfo {
  const dir = DEMO_DIR();
  const paths = demoPaths(dir);
  let problem: string | null = null;
  try {
    verifyDemo(dir);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    problem = error.message;
  }
  return { dir, model: paths.model, saes: paths.saes, ok: problem === null, problem, languages: PAPER_LANGUAGES.map((l) => l.code), limit: DEMO_LIMIT };
}

export function demoHandlers(runtime: RuntimeHost): HandlerMap<'demo.info' | 'demo.build'> {
  return {
    'demo.info': async () => demoInfo(),
    'demo.build': async ({ out, resume, steps }, ctx) =>
      (await buildDemo(out ?? DEMO_DIR(), runtime, {
        recipe: steps ? { ...DEMO_RECIPE, lm: { ...DEMO_RECIPE.lm, steps }, sae: { ...DEMO_RECIPE.sae, steps: Math.min(DEMO_RECIPE.sae.steps, steps) } } : DEMO_RECIPE,
        resume,
        signal: ctx.signal,
        onProgress: (p) => {
          ctx.progress(p.stage, p.done, p.total);
          if (p.detail) ctx.log('info', `${p.stage}: ${p.done}/${p.total} ${p.detail}`);
        },
      })) as Record<string, unknown>,
  };
}

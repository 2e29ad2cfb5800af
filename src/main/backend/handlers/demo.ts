import { join } from 'node:path';
import type { DemoInfo } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { PAPER_LANGUAGES } from '../../data/languages';
import { buildDemo, DEMO_RECIPE, demoPaths, verifyDemo } from '../../demo/build';
import type { RuntimeHost } from '../../engine/runtime-host';
import { unpackedPath } from '../../native-paths';
import { packageRoot } from '../../package-root';
import type { HandlerMap } from '../handler';

/** resources/demo in the package; LINGUASCOPE_DEMO_DIR points elsewhere (tests, custom builds). */
export const DEMO_DIR = () => process.env.LINGUASCOPE_DEMO_DIR ?? unpackedPath(join(packageRoot(), 'resources', 'demo'));
/** Aligned segments the main job analyses (the whole job stays within two minutes on 2 cores). */
export const DEMO_LIMIT = 40;
/** The demo's byte-level tokenizer splits a Devanagari or Malayalam character into 3 tokens and a
 * Latin one into 1, so a mean over tokens mixes fertility into the activation; the max over a
 * phrase's tokens does not depend on how finely the text is cut. */
export const DEMO_SETTINGS = { reduction: 'max' as const };
export const DEMO_SETTINGS_REASON =
  'reduction = max: the demo model reads bytes, so non-Latin scripts take 2-3 tokens per character; a mean over tokens would mix tokenizer fertility into the activation, the max over the phrase does not';

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
  return {
    dir,
    model: paths.model,
    saes: paths.saes,
    ok: problem === null,
    problem,
    languages: PAPER_LANGUAGES.map((l) => l.code),
    limit: DEMO_LIMIT,
    settings: DEMO_SETTINGS,
    settingsReason: DEMO_SETTINGS_REASON,
  };
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

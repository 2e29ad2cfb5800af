import { join } from 'node:path';
import type { DemoInfo } from '../../../shared/dto';
import type { PartialFinetuneSettings } from '../../../shared/finetune';
import { ApiError } from '../../../shared/errors';
import { PAPER_LANGUAGES } from '../../data/languages';
import { buildDemo, DEMO_RECIPE, demoPaths, verifyDemo } from '../../demo/build';
import type { RuntimeHost } from '../../engine/runtime-host';
import { unpackedPath } from '../../native-paths';
import { packageRoot } from '../../package-root';
import type { HandlerMap } from '../handler';

/** resources/demo in the package; LINGUASCOPE_DEMO_DIR points elsewhere (tests, custom builds). */
export const DEMO_DIR = () => process.env.LINGUASCOPE_DEMO_DIR ?? unpackedPath(join(packageRoot(), 'resources', 'demo'));
/** Aligned segments the first measurement analyses (the whole study stays within two minutes on 2 cores). */
export const DEMO_LIMIT = 40;
/** The paper's reduction: the mean over a phrase's tokens. The demo's own subword tokenizer cuts
 * the medium/low tier's words into more pieces (as real tokenizers do), so the mean is fair here. */
export const DEMO_SETTINGS = { reduction: 'mean' as const };
export const DEMO_SETTINGS_REASON =
  'reduction = mean over each phrase\'s tokens (the paper\'s), with the demo\'s own subword tokenizer learned from its unequal training data';
/** The demo's fine-tune, sized to the two-minute budget: a seeded 40 % of the aligned segments held
 * out (the continuation task needs items: about 20 per language), a few dozen steps of 8 pairs at
 * rank 8 on the first five layers, evaluated once at the end; the loss is the paper's with the
 * default direction (target-only) and the measurement's own reduction. */
export const DEMO_FINETUNE: PartialFinetuneSettings = {
  lora: { rank: 8, alpha: 16 },
  optim: { lr: 3e-3, warmup: 4 },
  data: { heldOut: 0.4, batchPairs: 8, maxTokens: 256 },
  steps: 40,
  monitor: { evalEvery: 40, checkpointEvery: 40, keepCheckpoints: 1 },
};

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
    finetune: DEMO_FINETUNE,
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

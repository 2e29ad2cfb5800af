import { existsSync, statSync } from 'node:fs';
import { ApiError } from '../../../shared/errors';
import { loadUdhr } from '../../data/udhr';
import type { RuntimeHost } from '../../engine/runtime-host';
import type { TokenizerHost } from '../../io/tokenizer-host';
import { openModelFolder } from '../../models/model';
import { randomTensor } from '../../models/random-model';
import { makeRandomSaes } from '../../sae/random-saes';
import { tokenCodes } from '../../sae/token-codes';
import { findSaes, loadSae, saeInfo } from '../../sae/sae';
import type { AnalysisService } from '../analysis-service';
import type { RunsRepo } from '../../store/runs-repo';
import { recordAnalysis } from '../run-history';
import type { HandlerMap } from '../handler';

/** Calibration phrases: English UDHR paragraphs through the model's tokenizer, or (for a model
 * without one) deterministic random token ids. */
async function calibrationSample(folder: ReturnType<typeof openModelFolder>, tokenizers: TokenizerHost, signal: AbortSignal): Promise<number[][]> {
  const max = Math.min(64, folder.config.maxPositions);
  if (folder.info.tokenizer) {
    const paragraphs = loadUdhr('eng').sections.flatMap((s) => s.paragraphs).slice(0, 12);
    return (await tokenizers.encode(folder.path, paragraphs, true, signal)).ids.map((ids) => ids.slice(0, max));
  }
  const ids = randomTensor(8 * max, 12345, 1, 0);
  return Array.from({ length: 8 }, (_, b) => Array.from(ids.subarray(b * max, (b + 1) * max), (v) => Math.floor((v / (2 * Math.sqrt(3)) + 0.5) * (folder.config.vocabSize - 3)) + 3));
}

export function analysisHandlers(service: AnalysisService, runtime: RuntimeHost, tokenizers: TokenizerHost, runs: RunsRepo): HandlerMap<'sae.inspect' | 'sae.makeRandom' | 'analysis.tokens' | 'analysis.run' | 'analysis.export'> {
  return {
    'sae.inspect': async ({ path }) => {
      const isDir = existsSync(path) && statSync(path).isDirectory();
      const specs = isDir ? await findSaes(path).catch(async (e: unknown) => (isDir ? [await loadSae(path)] : Promise.reject(e))) : [await loadSae(path)];
      return specs.map(saeInfo);
    },
    'sae.makeRandom': async ({ model, width, out, layers, architecture, seed }, ctx) => {
      const folder = openModelFolder(model);
      const chosen = layers === undefined || layers === 'all' ? [...Array(folder.config.numLayers).keys()] : layers;
      const bad = chosen.find((L) => L >= folder.config.numLayers);
      if (bad !== undefined) throw new ApiError('INVALID_ARGUMENT', `layer ${bad} does not exist: the model has layers 0..${folder.config.numLayers - 1}`);
      const made = await makeRandomSaes(folder, runtime, {
        width,
        layers: chosen,
        architecture: architecture ?? 'jumprelu',
        seed: seed ?? 0,
        outDir: out,
        sample: await calibrationSample(folder, tokenizers, ctx.signal),
        signal: ctx.signal,
        onProgress: (done, total) => ctx.progress('writing SAEs', done, total),
      });
      const saes = await Promise.all(made.files.map((f) => loadSae(f)));
      return { outDir: out, saes: saes.map(saeInfo), l0: made.l0 };
    },
    'analysis.tokens': async ({ model, sae, text, bos, ...request }, ctx) => {
      const folder = openModelFolder(model);
      if (!folder.info.tokenizer) throw new ApiError('TOKENIZER_NOT_FOUND', `${folder.path} has no tokenizer.json`, { file: folder.path });
      const spec = await loadSae(sae);
      return tokenCodes(folder, spec, await tokenizers.pieces(folder.path, text, bos ?? true, ctx.signal), runtime, request, ctx.signal);
    },
    // Each finished analysis is stored in the run history (run-history.ts).
    'analysis.run': async (arg, ctx) => recordAnalysis(runs, 'analysis.run', arg, ctx, () => service.run(arg, ctx), (summary) => summary),
    'analysis.export': async ({ outDir, ...arg }, ctx) =>
      recordAnalysis(runs, 'analysis.export', { ...arg, outDir }, ctx, () => service.export({ ...arg, outDir }, ctx), (done) => done.summary),
  };
}

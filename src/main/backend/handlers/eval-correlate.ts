// eval.correlate over the typed API: an analysis summary (a report folder, its summary.json, or a
// stored run) and an evaluation (a results folder, its results.json, or a result given inline)
// paired across languages (analysis/correlation.ts); with outDir, the CSVs and charts written there.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { evalResultShape } from '../../../shared/contract';
import type { DisparitySummary } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import type { EvalResult } from '../../../shared/eval';
import { correlationFiles } from '../../analysis/correlation-files';
import { correlationResult } from '../../analysis/correlation';
import { CORPUS_CODES, jsonErrorWhere, MAX_JSON_BYTES, readRegularFile } from '../../io/input-file';
import { checkOutputFolder, writeOutputFolder } from '../../io/output';
import type { RunsRepo } from '../../store/runs-repo';
import type { HandlerMap } from '../handler';

// The parts of a DisparitySummary the correlation reads; other keys pass (a report's summary.json
// holds much more).
const series = z.record(z.string(), z.array(z.number().nullable()));
const summaryShape = z
  .object({
    languages: z.array(z.object({ code: z.string().min(1).max(64), tier: z.enum(['reference', 'high', 'medium-low']) }).passthrough()).min(1),
    layers: z.array(z.number().int().min(0)).min(1),
    segments: z.number(),
    mean_activation: series,
    deficit_vs_en: series,
    model: z.object({ path: z.string() }).passthrough(),
    adapter: z.object({ path: z.string() }).passthrough().optional(),
    settings: z.object({ reduction: z.string() }).passthrough(),
  })
  .passthrough()
  .refine((s) => s.languages.every((l) => s.mean_activation[l.code]?.length === s.layers.length && s.deficit_vs_en[l.code]?.length === s.layers.length), {
    message: 'mean_activation and deficit_vs_en need one value per layer for every language',
  });

/** A folder holding `name`, or the file itself, parsed and checked against `shape`. */
function readJson<T>(path: string, name: string, what: string, shape: z.ZodType): { value: T; file: string } {
  const given = resolve(path);
  let file = given;
  try {
    if (statSync(given).isDirectory()) file = join(given, name);
  } catch {
    // Missing: readRegularFile names it.
  }
  const bytes = readRegularFile(file, CORPUS_CODES, MAX_JSON_BYTES, what);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ApiError('INVALID_ARGUMENT', `${file}: is not valid JSON (${jsonErrorWhere(error)}); give ${what}`, { file });
  }
  const parsed = shape.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiError('INVALID_ARGUMENT', `${file}: is not ${what} (${issue.path.join('.') || 'the document'}: ${issue.message})`, { file });
  }
  return { value: raw as T, file };
}

export function correlateHandlers(runs: RunsRepo): HandlerMap<'eval.correlate'> {
  return {
    'eval.correlate': async (arg) => {
      const outDir = arg.outDir !== undefined ? checkOutputFolder(arg.outDir) : undefined;
      let summary: DisparitySummary;
      let analysisSource: string;
      if ('runId' in arg.analysis) {
        summary = runs.getAnalysis(arg.analysis.runId).summary;
        analysisSource = `run ${arg.analysis.runId}`;
      } else {
        const read = readJson<DisparitySummary>(arg.analysis.path, 'summary.json', "an analysis report's summary.json", summaryShape);
        [summary, analysisSource] = [read.value, read.file];
      }
      let evalResult: EvalResult;
      let evalSource: string;
      if ('result' in arg.eval) {
        evalResult = arg.eval.result as unknown as EvalResult;
        evalSource = 'the evaluation given';
      } else {
        const read = readJson<EvalResult>(arg.eval.path, 'results.json', "an evaluation's results.json", evalResultShape);
        [evalResult, evalSource] = [read.value, read.file];
      }
      const result = correlationResult({
        summary,
        evalResult,
        task: arg.task,
        metric: arg.metric ?? 'acc',
        measure: arg.measure ?? 'deficit',
        model: arg.model ?? 'base',
        bootstrap: arg.bootstrap ?? 1000,
        seed: arg.seed ?? 0,
        analysisSource,
        evalSource,
      });
      if (!outDir) return { ...result, outDir: null, files: [] };
      const files = correlationFiles(result);
      writeOutputFolder(outDir, 'correlation', files);
      return { ...result, outDir, files: files.map((f) => join(outDir, f.name)) };
    },
  };
}

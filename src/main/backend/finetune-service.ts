// The fine-tune end to end: the analysis' checks and tokenized aligned segments → FinetuneRun in
// the run folder (train/finetune.ts) → the disparity analysis of the held-out segments without
// and with the adapter (stored runs, like any analysis) → report/ in the run folder.
// The run folder is the run's lasting record: `status` reads it back (configuration, the whole
// step log, checkpoints, the report once written), so a reloaded window reattaches to it.
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DisparitySummary } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { finetuneSettings, type FinetuneResult, type FinetuneStatus, type PartialFinetuneSettings } from '../../shared/finetune';
import type { RuntimeHost } from '../engine/runtime-host';
import { makeDirs } from '../io/fs';
import { writeOutputFolder } from '../io/output';
import { finetuneReportFiles } from '../train/finetune-report';
import { FINETUNE_CONFIG_FILE, FinetuneRun, readFinetuneConfig, readStepLog } from '../train/finetune';
import type { TokenizedSegment } from '../train/finetune-data';
import type { RunsRepo } from '../store/runs-repo';
import type { AnalysisService } from './analysis-service';
import { recordAnalysis } from './run-history';
import type { JobContext } from './handler';

export interface FinetuneRequest {
  model: string;
  saes: string | string[];
  /** English and the target languages. */
  languages: string[];
  corpus?: string;
  limit?: number;
  settings?: PartialFinetuneSettings;
  /** The run folder. */
  outDir: string;
  /** Continue the run in outDir from its latest checkpoint (or from `checkpoint`, a step). */
  resume?: boolean;
  checkpoint?: number;
  /** How the held-out disparity analyses reduce tokens (default: as the loss does). */
  reduction?: 'mean' | 'max';
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));

/** The run folder must be new (absent or empty) unless resuming a run of ours. */
function checkRunFolder(dir: string, resume: boolean): void {
  const stats = existsSync(dir) ? lstatSync(dir) : null;
  if (stats?.isSymbolicLink()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a symbolic link; choose a real folder for the fine-tune run`, { path: dir });
  if (stats && !stats.isDirectory()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a file; the fine-tune run needs a folder`, { path: dir });
  const isRun = stats !== null && existsSync(join(dir, FINETUNE_CONFIG_FILE));
  if (resume) {
    if (!isRun) throw new ApiError('INVALID_ARGUMENT', `${dir} holds no fine-tune run to resume (no ${FINETUNE_CONFIG_FILE})`, { path: dir });
    return;
  }
  if (isRun) throw new ApiError('OUTPUT_EXISTS', `${dir} holds a fine-tune run already; resume it (--resume) or choose another folder`, { path: dir });
  if (stats && readdirSync(dir).length > 0) throw new ApiError('OUTPUT_EXISTS', `${dir} is not empty and is not a fine-tune run of LinguaScope; choose a new or empty folder`, { path: dir });
}

export class FinetuneService {
  constructor(
    private readonly analysis: AnalysisService,
    private readonly runtime: RuntimeHost,
    private readonly runs: RunsRepo,
  ) {}

  async run(request: FinetuneRequest, ctx: JobContext): Promise<FinetuneResult> {
    const dir = resolve(request.outDir);
    const settings = finetuneSettings(request.settings);
    checkRunFolder(dir, request.resume ?? false);
    const prepared = await this.analysis.prepare({ model: request.model, saes: request.saes, languages: request.languages, corpus: request.corpus, limit: request.limit }, ctx);
    const codes = prepared.languages.map((l) => l.code);
    const targets = codes.filter((c) => c !== 'en');
    if (targets.length === 0) throw new ApiError('INVALID_ARGUMENT', 'choose at least one target language besides English', { setting: 'languages' });
    const segments: TokenizedSegment[] = prepared.segments.map((s, i) => ({
      key: s.key,
      tokens: Object.fromEntries(codes.map((c, li) => [c, prepared.phrases[i * codes.length + li].tokens])),
    }));
    let resumeFrom: string | undefined;
    const run = (from?: string) =>
      new FinetuneRun({
        folder: prepared.folder,
        saes: prepared.saes,
        segments,
        targets,
        settings,
        runtime: this.runtime,
        dir,
        resumeFrom: from,
        includeBos: false,
        tiers: Object.fromEntries(prepared.languages.map((l) => [l.code, l.tier])),
        signal: ctx.signal,
        onStage: (stage, done, total) => ctx.progress(stage, done, total),
        onEvent: ({ record, steps }) => {
          const step = record.step;
          if (record.kind === 'step') {
            const perStep = record.elapsed_s / Math.max(1, step - firstStep);
            ctx.progress('training', step, steps, Math.round(perStep * (steps - step)), { ...record });
          } else {
            const gains = Object.fromEntries(Object.entries(record.gain_percent).map(([l, v]) => [`gain_${l}`, v]));
            ctx.progress('training', step, steps, undefined, { kind: record.kind, heldout_loss: record.heldout_loss, retention_percent: record.retention_percent, retention_cosine: record.retention_cosine, ...gains });
          }
        },
      });
    let firstStep = 0;
    let trainer = run();
    if (request.resume) {
      const stored = readFinetuneConfig(dir);
      const mismatch = (['model', 'languages'] as const).filter((k) => stable(stored[k]) !== stable(trainer.config[k]));
      if (stable(stored.settings) !== stable(trainer.config.settings)) mismatch.push('settings' as never);
      if (stable(stored.split) !== stable(trainer.config.split)) mismatch.push('split' as never);
      if (mismatch.length) throw new ApiError('INVALID_ARGUMENT', `the run in ${dir} was started with another ${mismatch.join(', ')}; resume it with the same arguments, or start a new run in another folder`, { path: dir, differs: mismatch });
      const checkpoints = trainer.checkpoints();
      const wanted = request.checkpoint === undefined ? checkpoints.at(-1) : checkpoints.find((f) => f.endsWith(`step-${String(request.checkpoint).padStart(7, '0')}.safetensors`));
      if (request.checkpoint !== undefined && !wanted) throw new ApiError('INVALID_ARGUMENT', `the run has no checkpoint at step ${request.checkpoint}; it has ${checkpoints.map((f) => Number(/step-(\d+)/.exec(f)![1])).join(', ') || 'none'}`, { setting: 'checkpoint' });
      if (wanted) {
        resumeFrom = wanted;
        firstStep = Number(/step-(\d+)/.exec(wanted)![1]);
        trainer = run(resumeFrom);
      }
    }
    makeDirs(dir);
    const result = await trainer.run();
    // The disparity analysis of the held-out segments, without and with the adapter.
    const heldOut = result.config.split.heldOutSegments;
    const base = { model: request.model, saes: request.saes, languages: codes, corpus: request.corpus, segments: heldOut, settings: { reduction: request.reduction ?? settings.loss.reduction } };
    ctx.progress('analysing the held-out segments', 0, 2);
    // Stored in the run history like any analysis (the fine-tune job itself owns no analysis run).
    const analyse = (arg: typeof base & { adapter?: string }) => {
      const stage = `held-out segments ${arg.adapter ? 'after' : 'before'} the fine-tune`;
      const label = ctx.runLabel ? `${ctx.runLabel}, ${stage}` : stage;
      return recordAnalysis(this.runs, 'analysis.run', arg, { ...ctx, setOwnerRun: undefined, runLabel: label }, () => this.analysis.run(arg, ctx), (s) => s);
    };
    const before: DisparitySummary = await analyse(base);
    ctx.progress('analysing the held-out segments', 1, 2);
    const after: DisparitySummary = await analyse({ ...base, adapter: result.adapterDir });
    ctx.progress('analysing the held-out segments', 2, 2);
    const full: FinetuneResult = {
      outDir: dir,
      adapterDir: result.adapterDir,
      reportDir: join(dir, 'report'),
      outcome: result.outcome,
      reason: result.reason,
      steps: result.steps,
      stepsPlanned: result.stepsPlanned,
      seconds: result.seconds,
      checkpoints: result.checkpoints,
      config: result.config,
      final: result.final,
      report: result.report,
      analysis: { before, after },
    };
    ctx.progress('writing the report', 0, 1);
    writeOutputFolder(full.reportDir, 'fine-tune report', finetuneReportFiles(full, readStepLog(dir)));
    ctx.progress('writing the report', 1, 1);
    return full;
  }

  /** What the run folder holds now: configuration, the whole step log, checkpoints, and the result
   * once the run has finished. */
  status(dirArg: string): FinetuneStatus {
    const dir = resolve(dirArg);
    const config = readFinetuneConfig(dir);
    const records = readStepLog(dir);
    const ckptDir = join(dir, 'checkpoints');
    const checkpoints = existsSync(ckptDir)
      ? readdirSync(ckptDir)
          .filter((f) => /^step-\d+\.safetensors$/.test(f))
          .sort()
          .map((f) => ({ step: Number(/\d+/.exec(f)![0]), file: join(ckptDir, f) }))
      : [];
    const resultFile = join(dir, 'report', 'result.json');
    let result: FinetuneResult | null = null;
    if (existsSync(resultFile)) {
      try {
        result = JSON.parse(readFileSync(resultFile, 'utf8')) as FinetuneResult;
      } catch {
        result = null;
      }
    }
    return { dir, config, records, checkpoints, result };
  }
}

// Sweeps (the paper's ablations): a grid of fine-tunes, α (the loss's retention weight) ×
// adapted-layer sets × loss spaces, each a fine-tune in its own run folder DIR/<point>/ (with its
// held-out re-measurement, stored in the run history by FinetuneService) followed, when evaluation
// data is given, by the benchmark of its adapter (DIR/<point>/eval/; the base model's items come
// from the evaluation cache after the first point). Then one comparison: DIR/sweep.json,
// sweep.csv, sweep.html and its SVG charts.
// The grid is checked whole before any work. A killed sweep resumes: a point whose folder holds a
// finished report is read back, an interrupted one resumes from its checkpoint; DIR/sweep-plan.json
// records the request so a resume with other arguments is refused.
import { existsSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evalResultShape, type ParsedInput } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { EvalResult, SweepPoint, SweepPointResult, SweepResult } from '../../shared/eval';
import type { FinetuneResult, PartialFinetuneSettings } from '../../shared/finetune';
import { layerText, sweepComparisonFiles } from '../analysis/sweep-comparison';
import { CORPUS_CODES, MAX_JSON_BYTES, readRegularFile } from '../io/input-file';
import { makeDirs } from '../io/fs';
import { writeFileSynced } from '../io/output';
import { openModelFolder } from '../models/model';
import { saeLayer } from '../sae/sae';
import { chooseSaes } from './analysis-service';
import type { EvalService } from './eval-service';
import type { FinetuneService } from './finetune-service';
import type { JobContext } from './handler';
import { throwIfCancelled } from './jobs';

export { layerText };
export type SweepRequest = ParsedInput<'sweep.run'>;

export const SWEEP_PLAN_FILE = 'sweep-plan.json';
/** More points than this is a typo, not a sweep (each is a whole fine-tune). */
const MAX_POINTS = 200;

const bad = (setting: string, message: string) => new ApiError('INVALID_ARGUMENT', message, { setting });

/** The folder name of a point: readable, and safe on every file system ("," → "+"). */
export function pointName(p: Omit<SweepPoint, 'name'>): string {
  return `alpha-${p.alpha}_layers-${layerText(p.adaptLayers).replace(/,/g, '+')}_${p.space}`;
}

function duplicates<T>(items: readonly T[], key: (t: T) => string): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const t of items) (seen.has(key(t)) ? dup : seen).add(key(t));
  return [...dup];
}

/** The grid's points, checked against the model's depth and the SAE layers; every fault is a
 * typed error naming its setting (alphas, adaptLayerSets, spaces, settings.*). */
export function sweepGrid(request: Pick<SweepRequest, 'alphas' | 'adaptLayerSets' | 'spaces' | 'settings'>, numLayers: number, saeLayers: readonly number[]): SweepPoint[] {
  const { alphas, adaptLayerSets, spaces } = request;
  if (alphas.length === 0) throw bad('alphas', 'the grid needs at least one α (the retention weight), e.g. 0.5,1,2');
  const badAlpha = alphas.find((a) => !Number.isFinite(a) || a < 0 || a > 1e6);
  if (badAlpha !== undefined) throw bad('alphas', `α must be a finite number in 0..1e6 (it weighs English retention); got ${badAlpha}`);
  if (adaptLayerSets.length === 0) throw bad('adaptLayerSets', 'the grid needs at least one set of adapted layers, e.g. 0-4;2');
  if (spaces.length === 0) throw bad('spaces', 'the grid needs at least one loss space, e.g. sae-codes');
  const sets = adaptLayerSets.map((set, k) => {
    if (set.length === 0) throw bad('adaptLayerSets', `adapted-layer set ${k + 1} is empty`);
    const beyond = set.find((l) => !Number.isInteger(l) || l < 0 || l >= numLayers);
    if (beyond !== undefined) throw bad('adaptLayerSets', `adapted-layer set ${k + 1} names layer ${beyond}; the model has layers 0..${numLayers - 1}`);
    return [...new Set(set)].sort((a, b) => a - b);
  });
  const dupAlpha = duplicates(alphas, String);
  if (dupAlpha.length) throw bad('alphas', `α ${dupAlpha.join(', ')} is listed twice: each grid point would run twice`);
  const dupSet = duplicates(sets, (s) => s.join(','));
  if (dupSet.length) throw bad('adaptLayerSets', `the adapted-layer set ${dupSet.map((s) => layerText(s.split(',').map(Number))).join(', ')} is listed twice (after sorting): each grid point would run twice`);
  const dupSpace = duplicates(spaces, String);
  if (dupSpace.length) throw bad('spaces', `the loss space ${dupSpace.join(', ')} is listed twice: each grid point would run twice`);
  const s = request.settings ?? {};
  if (s.loss?.alpha !== undefined) throw bad('settings.loss.alpha', 'α is the grid\'s: give it in alphas, not in the shared settings');
  if (s.loss?.space !== undefined) throw bad('settings.loss.space', 'the loss space is the grid\'s: give it in spaces, not in the shared settings');
  if (s.lora?.adaptLayers !== undefined) throw bad('settings.lora.adaptLayers', 'the adapted layers are the grid\'s: give them in adaptLayerSets, not in the shared settings');
  const lossLayers = s.lora?.lossLayers ?? null;
  if (lossLayers) {
    const beyond = lossLayers.find((l) => l >= numLayers);
    if (beyond !== undefined) throw bad('settings.lora.lossLayers', `loss layer ${beyond} is beyond the model's layers 0..${numLayers - 1}`);
    const missing = lossLayers.filter((l) => !saeLayers.includes(l));
    if (missing.length) throw bad('settings.lora.lossLayers', `loss layer${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no SAE (SAE layers: ${saeLayers.join(', ')})`);
    const deepest = Math.max(...lossLayers);
    sets.forEach((set, k) => {
      if (set[0] > deepest) throw bad('adaptLayerSets', `adapted-layer set ${k + 1} (${layerText(set)}) lies after the deepest loss layer ${deepest}: the loss could not change`);
    });
  } else {
    sets.forEach((set, k) => {
      if (!set.some((l) => saeLayers.includes(l))) throw bad('adaptLayerSets', `adapted-layer set ${k + 1} (${layerText(set)}) holds no SAE layer (SAE layers: ${saeLayers.join(', ')}), so it has no loss layer; choose a set with one, or give the loss layers`);
    });
  }
  const points: SweepPoint[] = [];
  for (const alpha of alphas) {
    for (const adaptLayers of sets) {
      for (const space of spaces) {
        const point = { alpha, adaptLayers, lossLayers: lossLayers ? [...lossLayers].sort((a, b) => a - b) : adaptLayers.filter((l) => saeLayers.includes(l)), space };
        points.push({ name: pointName(point), ...point });
      }
    }
  }
  if (points.length > MAX_POINTS) throw bad('alphas', `the grid has ${points.length} points (${alphas.length} α × ${sets.length} layer sets × ${spaces.length} spaces); at most ${MAX_POINTS}, each a whole fine-tune`);
  return points;
}

/** The request as the plan records it: what a resume must repeat (the job id aside). */
function planOf(request: SweepRequest, points: SweepPoint[]) {
  const { jobId: _jobId, outDir: _outDir, ...rest } = request;
  return { format: 'linguascope-sweep', version: 1, request: rest, points: points.map((p) => p.name) };
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]])) : x));

function readJsonFile(file: string, what: string): unknown {
  try {
    return JSON.parse(readRegularFile(file, CORPUS_CODES, MAX_JSON_BYTES, what).toString('utf8'));
  } catch {
    return null;
  }
}

/** Replaces one of our files in the sweep folder whole (written beside it, then renamed over). */
function replaceFile(path: string, content: string): void {
  const staging = `${path}.${process.pid}.tmp`;
  rmSync(staging, { force: true });
  writeFileSynced(staging, content);
  renameSync(staging, path);
}

/** The sweep folder: new, empty, holding only a plan (nothing ran yet), or a sweep of the same
 * request (resume). Anything else is refused before any work. */
function checkSweepFolder(dir: string, plan: ReturnType<typeof planOf>): 'new' | 'resume' {
  const stats = existsSync(dir) ? lstatSync(dir) : null;
  if (stats?.isSymbolicLink()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a symbolic link; choose a real folder for the sweep`, { path: dir });
  if (stats && !stats.isDirectory()) throw new ApiError('OUTPUT_EXISTS', `${dir} is a file; the sweep needs a folder`, { path: dir });
  if (!stats || readdirSync(dir).length === 0) return 'new';
  const planFile = join(dir, SWEEP_PLAN_FILE);
  if (!existsSync(planFile)) throw new ApiError('OUTPUT_EXISTS', `${dir} is not empty and is not a sweep of LinguaScope (no ${SWEEP_PLAN_FILE}); choose a new or empty folder`, { path: dir });
  const stored = readJsonFile(planFile, SWEEP_PLAN_FILE) as ReturnType<typeof planOf> | null;
  const started = plan.points.some((name) => existsSync(join(dir, name)));
  if (!started) return 'new';
  if (!stored || stable(stored) !== stable(plan)) {
    const differs = stored ? Object.keys({ ...plan.request, ...stored.request }).filter((k) => stable((plan.request as Record<string, unknown>)[k]) !== stable((stored.request as Record<string, unknown>)[k])) : ['the plan (unreadable)'];
    throw new ApiError('INVALID_ARGUMENT', `the sweep in ${dir} was started with another ${differs.join(', ') || 'grid'}; resume it with the same arguments, or start a new sweep in another folder`, { path: dir, differs });
  }
  return 'resume';
}

export class SweepService {
  constructor(
    private readonly finetune: FinetuneService,
    private readonly evals: EvalService,
  ) {}

  async run(request: SweepRequest, ctx: JobContext): Promise<SweepResult> {
    const started = performance.now();
    const dir = resolve(request.outDir);
    // Checked before any work: the grid against the model's depth and the SAE layers.
    const folder = openModelFolder(request.model);
    const saeLayers = (await chooseSaes(request.saes)).map((s) => saeLayer(s)).filter((l): l is number => l !== null);
    const points = sweepGrid(request, folder.config.numLayers, saeLayers);
    const plan = planOf(request, points);
    checkSweepFolder(dir, plan);
    makeDirs(dir);
    replaceFile(join(dir, SWEEP_PLAN_FILE), `${JSON.stringify(plan, null, 2)}\n`);

    const results: SweepPointResult[] = [];
    for (const [i, point] of points.entries()) {
      throwIfCancelled(ctx.signal);
      const label = `point ${i + 1}/${points.length}: alpha ${point.alpha}, layers ${layerText(point.adaptLayers)}, ${point.space}`;
      const pointCtx: JobContext = {
        ...ctx,
        setOwnerRun: undefined,
        progress: (stage, done, total, eta, detail) => ctx.progress(`${label}: ${stage}`, done, total, eta, { ...detail, point: i + 1, points: points.length }),
      };
      ctx.progress(label, i, points.length);
      const pointDir = join(dir, point.name);
      let ft = this.finishedRun(pointDir);
      const status: SweepPointResult['status'] = ft ? 'done before' : 'ran';
      if (!ft) {
        ft = await this.finetune.run(
          {
            model: request.model,
            saes: request.saes,
            languages: request.languages,
            corpus: request.corpus,
            limit: request.limit,
            settings: this.pointSettings(request.settings, point),
            outDir: pointDir,
            resume: existsSync(join(pointDir, 'finetune.json')),
            reduction: request.reduction,
          },
          pointCtx,
        );
      }
      let evalResult: EvalResult | null = null;
      const evalDir = join(pointDir, 'eval');
      if (request.evalData !== undefined) {
        evalResult = this.finishedEval(evalDir, ft.adapterDir, request.evalData);
        if (!evalResult) {
          evalResult = await this.evals.run(
            {
              model: request.model,
              adapter: ft.adapterDir,
              data: request.evalData,
              ...(request.task !== undefined ? { task: request.task } : {}),
              ...(request.evalLanguages !== undefined ? { languages: request.evalLanguages } : {}),
              ...(request.evalLimit !== undefined ? { limit: request.evalLimit } : {}),
              outDir: evalDir,
            },
            pointCtx,
          );
        }
      }
      results.push(pointResult(point, pointDir, status, ft, evalResult, request.evalData !== undefined ? evalDir : null));
    }
    ctx.progress('writing the comparison', 0, 1);
    const base = request.settings ?? {};
    const files = sweepComparisonFiles({ outDir: dir, points: results, base, evalData: request.evalData ?? null });
    const result: SweepResult = { outDir: dir, points: results, base, evalData: request.evalData ?? null, files: files.map((f) => join(dir, f.name)).concat(join(dir, 'sweep.json')), seconds: Number(((performance.now() - started) / 1000).toFixed(3)) };
    for (const f of files) replaceFile(join(dir, f.name), f.content);
    replaceFile(join(dir, 'sweep.json'), `${JSON.stringify(result, null, 2)}\n`);
    ctx.progress('writing the comparison', 1, 1);
    return result;
  }

  /** The shared settings with the point's α, loss space and adapted (and loss) layers. */
  private pointSettings(shared: PartialFinetuneSettings | undefined, p: SweepPoint): PartialFinetuneSettings {
    const s = shared ?? {};
    return { ...s, loss: { ...s.loss, alpha: p.alpha, space: p.space }, lora: { ...s.lora, adaptLayers: p.adaptLayers, lossLayers: p.lossLayers } };
  }

  /** A point's fine-tune that finished (its report's result.json), or null. */
  private finishedRun(pointDir: string): FinetuneResult | null {
    const file = join(pointDir, 'report', 'result.json');
    if (!existsSync(file)) return null;
    const r = readJsonFile(file, 'result.json') as FinetuneResult | null;
    return r && typeof r === 'object' && r.report && r.config && typeof r.adapterDir === 'string' ? r : null;
  }

  /** A point's evaluation already written for this adapter and data, or null. */
  private finishedEval(evalDir: string, adapterDir: string, data: string): EvalResult | null {
    const file = join(evalDir, 'results.json');
    if (!existsSync(file)) return null;
    const raw = readJsonFile(file, 'results.json');
    if (!evalResultShape.safeParse(raw).success) return null;
    const r = raw as EvalResult;
    return r.adapter === resolve(adapterDir) && resolve(r.data) === resolve(data) ? r : null;
  }
}

const pick = (v: { value: number | null; ci: [number, number] | null }) => ({ value: v.value, ci: v.ci });

function pointResult(point: SweepPoint, dir: string, status: SweepPointResult['status'], ft: FinetuneResult, ev: EvalResult | null, evalDir: string | null): SweepPointResult {
  const gains = Object.fromEntries(Object.entries(ft.report.gain_percent).map(([lang, g]) => [lang, pick(g)]));
  const values = Object.values(gains).map((g) => g.value).filter((v): v is number => v !== null);
  return {
    ...point,
    dir,
    status,
    outcome: ft.outcome,
    steps: ft.steps,
    seconds: ft.seconds,
    resolvedLossLayers: ft.config.lossLayers,
    gain_percent: gains,
    mean_gain_percent: values.length ? values.reduce((a, b) => a + b, 0) / values.length : null,
    retention_percent: pick(ft.report.retention_percent),
    retention_cosine: ft.report.retention_cosine.value,
    accuracy: (ev?.results ?? []).flatMap((t) =>
      t.after && t.difference
        ? (['acc', 'acc_norm'] as const).map((metric) => ({ task: t.task, language: t.language, n: t.n, metric, before: t.before[metric], after: t.after![metric], difference: t.difference![metric].difference, ci: t.difference![metric].ci }))
        : [],
    ),
    evalDir,
  };
}

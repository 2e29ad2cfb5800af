// The sweep.run request the sweep panel sends: the grid typed by the user (α values, adapted-layer
// sets, loss spaces), the evaluation each point gets, and what every point shares from the project
// (model, SAEs, English and the fine-tune's target languages, corpus, segment limit, the Fine-tune
// step's settings). The grid is checked here with the rules sweep-service.ts states (its typed
// errors name the same faults), then by the contract's own schema; the backend checks it again.
import { backendContract, type Input } from '../../../../shared/contract';
import type { EvalTask } from '../../../../shared/eval';
import { LOSS_SPACES, type PartialFinetuneSettings } from '../../../../shared/finetune';

export type SweepRunRequest = Omit<Input<'sweep.run'>, 'jobId'>;
export type LossSpace = (typeof LOSS_SPACES)[number];

/** More points than this the backend refuses (each point is a whole fine-tune). */
export const MAX_POINTS = 200;

export interface SweepForm {
  /** "0.5, 1, 2". */
  alphas: string;
  /** Sets separated by "|" (or ";", as the CLI writes them), each a list of layers and ranges: "20 | 5,12 | 0-19". */
  layerSets: string;
  spaces: LossSpace[];
  /** Multiple-choice data each point's adapter is evaluated on; empty = no evaluation. */
  evalData: string;
  task: 'all' | EvalTask;
  evalLimit: number | null;
  /** Training steps of every point; null = the Fine-tune step's setting. */
  steps: number | null;
  outDir: string;
}

export const INITIAL_SWEEP_FORM: SweepForm = { alphas: '0.5, 1, 2', layerSets: '', spaces: ['sae-codes'], evalData: '', task: 'all', evalLimit: null, steps: null, outDir: '' };

export interface SweepContext {
  model: string;
  /** The chosen SAE sources and the layers they cover. */
  saes: string[];
  saeLayers: number[];
  /** The model's layer count, when the Model step inspected it (null: the backend checks it). */
  numLayers: number | null;
  /** English and the target languages. */
  languages: string[];
  corpus: string;
  limit: number | null;
  /** The Fine-tune step's settings (only what differs from the defaults). */
  settings: PartialFinetuneSettings;
}

type Parsed<T> = { value: T } | { error: string };

/** Why a typed list does not parse, or null. */
export const parseError = (p: Parsed<unknown>): string | null => ('error' in p ? p.error : null);

/** "0.5, 1 2": α values, separated by commas or spaces. */
export function parseAlphas(text: string): Parsed<number[]> {
  const items = text.split(/[\s,]+/).filter(Boolean);
  const out: number[] = [];
  for (const item of items) {
    const a = Number(item);
    if (!Number.isFinite(a)) return { error: `"${item}" is not a number` };
    out.push(a);
  }
  return { value: out };
}

/** "20 | 5,12 | 0-19" → [[20], [5, 12], [0..19]]; ranges inclusive. An empty set is kept (the grid
 * check names it). */
export function parseLayerSets(text: string): Parsed<number[][]> {
  if (!text.trim()) return { value: [] };
  const sets: number[][] = [];
  for (const [k, part] of text.split(/[|;]/).entries()) {
    const layers: number[] = [];
    for (const item of part.split(/[\s,]+/).filter(Boolean)) {
      const m = /^(\d{1,5})(?:(?:-|\.\.)(\d{1,5}))?$/.exec(item);
      if (!m) return { error: `"${item}" in set ${k + 1} is not a layer or a range such as 0-4` };
      const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
      if (to < from) return { error: `the range ${item} in set ${k + 1} runs backwards` };
      if (to - from > 10_000) return { error: `the range ${item} in set ${k + 1} is too long` };
      for (let l = from; l <= to; l++) layers.push(l);
    }
    sets.push(layers);
  }
  return { value: sets };
}

/** "0..4" for consecutive layers, else "0, 2, 5". */
export const layerText = (layers: readonly number[]) =>
  layers.length > 2 && layers.every((l, i) => i === 0 || l === layers[i - 1] + 1) ? `${layers[0]}..${layers.at(-1)}` : layers.join(', ');

const repeated = <T>(items: readonly T[], key: (t: T) => string) => [...new Set(items.map(key).filter((k, i, all) => all.indexOf(k) !== i))];

/** Every fault of the grid, one line each naming the field, by sweep-service.ts's rules: at least
 * one α, set and space; α finite in 0..1e6; no empty set; layers within the model; no point twice
 * (an α, a set after sorting, a space repeated); with the project's loss layers, none without an
 * SAE and no set after the deepest; without them, every set holds an SAE layer; at most 200 points. */
export function gridProblems(alphas: readonly number[], sets: readonly number[][], spaces: readonly LossSpace[], ctx: Pick<SweepContext, 'numLayers' | 'saeLayers' | 'settings'>): string[] {
  const out: string[] = [];
  if (alphas.length === 0) out.push('α values: give at least one (the retention weight), e.g. 0.5, 1, 2');
  const badAlpha = alphas.filter((a) => a < 0 || a > 1e6);
  if (badAlpha.length) out.push(`α values: ${badAlpha.join(', ')} outside 0..1e6 (α weighs English retention)`);
  const dupAlpha = repeated(alphas, String);
  if (dupAlpha.length) out.push(`α values: ${dupAlpha.join(', ')} listed twice (each grid point would run twice)`);
  if (sets.length === 0) out.push('adapted-layer sets: give at least one, e.g. 0-4 | 2');
  const sorted = sets.map((s) => [...new Set(s)].sort((a, b) => a - b));
  sorted.forEach((set, k) => {
    if (set.length === 0) out.push(`adapted-layer sets: set ${k + 1} is empty`);
    const beyond = ctx.numLayers === null ? [] : set.filter((l) => l >= ctx.numLayers!);
    if (beyond.length) out.push(`adapted-layer sets: set ${k + 1} names layer ${beyond[0]}; the model has layers 0..${ctx.numLayers! - 1}`);
  });
  const dupSet = repeated(sorted.filter((s) => s.length), (s) => s.join(','));
  if (dupSet.length) out.push(`adapted-layer sets: ${dupSet.map((s) => layerText(s.split(',').map(Number))).join('; ')} listed twice (after sorting)`);
  if (spaces.length === 0) out.push('loss spaces: choose at least one');
  const lossLayers = ctx.settings.lora?.lossLayers ?? null;
  if (lossLayers && lossLayers.length) {
    const missing = lossLayers.filter((l) => !ctx.saeLayers.includes(l));
    if (missing.length) out.push(`the Fine-tune step's loss layers ${missing.join(', ')} have no SAE (SAE layers: ${ctx.saeLayers.join(', ')})`);
    const deepest = Math.max(...lossLayers);
    sorted.forEach((set, k) => set.length && set[0] > deepest && out.push(`adapted-layer sets: set ${k + 1} (${layerText(set)}) lies after the deepest loss layer ${deepest}: the loss could not change`));
  } else {
    sorted.forEach((set, k) => set.length && !set.some((l) => ctx.saeLayers.includes(l)) && out.push(`adapted-layer sets: set ${k + 1} (${layerText(set)}) holds no SAE layer (SAE layers: ${ctx.saeLayers.join(', ') || 'none chosen'}), so it has no loss layer`));
  }
  const points = alphas.length * sets.length * spaces.length;
  if (points > MAX_POINTS) out.push(`the grid has ${points} points (${alphas.length} α × ${sets.length} sets × ${spaces.length} spaces); at most ${MAX_POINTS}, each a whole fine-tune`);
  return out;
}

/** The Fine-tune step's settings less the grid's own fields (the backend refuses them there),
 * with the sweep's steps when given. */
export function sharedSettings(settings: PartialFinetuneSettings, steps: number | null): PartialFinetuneSettings {
  const { alpha: _alpha, space: _space, ...loss } = settings.loss ?? {};
  const { adaptLayers: _adapt, ...lora } = settings.lora ?? {};
  const out: PartialFinetuneSettings = { ...settings, loss, lora };
  if (!Object.keys(loss).length) delete out.loss;
  if (!Object.keys(lora).length) delete out.lora;
  if (steps !== null) out.steps = steps;
  return out;
}

/** The request, or the problems that keep it from being sent (one line each, naming the field). */
export function sweepRequest(form: SweepForm, ctx: SweepContext): { request: SweepRunRequest } | { problems: string[] } {
  const problems: string[] = [];
  if (!ctx.model) problems.push('choose a model in the Model step');
  if (ctx.saes.length === 0) problems.push('choose SAEs in the SAEs step');
  if (ctx.languages.filter((c) => c !== 'en').length === 0) problems.push('the project needs a target language besides English (Languages or Fine-tune step)');
  const alphas = parseAlphas(form.alphas);
  const sets = parseLayerSets(form.layerSets);
  if ('error' in alphas) problems.push(`α values: ${alphas.error}`);
  if ('error' in sets) problems.push(`adapted-layer sets: ${sets.error}`);
  if ('value' in alphas && 'value' in sets) problems.push(...gridProblems(alphas.value, sets.value, form.spaces, ctx));
  const outDir = form.outDir.trim();
  if (!outDir) problems.push('type the sweep folder: a new or empty folder (or a sweep of the same grid, to resume it)');
  const evalData = form.evalData.trim();
  if (!evalData && (form.task !== 'all' || form.evalLimit !== null)) problems.push('the task and item limit apply to the evaluation: type its data, or clear them');
  if (problems.length || !('value' in alphas) || !('value' in sets)) return { problems };
  const request: SweepRunRequest = {
    model: ctx.model,
    saes: ctx.saes,
    languages: ctx.languages,
    corpus: ctx.corpus,
    ...(ctx.limit !== null ? { limit: ctx.limit } : {}),
    alphas: alphas.value,
    adaptLayerSets: sets.value,
    spaces: form.spaces,
    settings: sharedSettings(ctx.settings, form.steps),
    ...(evalData ? { evalData } : {}),
    ...(evalData && form.task !== 'all' ? { task: form.task } : {}),
    ...(evalData && form.evalLimit !== null ? { evalLimit: form.evalLimit } : {}),
    outDir,
  };
  const parsed = backendContract['sweep.run'].input.safeParse(request);
  if (!parsed.success) return { problems: parsed.error.issues.slice(0, 8).map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`) };
  return { request };
}

export { LOSS_SPACES };

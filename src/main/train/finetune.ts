// Activation-aware LoRA fine-tuning on the engine: the alignment loss (alignment-loss.ts) with
// backward + AdamW appended, steps in the compute worker, cancellation between steps.
//
// The run folder holds everything a run needs to be watched, resumed and trusted:
//   finetune.json           the full configuration (settings, data split, layers, modules, formula)
//   steps.jsonl             one line per step ({kind:"step"}) and per evaluation ({kind:"eval"})
//   checkpoints/step-N.safetensors   adapter + AdamW moments + step + the loop's state (metadata),
//                           written atomically; the last `keepCheckpoints` are kept
//   adapter/                the PEFT adapter (at the end)
// Resume restarts from a checkpoint: the data of step t is a pure function of (seed, t) and the
// state is the whole trainer state, so a resumed run equals the uninterrupted one bit for bit.
// A NaN/Inf loss stops the run with the last good checkpoint kept; the watchdog stops it after
// `watchdog.steps` steps in a row above `watchdog.threshold`; early stopping stops it when the
// held-out alignment loss has not improved for `patience` evaluations.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, truncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { loadCheckpoint, saveCheckpoint } from '../engine/checkpoint';
import { externalDataRoot } from '../engine/external-root';
import type { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { Trainer } from '../engine/trainer';
import { makeDirs } from '../io/fs';
import { checkOutputFile, writeError } from '../io/output';
import { readSafetensorsHeader } from '../io/safetensors';
import { loraTargets } from '../io/peft-adapter';
import { peftConfigJson, writePeftAdapter, type PeftAdapterSpec } from '../io/peft-adapter-writer';
import type { ModelConfig } from '../models/config';
import { decoderFeeds, type ModelFolder } from '../models/model';
import { saeLayer, type SaeSpec } from '../sae/sae';
import { mulberry32 } from '../../shared/random';
import { buildAlignmentGraph, checkLossSettings, lossFormula, loraParamName, type LoraTarget } from './alignment-loss';
import { beforeAfterReport, gainPercent, meanCosine, retentionPercent, type HeldOutMeasure } from './before-after';
import { BatchPlan, splitPairs, type Pair, type Split, type TokenizedSegment } from './finetune-data';
import { defaultAdaptLayers, LORA_MODULES, type EvalRecord, type FinetuneConfigRecord, type FinetuneOutcome, type FinetuneRunResult, type FinetuneSettings, type LogRecord, type LoraSettings, type OptimSettings, type StepRecord } from '../../shared/finetune';



export interface ResolvedLayers {
  adapt: number[];
  loss: { layer: number; sae: SaeSpec }[];
  targets: LoraTarget[];
  scale: number;
  /** Words for the run's configuration (how the defaults were chosen). */
  notes: string[];
}

const bad = (setting: string, message: string) => new ApiError('INVALID_ARGUMENT', message, { setting });

/** Checks the LoRA settings against the model and the SAEs and resolves the defaults. */
export function resolveLayers(c: ModelConfig, saes: readonly SaeSpec[], lora: LoraSettings): ResolvedLayers {
  if (!Number.isInteger(lora.rank) || lora.rank < 1 || lora.rank > 4096) throw bad('rank', `rank must be an integer in 1..4096; got ${lora.rank}`);
  if (typeof lora.alpha !== 'number' || !Number.isFinite(lora.alpha) || lora.alpha < 0) throw bad('alpha', `LoRA alpha must be a finite number ≥ 0; got ${lora.alpha}`);
  if (lora.dropout !== 0) throw bad('dropout', `LoRA dropout ${lora.dropout} is not supported: a dropout mask per step could not be replayed by a resumed run; use 0`);
  const unknown = lora.modules.filter((m) => !(LORA_MODULES as readonly string[]).includes(m));
  if (lora.modules.length === 0 || unknown.length) throw bad('modules', `LoRA modules must be some of ${LORA_MODULES.join(', ')}; got ${JSON.stringify(lora.modules)}`);
  const notes: string[] = [];
  const inRange = (list: number[], name: string) => {
    const beyond = list.find((l) => !Number.isInteger(l) || l < 0 || l >= c.numLayers);
    if (beyond !== undefined) throw bad(name, `${name} names layer ${beyond}; the model has layers 0..${c.numLayers - 1}`);
    if (list.length === 0) throw bad(name, `${name} is empty`);
    return [...new Set(list)].sort((a, b) => a - b);
  };
  let adapt: number[];
  if (lora.adaptLayers === null) {
    adapt = defaultAdaptLayers(c.numLayers);
    notes.push(`adapted layers 0..${adapt.at(-1)}: the paper's 21 of 26 layers, as a share of this model's ${c.numLayers}`);
  } else adapt = inRange(lora.adaptLayers, 'adapt-layers');
  const byLayer = new Map(saes.map((s) => [saeLayer(s), s]));
  for (const s of saes) {
    if (!/hook_resid_post$/.test(s.hookName ?? '')) throw new ApiError('INVALID_ARGUMENT', `${s.source}: the fine-tune aligns resid_post activations; this SAE reads ${s.hookName}`, { setting: 'saes' });
  }
  let lossLayers: number[];
  if (lora.lossLayers === null) {
    lossLayers = [...byLayer.keys()].filter((l): l is number => l !== null && l <= adapt.at(-1)!).sort((a, b) => a - b);
    if (lossLayers.length === 0) throw bad('loss-layers', `no SAE reads a layer within the adapted layers 0..${adapt.at(-1)} (SAE layers: ${[...byLayer.keys()].join(', ')}); choose loss layers that have SAEs`);
    notes.push(`loss layers ${lossLayers.join(', ')}: the SAE layers within the adapted range`);
  } else {
    lossLayers = inRange(lora.lossLayers, 'loss-layers');
    const missing = lossLayers.filter((l) => !byLayer.has(l));
    if (missing.length) throw bad('loss-layers', `loss layer${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ha${missing.length > 1 ? 've' : 's'} no SAE (SAE layers: ${[...byLayer.keys()].join(', ')})`);
  }
  const deepest = lossLayers.at(-1)!;
  if (!adapt.some((l) => l <= deepest)) throw bad('adapt-layers', `no adapted layer is at or below the deepest loss layer ${deepest}: the loss could not change`);
  const adaptedUsed = adapt.filter((l) => l <= deepest);
  if (adaptedUsed.length < adapt.length) notes.push(`layers ${adapt.filter((l) => l > deepest).join(', ')} are adapted but lie after the deepest loss layer ${deepest}; their factors get no gradient and stay at their initial values`);
  const scale = lora.rslora ? lora.alpha / Math.sqrt(lora.rank) : lora.alpha / lora.rank;
  const targets = loraTargets(JSON.parse(peftConfigJson(adapterSpec(lora, adapt, 'base', []))), c, 'the LoRA settings');
  return { adapt, loss: lossLayers.map((layer) => ({ layer, sae: byLayer.get(layer)! })), targets, scale, notes };
}

function adapterSpec(lora: LoraSettings, adapt: number[], baseModel: string, factors: PeftAdapterSpec['factors']): PeftAdapterSpec {
  return { rank: lora.rank, alpha: lora.alpha, rslora: lora.rslora, dropout: 0, targetModules: [...lora.modules], layersToTransform: adapt, baseModel, factors };
}

/** PEFT's initialisation: A ~ Kaiming-uniform(a = √5), i.e. U(−1/√in, 1/√in); B = 0 (seeded). */
export function initialFactors(targets: readonly LoraTarget[], rank: number, seed: number): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  targets.forEach((t, i) => {
    const rand = mulberry32((seed * 1000003 + i * 7919 + 11) >>> 0);
    const bound = 1 / Math.sqrt(t.inp);
    const a = new Float32Array(rank * t.inp);
    for (let j = 0; j < a.length; j++) a[j] = (rand() * 2 - 1) * bound;
    out[loraParamName(t.module, 'A')] = { dtype: 'float32', dims: [rank, t.inp], data: a };
    out[loraParamName(t.module, 'B')] = { dtype: 'float32', dims: [t.out, rank], data: new Float32Array(t.out * rank) };
  });
  return out;
}

export function checkFinetuneSettings(s: FinetuneSettings): void {
  checkLossSettings(s.loss);
  const o = s.optim;
  if (typeof o.lr !== 'number' || !Number.isFinite(o.lr) || o.lr <= 0 || o.lr > 10) throw bad('lr', `the learning rate must be a number in (0, 10]; got ${o.lr}`);
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw bad('warmup', `warmup must be a whole number of steps ≥ 0; got ${o.warmup}`);
  if (!(o.minLrRatio >= 0 && o.minLrRatio <= 1)) throw bad('min-lr-ratio', `the final learning-rate ratio must be in [0, 1]; got ${o.minLrRatio}`);
  if (s.steps !== null && (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 10_000_000)) throw bad('steps', `steps must be an integer in 1..10^7; got ${s.steps}`);
  const m = s.monitor;
  for (const [name, v] of [['eval-every', m.evalEvery], ['checkpoint-every', m.checkpointEvery], ['keep-checkpoints', m.keepCheckpoints], ['watchdog-steps', m.watchdog.steps]] as const) {
    if (!Number.isInteger(v) || v < 1) throw bad(name, `${name} must be a positive integer; got ${v}`);
  }
  if (m.watchdog.threshold !== null && !(Number.isFinite(m.watchdog.threshold) && m.watchdog.threshold > 0)) throw bad('watchdog', `the watchdog threshold must be a positive number; got ${m.watchdog.threshold}`);
  if (m.patience !== null && (!Number.isInteger(m.patience) || m.patience < 1)) throw bad('patience', `patience must be a positive integer; got ${m.patience}`);
}


export interface FinetuneEvent {
  record: LogRecord;
  steps: number;
}


export const FINETUNE_CONFIG_FILE = 'finetune.json';
export const STEP_LOG_FILE = 'steps.jsonl';

/** Per loss layer the frozen model's reduced English activations and feature weights, per segment;
 * and the held-out phrases' mean SAE activation before training. */
interface Frozen {
  uorig: Map<number, Float32Array[]>;
  weights: Map<number, Float32Array[]>;
  /** The held-out phrases' activations under the frozen model. */
  before: HeldOutMeasure;
  /** Held-out segment -> per layer: English codes (for the cosine). */
  beforeEnCodes: Map<number, Float32Array[]>;
  /** Held-out segment -> per layer: the feature set (english-active: the frozen English codes > 0). */
  featureSets: Map<number, Uint8Array[]>;
}

export interface FinetuneArgs {
  folder: ModelFolder;
  saes: readonly SaeSpec[];
  /** Tokenized segments with English (`en`) and the target languages. */
  segments: readonly TokenizedSegment[];
  targets: readonly string[];
  settings: FinetuneSettings;
  runtime: RuntimeHost;
  /** The run folder. */
  dir: string;
  /** Resume from this checkpoint file (one of the run's). */
  resumeFrom?: string;
  /** How the analysis counts tokens: BOS excluded unless true. */
  includeBos?: boolean;
  /** Tiers of the run's languages (for the gap before/after). */
  tiers?: Record<string, 'reference' | 'high' | 'medium-low'>;
  /** Bootstrap resamples for the report's intervals (default 1000). */
  bootstrap?: number;
  signal?: AbortSignal;
  onEvent?(e: FinetuneEvent): void;
  onStage?(stage: string, done: number, total: number): void;
}

const now = () => performance.now();
const round = (x: number, digits = 6) => (Number.isFinite(x) ? Number(x.toPrecision(digits)) : x);

/** Segments that every language of the run has at least one counted token for (BOS excluded). */
function counted(ids: readonly number[], bos: number | null, includeBos: boolean): number {
  return ids.length - (!includeBos && ids[0] === bos ? 1 : 0);
}

export class FinetuneRun {
  readonly split: Split;
  readonly layers: ResolvedLayers;
  readonly stepsPlanned: number;
  readonly config: FinetuneConfigRecord;
  private readonly plan: BatchPlan;
  /** The segments the run uses (those within max-tokens in every language). */
  private readonly segments: readonly TokenizedSegment[];

  constructor(readonly args: FinetuneArgs) {
    const { folder, saes, targets, settings } = args;
    checkFinetuneSettings(settings);
    const max = settings.data.maxTokens;
    const segments = args.segments.filter((s) => Object.values(s.tokens).every((t) => t.length <= max));
    if (segments.length < args.segments.length) this.notes.push(`${args.segments.length - segments.length} of ${args.segments.length} segments left out: a phrase in some language is longer than ${max} tokens (max-tokens)`);
    this.segments = segments;
    if (segments.length < 2 && args.segments.length >= 2) throw new ApiError('INVALID_ARGUMENT', `only ${segments.length} of ${args.segments.length} segments have every phrase within max-tokens ${max}; raise max-tokens or use a corpus of shorter phrases`, { setting: 'max-tokens' });
    this.layers = resolveLayers(folder.config, saes, settings.lora);
    const bos = folder.config.bosTokenId;
    const usable = (s: TokenizedSegment) => ['en', ...targets].every((l) => s.tokens[l] === undefined || counted(s.tokens[l], bos, args.includeBos ?? false) > 0);
    const bare = segments.find((s) => !usable(s));
    if (bare) throw new ApiError('INVALID_ARGUMENT', `segment "${bare.key}" has a phrase with no token besides BOS; nothing to align there`, { segment: bare.key });
    if (!segments.every((s) => s.tokens.en)) throw new ApiError('INVALID_ARGUMENT', 'every segment needs its English text: the loss aligns each target phrase with its English source');
    this.split = splitPairs(segments, targets, settings.data);
    if (this.split.pairs.length < settings.data.pairs) this.notes.push(`${this.split.pairs.length} training pairs: the corpus offers ${this.split.available} on the training segments, fewer than the ${settings.data.pairs} asked for`);
    this.plan = new BatchPlan(this.split.pairs, (p) => Math.max(segments[p.segment].tokens.en.length, segments[p.segment].tokens[p.language].length), settings.data);
    this.stepsPlanned = settings.steps ?? this.plan.steps;
    this.config = {
      format: 'linguascope-finetune',
      version: 1,
      model: folder.path,
      saes: this.layers.loss.map((l) => l.sae.source),
      languages: ['en', ...targets],
      settings,
      stepsPlanned: this.stepsPlanned,
      formula: lossFormula(settings.loss),
      adaptLayers: this.layers.adapt,
      lossLayers: this.layers.loss.map((l) => l.layer),
      modules: this.layers.targets.length,
      scale: this.layers.scale,
      notes: [...this.layers.notes, ...this.notes],
      split: {
        trainSegments: this.split.train.map((i) => segments[i].key),
        heldOutSegments: this.split.heldOut.map((i) => segments[i].key),
        trainPairs: this.split.pairs.length,
        availablePairs: this.split.available,
        heldOutPairs: this.split.heldOutPairs.length,
      },
    };
  }

  private readonly notes: string[] = [];

  /** Count mask (2P, T): 1 on every real token but a leading BOS (unless counted). */
  private countMask(seqs: readonly number[][], T: number): Float32Array {
    const bos = this.args.folder.config.bosTokenId;
    const mask = new Float32Array(seqs.length * T);
    seqs.forEach((p, b) => p.forEach((id, t) => {
      if (!this.args.includeBos && t === 0 && id === bos) return;
      mask[b * T + t] = 1;
    }));
    return mask;
  }

  private feeds(maskWindows: readonly (number | null)[], en: number[][], tgt: number[][], uorig: Float32Array[][], weights: Float32Array[][], widths: number[]): Record<string, HostTensor> {
    const seqs = [...en, ...tgt];
    const P = en.length;
    const T = Math.max(...seqs.map((s) => s.length));
    const feeds = decoderFeeds(this.args.folder.config, seqs, maskWindows);
    feeds.count_mask = { dtype: 'float32', dims: [seqs.length, T], data: this.countMask(seqs, T) };
    feeds.en_rows = { dtype: 'int64', dims: [P], data: BigInt64Array.from({ length: P }, (_, i) => BigInt(i)) };
    feeds.tgt_rows = { dtype: 'int64', dims: [P], data: BigInt64Array.from({ length: P }, (_, i) => BigInt(P + i)) };
    widths.forEach((w, i) => {
      const u = new Float32Array(P * w);
      const m = new Float32Array(P * w);
      for (let p = 0; p < P; p++) {
        u.set(uorig[p][i], p * w);
        m.set(weights[p][i], p * w);
      }
      feeds[`uorig.${i}`] = { dtype: 'float32', dims: [P, w], data: u };
      feeds[`weights.${i}`] = { dtype: 'float32', dims: [P, w], data: m };
    });
    return feeds;
  }

  async run(): Promise<FinetuneRunResult> {
    const { folder, settings, runtime, dir, signal } = this.args;
    const segments = this.segments;
    const t0 = now();
    const layers = this.layers;
    const root = externalDataRoot([...folder.index.files, ...layers.loss.flatMap((l) => Object.values(l.sae.tensors).filter((t) => t && !t.data).map((t) => t!.file))]);
    const graphArgs = { config: folder.config, root, index: folder.index, layers: layers.loss, targets: layers.targets, rank: settings.lora.rank, scale: layers.scale, settings: settings.loss };
    const built = buildAlignmentGraph(graphArgs);
    const { widths } = built;
    // The frozen pass and the evaluations run a forward-only copy of the graph (onnxruntime runs
    // every node of a session whatever is fetched: on the training graph they would cost a whole
    // step each). It reads the same memory-mapped weights; the LoRA factors are fed.
    const forward = buildAlignmentGraph(graphArgs);
    forward.graph.output(forward.loss, 'loss');
    const checkpointsDir = join(dir, 'checkpoints');
    makeDirs(checkpointsDir);
    removeDeadCheckpointTemporaries(checkpointsDir);
    this.writeConfig();
    this.args.onStage?.('loading the model and SAEs', 0, 1);
    const initial = initialFactors(layers.targets, settings.lora.rank, settings.data.seed);
    const sessionOptions = { externalDataFolder: root, disablePrepacking: true };
    const trainer = await Trainer.create(built.graph, built.loss, built.params, initial, settings.optim, runtime, sessionOptions);
    let forwardSession: Awaited<ReturnType<RuntimeHost['load']>> | undefined;
    try {
      forwardSession = await runtime.load(forward.graph.toModel(), { provider: 'cpu', ...sessionOptions }, signal);
      const fwd = forwardSession;
      this.forwardRun = (feeds, fetches, overrides = {}) => fwd.run({ ...feeds, ...trainer.parameters(), ...overrides }, fetches, signal);
      const zeroB: Record<string, HostTensor> = {};
      for (const [name, t] of Object.entries(initial)) if (name.endsWith('.B')) zeroB[name] = t;
      const frozen = await this.frozenPass(trainer, built.maskWindows, widths, zeroB);
      let state = { best: Infinity, sinceBest: 0, above: 0 };
      if (this.args.resumeFrom) {
        const ckpt = loadCheckpoint(this.args.resumeFrom);
        trainer.restore(ckpt);
        state = JSON.parse(ckpt.metadata.loop ?? '{"best":null,"sinceBest":0,"above":0}');
        state.best ??= Infinity;
        // A run resumed at its last step evaluates that step again (the report needs the figures):
        // its earlier evaluation line goes.
        this.truncateLog(ckpt.step, ckpt.step >= this.stepsPlanned);
      } else {
        writeFileSync(join(dir, STEP_LOG_FILE), '');
      }
      const seq = (p: Pair, lang: string) => segments[p.segment].tokens[lang];
      let outcome: FinetuneOutcome = 'completed';
      let reason = `${this.stepsPlanned} steps done`;
      let tokens = 0;
      const started = now();
      let last: { record: EvalRecord; after: HeldOutMeasure } | null = null;
      const checkpoint = () => this.saveCheckpoint(trainer, state);
      while (trainer.step < this.stepsPlanned) {
        if (signal?.aborted) {
          checkpoint();
          throw new ApiError('CANCELLED', `the fine-tune was cancelled at step ${trainer.step}; its checkpoint is kept, resume to continue`);
        }
        const step = trainer.step;
        const batch = this.plan.at(step);
        const en = batch.map((p) => seq(p, 'en'));
        const tgt = batch.map((p) => seq(p, p.language));
        const feeds = this.feeds(built.maskWindows, en, tgt, batch.map((p) => frozen.uorig.get(p.segment)!), batch.map((p) => frozen.weights.get(p.segment)!), widths);
        const lr = scheduledLr(settings.optim, this.stepsPlanned, step);
        let result;
        try {
          result = await trainer.train(feeds, lr);
        } catch (error) {
          if (error instanceof ApiError && error.code === 'RUNTIME_ERROR' && /loss became|gradient norm/.test(error.message)) {
            throw new ApiError('TRAINING_DIVERGED', `the fine-tune diverged: ${error.message}. The last good checkpoint is kept in ${checkpointsDir}; lower the learning rate (now ${settings.optim.lr}) and resume`, { checkpoint: this.latestCheckpoint() });
          }
          throw error;
        }
        tokens += [...en, ...tgt].reduce((s, x) => s + x.length, 0);
        const elapsed = (now() - started) / 1000;
        const record: StepRecord = {
          kind: 'step',
          step: trainer.step,
          loss: round(result.loss),
          term1: round(result.scalars.term1),
          term2: round(result.scalars.term2),
          lr: round(lr),
          grad_norm: round(result.gradNorm),
          tokens,
          elapsed_s: round(elapsed, 4),
          tokens_per_s: round(tokens / Math.max(elapsed, 1e-9), 4),
          rss_mib: Math.round(process.memoryUsage().rss / 2 ** 20),
        };
        this.log(record);
        const w = settings.monitor.watchdog;
        state.above = w.threshold !== null && result.loss > w.threshold ? state.above + 1 : 0;
        if (trainer.step % settings.monitor.evalEvery === 0 || trainer.step === this.stepsPlanned) {
          last = await this.evaluate(trainer, built.maskWindows, widths, frozen);
          if (last.record.heldout_loss < state.best - 1e-12) {
            state.best = last.record.heldout_loss;
            state.sinceBest = 0;
          } else state.sinceBest++;
        }
        if (trainer.step % settings.monitor.checkpointEvery === 0 || trainer.step === this.stepsPlanned) checkpoint();
        if (w.threshold !== null && state.above >= w.steps) {
          outcome = 'watchdog';
          reason = `the loss stayed above ${w.threshold} for ${w.steps} steps in a row (last ${round(result.loss)} at step ${trainer.step}); the run was stopped`;
          checkpoint();
          break;
        }
        if (settings.monitor.patience !== null && state.sinceBest >= settings.monitor.patience) {
          outcome = 'early-stopped';
          reason = `the held-out alignment loss has not improved for ${settings.monitor.patience} evaluations (best ${round(state.best)}); stopped at step ${trainer.step}`;
          checkpoint();
          break;
        }
      }
      if (!last || last.record.step !== trainer.step) last = await this.evaluate(trainer, built.maskWindows, widths, frozen);
      const snapshot = trainer.snapshot();
      const adapterDir = join(dir, 'adapter');
      const factors = layers.targets.map((t) => ({ module: t.module, a: snapshot.tensors[loraParamName(t.module, 'A')].data as Float32Array, b: snapshot.tensors[loraParamName(t.module, 'B')].data as Float32Array }));
      try {
        writePeftAdapter(adapterDir, adapterSpec(settings.lora, layers.adapt, folder.path, factors), folder.config);
      } catch (error) {
        throw this.diskFull(error, adapterDir);
      }
      const report = beforeAfterReport({ before: frozen.before, after: last.after, targets: this.args.targets, tiers: this.args.tiers ?? {}, bootstrap: this.args.bootstrap ?? 1000, seed: settings.data.seed });
      return { outcome, reason, steps: trainer.step, stepsPlanned: this.stepsPlanned, adapterDir, checkpoints: this.checkpoints(), config: this.config, final: last.record, report, seconds: round((now() - t0) / 1000, 4) };
    } finally {
      await trainer.release();
      await forwardSession?.release();
    }
  }

  /** Runs the forward-only graph with the trainer's current LoRA factors (or `overrides`). */
  private forwardRun: (feeds: Record<string, HostTensor>, fetches: readonly string[], overrides?: Record<string, HostTensor>) => Promise<Record<string, HostTensor>> = () => {
    throw new Error('the forward session is not loaded');
  };

  private writeConfig(): void {
    try {
      writeFileSync(join(this.args.dir, FINETUNE_CONFIG_FILE), `${JSON.stringify(this.config, null, 2)}\n`);
    } catch (error) {
      throw writeError(this.args.dir, error, `cannot write the fine-tune's configuration in ${this.args.dir}`);
    }
  }

  private log(record: LogRecord): void {
    try {
      appendFileSync(join(this.args.dir, STEP_LOG_FILE), `${JSON.stringify(record)}\n`);
    } catch (error) {
      throw this.diskFull(writeError(this.args.dir, error, `cannot append to the step log in ${this.args.dir}`), join(this.args.dir, STEP_LOG_FILE));
    }
    this.args.onEvent?.({ record, steps: this.stepsPlanned });
  }

  /** Keeps the log lines up to `step` (a resumed run rewrites what came after its checkpoint). */
  private truncateLog(step: number, dropEvalAtStep = false): void {
    const file = join(this.args.dir, STEP_LOG_FILE);
    if (!existsSync(file)) return;
    const keep = readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        let r: LogRecord;
        try {
          r = JSON.parse(line) as LogRecord;
        } catch {
          return false; // the line a killed process was writing
        }
        return r.step < step || (r.step === step && !(dropEvalAtStep && r.kind === 'eval'));
      });
    truncateSync(file, 0);
    if (keep.length) appendFileSync(file, `${keep.join('\n')}\n`);
  }

  /** A full disk stops the run: the error names the whole path that did not fit (which disk) and
   * what to resume from (the latest checkpoint, whole: checkpoints are written atomically). */
  private diskFull(error: unknown, path: string): unknown {
    if (!(error instanceof ApiError) || error.code !== 'DISK_FULL') return error;
    const kept = this.latestCheckpoint();
    const resume = kept ? `resume the run: its checkpoint ${basename(kept)} is kept` : 'start the run again: it has no checkpoint yet';
    return new ApiError('DISK_FULL', `${path}: the disk is full; free some space and ${resume}`, { ...error.details, path, file: path, checkpoint: kept });
  }

  checkpoints(): string[] {
    const dir = join(this.args.dir, 'checkpoints');
    if (!existsSync(dir)) return [];
    return readdirSync(dir).filter((f) => /^step-\d+\.safetensors$/.test(f)).sort().map((f) => join(dir, f));
  }

  private latestCheckpoint(): string | null {
    return this.checkpoints().at(-1) ?? null;
  }

  private saveCheckpoint(trainer: Trainer, loop: { best: number; sinceBest: number; above: number }): void {
    const file = join(this.args.dir, 'checkpoints', `step-${String(trainer.step).padStart(7, '0')}.safetensors`);
    try {
      saveCheckpoint(file, trainer.snapshot(), { loop: JSON.stringify({ ...loop, best: Number.isFinite(loop.best) ? loop.best : null }), run: 'linguascope-finetune' });
    } catch (error) {
      throw this.diskFull(writeError(file, error, `cannot write the checkpoint ${file}`), file);
    }
    const all = this.checkpoints();
    for (const old of all.slice(0, Math.max(0, all.length - this.args.settings.monitor.keepCheckpoints))) rmSync(old, { force: true });
  }

  /** Batches of phrases run through the graph with B = 0 (the frozen model). */
  private async frozenPass(trainer: Trainer, maskWindows: readonly (number | null)[], widths: number[], zeroB: Record<string, HostTensor>): Promise<Frozen> {
    const { targets, settings } = this.args;
    const segments = this.segments;
    const heldOut = new Set(this.split.heldOut);
    const jobs: { segment: number; language: string }[] = [];
    for (const s of [...this.split.train, ...this.split.heldOut]) {
      jobs.push({ segment: s, language: 'en' });
      if (heldOut.has(s)) for (const t of targets) if (segments[s].tokens[t]) jobs.push({ segment: s, language: t });
    }
    jobs.sort((a, b) => segments[a.segment].tokens[a.language].length - segments[b.segment].tokens[b.language].length);
    const frozen: Frozen = { uorig: new Map(), weights: new Map(), before: { segments: this.split.heldOut, layers: this.layers.loss.map((l) => l.layer), values: new Map() }, beforeEnCodes: new Map(), featureSets: new Map() };
    const chunk = Math.max(1, settings.data.batchPairs * 2);
    const dSae = this.layers.loss.map((l) => l.sae.dSae);
    const raw = new Map<string, Float32Array[]>(); // `${segment}:${language}` -> per layer codes
    for (let i = 0; i < jobs.length; i += chunk) {
      if (this.args.signal?.aborted) throw new ApiError('CANCELLED', 'the fine-tune was cancelled while measuring the frozen model');
      this.args.onStage?.('measuring the frozen model', i, jobs.length);
      const part = jobs.slice(i, i + chunk);
      const seqs = part.map((j) => segments[j.segment].tokens[j.language]);
      const zeros = part.map(() => widths.map((w) => new Float32Array(w)));
      // en rows = tgt rows = the phrases themselves: only the per-phrase outputs are read.
      const feeds = this.feeds(maskWindows, seqs, [], zeros, zeros, widths);
      feeds.tgt_rows = feeds.en_rows;
      const fetches = [...widths.map((_, l) => `reduced.${l}`), ...widths.map((_, l) => `codes.${l}`)];
      const out = await this.forwardRun(feeds, fetches, zeroB);
      for (const [name, t] of Object.entries(out)) {
        if ((t.data as Float32Array).some((v) => !Number.isFinite(v))) {
          const layer = this.layers.loss[Number(name.split('.')[1])];
          throw new ApiError('WEIGHTS_INVALID', `the frozen model with the SAE on layer ${layer.layer} (${layer.sae.source}) gives NaN or infinite activations; its weights (or the model's up to that layer) are broken`, { file: layer.sae.source, layer: layer.layer });
        }
      }
      part.forEach((j, p) => {
        const codes = widths.map((_, l) => (out[`codes.${l}`].data as Float32Array).slice(p * dSae[l], (p + 1) * dSae[l]));
        if (j.language === 'en') {
          frozen.uorig.set(j.segment, widths.map((w, l) => (out[`reduced.${l}`].data as Float32Array).slice(p * w, (p + 1) * w)));
          const sets = codes.map((c) => Uint8Array.from(c, (v) => (v > 0 ? 1 : 0)));
          frozen.weights.set(j.segment, widths.map((w, l) => (settings.loss.features === 'all' ? new Float32Array(w).fill(1) : Float32Array.from(sets[l]))));
          if (heldOut.has(j.segment)) {
            frozen.featureSets.set(j.segment, sets);
            frozen.beforeEnCodes.set(j.segment, codes);
          }
        }
        if (heldOut.has(j.segment)) raw.set(`${j.segment}:${j.language}`, codes);
      });
    }
    // Held-out activation before training: per segment, language and layer, the mean over the
    // feature set (the English phrase's active features, the analysis' default) of the codes.
    for (const [key, codes] of raw) {
      const s = Number(key.split(':')[0]);
      frozen.before.values.set(key, codes.map((c, l) => setMean(c, frozen.featureSets.get(s)![l])));
    }
    this.args.onStage?.('measuring the frozen model', jobs.length, jobs.length);
    return frozen;
  }

  /** The held-out alignment loss and, per target language, the activation gain; English retention. */
  private async evaluate(trainer: Trainer, maskWindows: readonly (number | null)[], widths: number[], frozen: Frozen): Promise<{ record: EvalRecord; after: HeldOutMeasure }> {
    const { targets, settings } = this.args;
    const segments = this.segments;
    const pairs = this.split.heldOutPairs;
    const dSae = this.layers.loss.map((l) => l.sae.dSae);
    let loss = 0;
    let term1 = 0;
    let term2 = 0;
    const after: HeldOutMeasure = { segments: this.split.heldOut, layers: frozen.before.layers, values: new Map(), cosines: new Map() };
    const B = settings.data.batchPairs;
    for (let i = 0; i < pairs.length; i += B) {
      if (this.args.signal?.aborted) throw new ApiError('CANCELLED', 'the fine-tune was cancelled during an evaluation');
      const part = pairs.slice(i, i + B);
      const en = part.map((p) => segments[p.segment].tokens.en);
      const tgt = part.map((p) => segments[p.segment].tokens[p.language]);
      const feeds = this.feeds(maskWindows, en, tgt, part.map((p) => frozen.uorig.get(p.segment)!), part.map((p) => frozen.weights.get(p.segment)!), widths);
      const out = await this.forwardRun(feeds, ['loss', 'term1', 'term2', ...widths.map((_, l) => `codes.${l}`)]);
      loss += (out.loss.data[0] as number) * part.length;
      term1 += (out.term1.data[0] as number) * part.length;
      term2 += (out.term2.data[0] as number) * part.length;
      part.forEach((p, j) => {
        const sets = frozen.featureSets.get(p.segment)!;
        const row = (r: number) => widths.map((_, l) => (out[`codes.${l}`].data as Float32Array).subarray(r * dSae[l], (r + 1) * dSae[l]));
        after.values.set(`${p.segment}:${p.language}`, row(part.length + j).map((c, l) => setMean(c, sets[l])));
        if (!after.values.has(`${p.segment}:en`)) {
          const enCodes = row(j);
          after.values.set(`${p.segment}:en`, enCodes.map((c, l) => setMean(c, sets[l])));
          after.cosines!.set(p.segment, enCodes.map((c, l) => cosine(c, frozen.beforeEnCodes.get(p.segment)![l])));
        }
      });
    }
    const n = Math.max(pairs.length, 1);
    const maybe = (x: number | null) => (x === null ? null : round(x));
    const record: EvalRecord = {
      kind: 'eval',
      step: trainer.step,
      heldout_loss: round(loss / n),
      heldout_term1: round(term1 / n),
      heldout_term2: round(term2 / n),
      gain_percent: Object.fromEntries(targets.map((lang) => [lang, maybe(gainPercent(frozen.before, after, lang))])),
      retention_percent: maybe(retentionPercent(frozen.before, after)),
      retention_cosine: maybe(meanCosine(after)),
    };
    this.log(record);
    return { record, after };
  }
}

/** A process killed inside a checkpoint write leaves `step-N.safetensors.tmp-<pid>` (a partial
 * file, ignored by resume); the next run in the folder removes those of dead writers, whichever step
 * they were for (a resumed run may stop before it writes that step again). */
function removeDeadCheckpointTemporaries(dir: string): void {
  const isCheckpoint = (path: string) => {
    try {
      return readSafetensorsHeader(path).metadata.format === 'linguascope-trainer';
    } catch {
      return false;
    }
  };
  const targets = new Set(readdirSync(dir).flatMap((f) => /^(step-\d+\.safetensors)\.tmp-\d+$/.exec(f)?.[1] ?? []));
  for (const target of targets) checkOutputFile(join(dir, target), isCheckpoint);
}

/** Linear warmup over `warmup` steps, then cosine decay to minLrRatio·lr at the last step. */
export function scheduledLr(o: OptimSettings, steps: number, step: number): number {
  if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
  const progress = Math.min(1, (step - o.warmup) / Math.max(1, steps - o.warmup));
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Mean of `codes` over the features where `set` is 1 (0 when the set is empty). */
export function setMean(codes: ArrayLike<number>, set: Uint8Array): number {
  let sum = 0;
  let count = 0;
  for (let f = 0; f < set.length; f++) {
    if (set[f]) {
      sum += codes[f];
      count++;
    }
  }
  return count ? sum / count : 0;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number | null {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : null;
}

/** Reads a run folder's configuration (for resume and the monitor). */
export function readFinetuneConfig(dir: string): FinetuneConfigRecord {
  const file = join(dir, FINETUNE_CONFIG_FILE);
  let parsed: FinetuneConfigRecord;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as FinetuneConfigRecord;
  } catch (error) {
    throw new ApiError('INVALID_ARGUMENT', `${dir} is not a fine-tune run folder (no readable ${FINETUNE_CONFIG_FILE}: ${(error as Error).message})`, { path: dir });
  }
  if (parsed?.format !== 'linguascope-finetune' || parsed.version !== 1) throw new ApiError('INVALID_ARGUMENT', `${file} is not a LinguaScope fine-tune configuration`, { path: file });
  return parsed;
}

/** Every record of a run's step log (a torn last line from a killed run is left out). */
export function readStepLog(dir: string): LogRecord[] {
  const file = join(dir, STEP_LOG_FILE);
  if (!existsSync(file)) return [];
  const out: LogRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // the line a killed process was writing
    }
  }
  return out;
}
export { FINETUNE_DEFAULTS } from '../../shared/finetune';

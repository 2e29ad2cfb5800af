// Causal-LM training on the engine: the decoder graph with its weights as graph inputs, masked
// next-token cross-entropy, backward + AdamW appended by the engine, steps run in the compute
// worker. Learning rate: linear warmup then cosine decay to minLrRatio·lr. Gradients are clipped
// by global norm. Checkpoints (parameters, moments, step) are written every `checkpointEvery`
// steps and at the end; `resume` continues bit-identically. A loss that turns NaN/Inf stops the
// run with the last good checkpoint kept and the reason given.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { loadCheckpoint, saveCheckpoint } from '../engine/checkpoint';
import { Graph, type Value } from '../engine/graph';
import { crossEntropy } from '../engine/nn';
import { ADAMW_DEFAULTS, type TrainableParam } from '../engine/optim';
import type { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { Trainer } from '../engine/trainer';
import { makeDirs } from '../io/fs';
import { writeSafetensors } from '../io/safetensors';
import { expectedTensors, hfConfigJson, type ModelConfig } from '../models/config';
import { buildDecoder, type WeightSource } from '../models/forward';
import { ropeTables } from '../models/model';
import { attentionMask } from '../engine/nn';
import { maskInput } from '../models/forward';
import { randomTensor } from '../models/random-model';

export interface LmTrainingOptions {
  steps: number;
  /** Sequences per step. */
  batch: number;
  /** Tokens per sequence (BOS included). */
  seqLen: number;
  lr: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  clipNorm: number;
  seed: number;
  checkpointEvery: number;
}

export const LM_DEFAULTS: LmTrainingOptions = { steps: 1000, batch: 16, seqLen: 128, lr: 3e-3, warmup: 50, minLrRatio: 0.1, weightDecay: 0.01, clipNorm: 1, seed: 0, checkpointEvery: 200 };

export function learningRate(o: LmTrainingOptions, step: number): number {
  if (step < o.warmup) return (o.lr * (step + 1)) / o.warmup;
  const progress = Math.min(1, (step - o.warmup) / Math.max(1, o.steps - o.warmup));
  return o.lr * (o.minLrRatio + (1 - o.minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** Graph inputs as weights: each becomes a trainable parameter. */
class TrainableWeights implements WeightSource {
  readonly params: TrainableParam[] = [];
  private readonly made = new Map<string, Value>();
  constructor(private readonly g: Graph) {}
  get(name: string, { shape }: { shape: number[] }): Value {
    let v = this.made.get(name);
    if (!v) {
      v = this.g.input(name, 'float32', shape);
      this.made.set(name, v);
      // Matrices decay; norms and biases do not.
      this.params.push({ value: v, decay: shape.length === 2 });
    }
    return v;
  }
  get bytesUsed(): number {
    return 0;
  }
}

/** Initial weights: N-like uniform noise with std 0.02; RMSNorm weights 0 for (1 + w), 1 otherwise. */
export function initialWeights(c: ModelConfig, seed: number): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [i, t] of expectedTensors(c).entries()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const data = t.norm ? new Float32Array(n).fill(c.gemmaStyle ? 0 : 1) : randomTensor(n, (seed * 7919 + i * 104729 + 1) >>> 0, 0.02);
    out[t.name] = { dtype: 'float32', dims: t.shape, data };
  }
  return out;
}

export interface LmBatch {
  /** Sequences of exactly seqLen tokens (BOS first); targets are the next tokens. */
  sequences: number[][];
}

export interface LmProgress {
  step: number;
  steps: number;
  loss: number;
  lr: number;
  tokensPerSecond: number;
}

export interface TrainedLm {
  steps: number;
  lastLoss: number;
  losses: number[];
  /** Mean loss on held-out sequences per group (e.g. language). */
  evalLoss: Record<string, number>;
  seconds: number;
}

function lmFeeds(c: ModelConfig, sequences: number[][], windows: (number | null)[]): Record<string, HostTensor> {
  const B = sequences.length;
  const T = sequences[0].length - 1;
  const ids = new BigInt64Array(B * T);
  const targets = new BigInt64Array(B * T);
  sequences.forEach((s, b) => {
    for (let t = 0; t < T; t++) {
      ids[b * T + t] = BigInt(s[t]);
      targets[b * T + t] = BigInt(s[t + 1]);
    }
  });
  const { cos, sin } = ropeTables(c.rope, c.headDim, T);
  const feeds: Record<string, HostTensor> = {
    input_ids: { dtype: 'int64', dims: [B, T], data: ids },
    token_index: { dtype: 'int64', dims: [B * T], data: BigInt64Array.from({ length: B * T }, (_, i) => BigInt(i)) },
    rope_cos: { dtype: 'float32', dims: [T, c.headDim], data: cos },
    rope_sin: { dtype: 'float32', dims: [T, c.headDim], data: sin },
    targets: { dtype: 'int64', dims: [B * T], data: targets },
  };
  for (const w of windows) feeds[maskInput(w)] = { dtype: 'bool', dims: [B, 1, T, T], data: attentionMask(sequences.map(() => T), T, w ?? undefined) };
  return feeds;
}

export async function trainLm(args: {
  config: ModelConfig;
  options: LmTrainingOptions;
  /** Step -> the step's sequences (deterministic in the step, so a resumed run sees the same data). */
  batchAt(step: number): number[][];
  /** Held-out sequences per group for the final evaluation. */
  evalSets: Record<string, number[][]>;
  runtime: RuntimeHost;
  checkpointDir: string;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?(p: LmProgress): void;
}): Promise<{ result: TrainedLm; weights: Record<string, HostTensor> }> {
  const { config: c, options: o } = args;
  const g = new Graph('lm-train');
  const weights = new TrainableWeights(g);
  const built = buildDecoder(g, c, weights, { hooks: [], logits: true });
  const targets = g.input('targets', 'int64', ['tokens']);
  // The evaluation graph: the same forward and loss, no backward.
  const loss = g.output(crossEntropy(built.logits!, targets), 'loss');
  const evalModel = g.toModel();
  g.outputs.length = 0;
  const trainer = await Trainer.create(g, loss, weights.params, initialWeights(c, o.seed), { ...ADAMW_DEFAULTS, weightDecay: o.weightDecay, clipNorm: o.clipNorm }, args.runtime);
  const checkpoint = join(args.checkpointDir, 'lm-checkpoint.safetensors');
  makeDirs(args.checkpointDir);
  if (args.resume && existsSync(checkpoint)) trainer.restore(loadCheckpoint(checkpoint));
  const losses: number[] = [];
  const t0 = performance.now();
  let tokens = 0;
  try {
    while (trainer.step < o.steps) {
      if (args.signal?.aborted) {
        saveCheckpoint(checkpoint, trainer.snapshot());
        throw new ApiError('CANCELLED', `training was cancelled at step ${trainer.step}; the checkpoint is kept, resume to continue`);
      }
      const step = trainer.step;
      const sequences = args.batchAt(step);
      const lr = learningRate(o, step);
      let result;
      try {
        result = await trainer.train(lmFeeds(c, sequences, built.maskWindows), lr);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'RUNTIME_ERROR' && /loss became|gradient norm/.test(error.message)) {
          throw new ApiError('RUNTIME_ERROR', `training diverged: ${error.message}. The last good checkpoint (${checkpoint}) is kept; lower the learning rate (now ${o.lr}) and resume`, { checkpoint });
        }
        throw error;
      }
      losses.push(result.loss);
      tokens += sequences.length * (o.seqLen - 1);
      if ((trainer.step % o.checkpointEvery === 0 && trainer.step > 0) || trainer.step === o.steps) saveCheckpoint(checkpoint, trainer.snapshot());
      args.onProgress?.({ step: trainer.step, steps: o.steps, loss: result.loss, lr, tokensPerSecond: tokens / ((performance.now() - t0) / 1000) });
    }
  } finally {
    await trainer.release();
  }
  const state = trainer.snapshot();
  const trained: Record<string, HostTensor> = {};
  for (const p of weights.params) trained[p.value.name] = state.tensors[p.value.name];
  // Evaluation, one group at a time.
  const evalLoss: Record<string, number> = {};
  const session = await args.runtime.load(evalModel, { provider: 'cpu' });
  try {
    for (const [group, seqs] of Object.entries(args.evalSets)) {
      let total = 0;
      for (let i = 0; i < seqs.length; i += o.batch) {
        const chunk = seqs.slice(i, i + o.batch);
        const out = await session.run({ ...lmFeeds(c, chunk, built.maskWindows), ...trained }, ['loss']);
        total += (out.loss.data[0] as number) * chunk.length;
      }
      evalLoss[group] = Number((total / seqs.length).toFixed(4));
    }
  } finally {
    await session.release();
  }
  const result: TrainedLm = { steps: trainer.step, lastLoss: losses.at(-1) ?? NaN, losses, evalLoss, seconds: Number(((performance.now() - t0) / 1000).toFixed(1)) };
  return { result, weights: trained };
}

/** Writes a Hugging Face style folder: config.json, model.safetensors, and the given tokenizer files. */
export function writeModelFolder(dir: string, configJson: object, weights: Record<string, HostTensor>, tokenizerFiles: Record<string, string>, metadata: Record<string, string> = {}): string[] {
  makeDirs(dir);
  writeFileSync(join(dir, 'config.json'), hfConfigJson(configJson));
  writeSafetensors(
    join(dir, 'model.safetensors'),
    Object.entries(weights)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, t]) => ({ name, dtype: 'F32' as const, shape: [...t.dims], data: t.data as Float32Array })),
    { format: 'pt', ...metadata },
  );
  for (const [name, content] of Object.entries(tokenizerFiles)) writeFileSync(join(dir, name), content);
  return ['config.json', 'model.safetensors', ...Object.keys(tokenizerFiles)].map((f) => join(dir, f));
}

// The activation-alignment LoRA fine-tune step (issue 13) on a full-size random Gemma-2-2B (f32,
// the folder bench/forward.ts makes) with random 16k JumpReLU SAEs (the product's sae.makeRandom,
// made once per set of loss layers next to the model folder and reused), against PyTorch + PEFT
// (bench/peer/peft_finetune.py) on the same folder, the same SAE files and the same token ids.
//
// Setting (the issue's): loss layers 5, 10, 15, 20; LoRA rank 16, alpha 32 on all seven linears of
// layers 0..20; the paper's loss with FINETUNE_DEFAULTS (SAE codes, mean over counted tokens,
// direction both, mean over features, α = 1); AdamW with FINETUNE_DEFAULTS.optim (clip 1.0);
// a batch of 8 pairs x 32 tokens (BOS + 31 random ids), i.e. 16 sequences of 32 tokens a step.
//
// Ours runs the product's pieces: buildAlignmentGraph, initialFactors, resolveLayers, decoderFeeds
// and Trainer (backward + AdamW appended, the compute worker, external data, prepacking off), as
// FinetuneRun does. Figures:
// - step time: median of `--steps` Trainer.train calls after one warm-up; tokens/s = 512 / step;
// - forward: the trainer's evaluate(['loss']) (same session; it shows whether onnxruntime skips
//   the backward and AdamW nodes when only `loss` is fetched) AND a forward-only graph
//   (buildAlignmentGraph alone, no backward) in its own session and process: forward+backward over
//   forward uses the latter;
// - peak RSS (getrusage maxRSS of the child process, the worker thread included) over the model's
//   f32 weight bytes;
// - achieved FLOP/s over the GEMM roofline (bench/engine.ts) measured in the same run.
// Each measurement of ours runs in a fresh child process, one after the other, and the peer after
// them (never concurrently: the machine holds one ~10.5 GB model at a time). A child that dies of
// a stack overflow (the full-size training graph, 16,185 nodes, overflows Node's default ~1 MiB
// stack in ProtoWriter.message) is reported as an `engine_bug` line and run again with a larger
// V8 stack, so the other figures still come.
//
// Options (after `npm run bench -- finetune`): --layers 5,10,15,20 (loss layers), --adapt 21
// (layers 0..N-1 adapted), --steps 5 (timed steps), --no-peer. Quick check: --layers 1,2 --adapt 3
// --steps 2 (3 of the 26 layers run). Knobs as bench/forward.ts: BENCH_DIR, BENCH_PYTHON.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createBackend } from '../src/main/backend/backend';
import type { JobContext } from '../src/main/backend/handler';
import { externalDataRoot } from '../src/main/engine/external-root';
import { RuntimeHost } from '../src/main/engine/runtime-host';
import type { HostTensor } from '../src/main/engine/session';
import { Trainer } from '../src/main/engine/trainer';
import { readSafetensorsHeader } from '../src/main/io/safetensors';
import { hookName } from '../src/main/models/forward';
import { decoderFeeds, openModelFolder, type ModelFolder } from '../src/main/models/model';
import { packageRoot } from '../src/main/package-root';
import { loadSae, SAE_LINGUASCOPE_KEY } from '../src/main/sae/sae';
import { buildAlignmentGraph } from '../src/main/train/alignment-loss';
import { FINETUNE_DEFAULTS } from '../src/shared/finetune';
import { initialFactors, resolveLayers } from '../src/main/train/finetune';
import { gemmRoofline } from './engine';
import { ensureModel, modelDir, peerPython, phrases, residentKinds } from './forward';
import { CONTENDED_PCT, cpuSnapshot, emit, machine, othersCpuPct } from './machine';

export const FINETUNE_CHILD = '__finetune-child';

const WIDTH = 16384;
const SAE_SEED = 0;
const PAIRS = 8;
const TOKENS = 32;
const DATA_SEED = 0;

interface Options {
  lossLayers: number[];
  adapt: number;
  steps: number;
  peer: boolean;
}

/** What every measurement (ours and the peer's) reads: one JSON file. */
interface BenchInput {
  model: string;
  saes: string[];
  loss_layers: number[];
  adapt_layers: number[];
  rank: number;
  lora_alpha: number;
  modules: string[];
  alpha: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weight_decay: number;
  clip_norm: number;
  /** English and target phrases (BOS first); BOS is not counted by the loss. */
  en: number[][];
  tgt: number[][];
  bos_id: number;
  steps: number;
}

interface Timing {
  ms: number[];
  median_ms: number;
  others_cpu_pct: number | null;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number | undefined | null) => (bytes === undefined || bytes === null ? undefined : Math.round(bytes / 2 ** 20));

function usage(message: string): never {
  throw new Error(`${message}\nusage: npm run bench -- finetune [--layers 5,10,15,20] [--adapt 21] [--steps 5] [--no-peer]`);
}

export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { lossLayers: [5, 10, 15, 20], adapt: 21, steps: 5, peer: true };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    const int = (s: string, name: string, min: number) => {
      if (!/^\d+$/.test(s) || Number(s) < min) usage(`${name} must be a whole number ≥ ${min}; got ${JSON.stringify(s)}`);
      return Number(s);
    };
    if (flag === '--layers') o.lossLayers = [...new Set(value().split(',').map((s) => int(s.trim(), '--layers', 0)))].sort((a, b) => a - b);
    else if (flag === '--adapt') o.adapt = int(value(), '--adapt', 1);
    else if (flag === '--steps') o.steps = int(value(), '--steps', 1);
    else if (flag === '--no-peer') o.peer = false;
    else usage(`unknown option ${JSON.stringify(flag)}`);
  }
  if (o.lossLayers.length === 0) usage('--layers is empty');
  return o;
}

/** The CPU's matrix features (what decides f32/bf16 GEMM speed), from /proc/cpuinfo. */
function matrixFeatures(): string[] {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return flags.filter((f) => /^(avx512|amx|avx_vnni|avx2$|fma$)/.test(f)).sort();
  } catch {
    return [];
  }
}

function saeDir(layers: readonly number[]): string {
  return join(dirname(modelDir()), `gemma-2-2b-f32-saes-${WIDTH / 1024}k-L${layers.join('-')}`);
}

const saeFile = (dir: string, L: number) => join(dir, `${hookName(L, 'resid_post')}.safetensors`);

/** One file per loss layer, ours (seed, width, JumpReLU, hook), every tensor within its file. */
function completeSaes(dir: string, layers: readonly number[]): string[] | null {
  const files: string[] = [];
  for (const L of layers) {
    const file = saeFile(dir, L);
    if (!existsSync(file)) return null;
    try {
      const h = readSafetensorsHeader(file);
      const cfg = JSON.parse(h.metadata[SAE_LINGUASCOPE_KEY] ?? '{}') as Record<string, unknown>;
      if (cfg.seed !== SAE_SEED || cfg.d_sae !== WIDTH || cfg.architecture !== 'jumprelu' || cfg.hook_name !== hookName(L, 'resid_post')) return null;
      const end = Math.max(...[...h.tensors.values()].map((t) => t.offset + t.byteLength));
      if (statSync(file).size < end) return null;
    } catch {
      return null;
    }
    files.push(file);
  }
  return files;
}

/** V8 stack (KiB) for a measurement's retry after the engine overflowed the default one; under the
 * 8 MiB main-thread stack Linux gives by default (`ulimit -s`). */
const BIG_STACK_KB = 7000;

/** Engine failures found while measuring (see `retry` below), carried into the summary. */
const engineBugs: string[] = [];

function spawnChild(args: string[], nodeFlags: string[]) {
  const child = spawnSync(process.execPath, [...nodeFlags, process.argv[1], FINETUNE_CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  process.stderr.write(child.stderr ?? '');
  return child;
}

/** One measurement in a fresh process. A child that dies of "Maximum call stack size exceeded"
 * (the engine serialising a large training graph) is reported as an engine bug and measured once
 * more with a larger V8 stack, so the remaining figures still come. */
function runChild(args: string[]): Record<string, unknown> {
  let child = spawnChild(args, []);
  if (child.status !== 0 && /Maximum call stack size exceeded/.test(child.stderr ?? '')) {
    const at = /^\s+at .*$/m.exec(child.stderr)?.[0].trim() ?? '';
    const bug = `${args[0]}: RangeError: Maximum call stack size exceeded ${at} with Node's default stack; measured again with --stack-size=${BIG_STACK_KB}`;
    engineBugs.push(bug);
    emit({ bench: 'finetune', step: 'engine_bug', measurement: args[0], error: 'RangeError: Maximum call stack size exceeded', where: (child.stderr.match(/^\s+at .*$/gm) ?? []).slice(0, 4).map((l) => l.trim()), retry: `--stack-size=${BIG_STACK_KB}` });
    child = spawnChild(args, [`--stack-size=${BIG_STACK_KB}`]);
  }
  if (child.status !== 0) {
    throw new Error(`finetune child (${args[0]}) exited with ${child.status ?? child.signal}${child.signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function ensureSaes(folder: ModelFolder, layers: readonly number[]): Promise<{ dir: string; files: string[]; madeS: number | null }> {
  const dir = saeDir(layers);
  const found = completeSaes(dir, layers);
  if (found) return { dir, files: found, madeS: null };
  const need = layers.length * (2 * folder.config.hiddenSize * WIDTH + 3 * WIDTH + folder.config.hiddenSize) * 4;
  const fs = statfsSync(dirname(dir));
  if (fs.bavail * fs.bsize < need * 1.05) throw new Error(`${dirname(dir)}: ${mb(fs.bavail * fs.bsize)} MB free, the SAEs need ${mb(need)} MB`);
  emit({ bench: 'finetune', step: 'make_saes', path: dir, layers, note: `writing ${layers.length} random ${WIDTH}-wide JumpReLU SAEs (${mb(need)} MB, once; reused afterwards)` });
  const t0 = performance.now();
  const made = runChild(['make-saes', folder.path, dir, layers.join(',')]);
  const files = completeSaes(dir, layers);
  if (!files) throw new Error(`${dir}: the SAEs were written but do not check out`);
  emit({ bench: 'finetune', step: 'make_saes', made_s: round((performance.now() - t0) / 1000, 1), l0: made.l0 });
  return { dir, files, madeS: (performance.now() - t0) / 1000 };
}

const ctx = (): JobContext => ({ jobId: 'bench', signal: new AbortController().signal, progress: (s, d, t) => process.stderr.write(`${s} ${d}/${t}\n`), log: () => {} });

async function timed(repeats: number, run: () => Promise<unknown>): Promise<Timing> {
  const ms: number[] = [];
  const before = cpuSnapshot();
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return { ms: ms.map((x) => Math.round(x)), median_ms: median(ms), others_cpu_pct: othersCpuPct(before, cpuSnapshot()) };
}

/** The product's graph and its inputs for the input file's setting (what FinetuneRun builds). */
async function setup(input: BenchInput) {
  const folder = openModelFolder(input.model);
  const saes = await Promise.all(input.saes.map((f) => loadSae(f)));
  const lora = { ...FINETUNE_DEFAULTS.lora, rank: input.rank, alpha: input.lora_alpha, modules: input.modules as typeof FINETUNE_DEFAULTS.lora.modules, adaptLayers: input.adapt_layers, lossLayers: input.loss_layers };
  const layers = resolveLayers(folder.config, saes, lora);
  const root = externalDataRoot([...folder.index.files, ...layers.loss.flatMap((l) => Object.values(l.sae.tensors).filter((t) => t && !t.data).map((t) => t!.file))]);
  const built = buildAlignmentGraph({ config: folder.config, root, index: folder.index, layers: layers.loss, targets: layers.targets, rank: input.rank, scale: layers.scale, settings: { ...FINETUNE_DEFAULTS.loss, alpha: input.alpha } });
  const initial = initialFactors(layers.targets, input.rank, DATA_SEED);
  const P = input.en.length;
  const seqs = [...input.en, ...input.tgt];
  const T = Math.max(...seqs.map((s) => s.length));
  /** The step's batch (FinetuneRun.feeds): decoder inputs, the count mask (BOS not counted), the
   * English and target rows, u_orig and feature weights (features "all": 1) per loss layer. */
  const feeds = (uorig: Float32Array[]): Record<string, HostTensor> => {
    const f = decoderFeeds(folder.config, seqs, built.maskWindows);
    const mask = new Float32Array(seqs.length * T);
    seqs.forEach((p, b) => p.forEach((id, t) => (mask[b * T + t] = t === 0 && id === input.bos_id ? 0 : 1)));
    f.count_mask = { dtype: 'float32', dims: [seqs.length, T], data: mask };
    f.en_rows = { dtype: 'int64', dims: [P], data: BigInt64Array.from({ length: P }, (_, i) => BigInt(i)) };
    f.tgt_rows = { dtype: 'int64', dims: [P], data: BigInt64Array.from({ length: P }, (_, i) => BigInt(P + i)) };
    built.widths.forEach((w, i) => {
      f[`uorig.${i}`] = { dtype: 'float32', dims: [P, w], data: uorig[i] };
      f[`weights.${i}`] = { dtype: 'float32', dims: [P, w], data: new Float32Array(P * w).fill(1) };
    });
    return f;
  };
  /** u_orig from a run's `reduced.i` outputs: the English rows (the first P). */
  const englishRows = (out: Record<string, HostTensor>) => built.widths.map((w, i) => (out[`reduced.${i}`].data as Float32Array).slice(0, P * w));
  const zeros = built.widths.map((w) => new Float32Array(P * w));
  return { folder, layers, root, built, initial, feeds, englishRows, zeros, tokens: seqs.reduce((s, x) => s + x.length, 0) };
}

/** In a fresh process: one measurement of ours; prints one JSON line. */
export async function finetuneChild(mode: string, args: string[]): Promise<void> {
  if (mode === 'make-saes') {
    const [model, out, layers] = args;
    const backend = createBackend({ dbPath: join(dirname(out), 'make-saes-finetune.db') });
    try {
      const made = await backend.handlers['sae.makeRandom']({ model, width: WIDTH, out, layers: layers.split(',').map(Number), architecture: 'jumprelu', seed: SAE_SEED }, ctx());
      console.log(JSON.stringify({ l0: made.l0 }));
    } finally {
      await backend.close();
    }
    return;
  }
  const input = JSON.parse(readFileSync(args[0], 'utf8')) as BenchInput;
  const s = await setup(input);
  const runtime = new RuntimeHost();
  const options = { provider: 'cpu' as const, externalDataFolder: s.root, disablePrepacking: true };
  if (mode === 'train') {
    const optim = { beta1: input.beta1, beta2: input.beta2, eps: input.eps, weightDecay: input.weight_decay, clipNorm: input.clip_norm };
    let t = performance.now();
    const forwardNodes = s.built.graph.nodes.length;
    const trainer = await Trainer.create(s.built.graph, s.built.loss, s.built.params, s.initial, optim, runtime, options).catch((error: Error) => {
      process.stderr.write(`training graph: ${forwardNodes} forward nodes, ${s.built.graph.nodes.length} with backward + AdamW; ${error.message}\n`);
      throw error;
    });
    const loadMs = performance.now() - t;
    const rssAfterLoad = process.memoryUsage().rss;
    // The frozen pass (B = 0) gives u_orig, as FinetuneRun's; it is also the session's first run.
    const zeroB = Object.fromEntries(Object.entries(s.initial).filter(([name]) => name.endsWith('.B')));
    t = performance.now();
    const frozen = await trainer.evaluate(s.feeds(s.zeros), s.built.widths.map((_, i) => `reduced.${i}`), zeroB);
    const frozenMs = performance.now() - t;
    const feeds = s.feeds(s.englishRows(frozen));
    const losses: { loss: number; term1: number; term2: number; grad_norm: number }[] = [];
    const step = async () => {
      const r = await trainer.train(feeds, input.lr);
      losses.push({ loss: r.loss, term1: r.scalars.term1, term2: r.scalars.term2, grad_norm: r.gradNorm });
    };
    t = performance.now();
    await step();
    const warmupMs = performance.now() - t;
    const train = await timed(input.steps, step);
    const maxRssTrain = process.resourceUsage().maxRSS * 1024;
    const kinds = residentKinds();
    // Forward through the training session: does fetching only `loss` skip backward and AdamW?
    const evaluate = await timed(Math.min(3, input.steps), () => trainer.evaluate(feeds, ['loss']));
    await trainer.release();
    await runtime.close();
    const trainable = Object.values(s.initial).reduce((n, t) => n + t.data.length, 0);
    console.log(JSON.stringify({ load_ms: Math.round(loadMs), frozen_ms: Math.round(frozenMs), warmup_ms: Math.round(warmupMs), train, evaluate_loss_only: evaluate, losses, trainable_parameters: trainable, graph_nodes: { forward: forwardNodes, training: s.built.graph.nodes.length }, max_rss_bytes: maxRssTrain, rss_after_load_bytes: rssAfterLoad, ...kinds, tokens: s.tokens }));
    return;
  }
  if (mode === 'forward') {
    // The same graph without backward and AdamW: what the step costs before differentiation.
    s.built.graph.output(s.built.loss, 'loss');
    let t = performance.now();
    const session = await runtime.load(s.built.graph.toModel(), options);
    const loadMs = performance.now() - t;
    const run = (uorig: Float32Array[]) => session.run({ ...s.feeds(uorig), ...s.initial });
    t = performance.now();
    const first = await run(s.zeros); // warm-up; B = 0, so its English rows are u_orig
    const warmupMs = performance.now() - t;
    const feeds = { ...s.feeds(s.englishRows(first)), ...s.initial };
    const forward = await timed(input.steps, () => session.run(feeds));
    const maxRss = process.resourceUsage().maxRSS * 1024;
    const kinds = residentKinds();
    const out = await session.run(feeds, ['loss']);
    await session.release();
    await runtime.close();
    console.log(JSON.stringify({ load_ms: Math.round(loadMs), warmup_ms: Math.round(warmupMs), forward, loss: out.loss.data[0], max_rss_bytes: maxRss, ...kinds }));
    return;
  }
  throw new Error(`finetune child: unknown mode ${mode}`);
}

interface TrainChild {
  load_ms: number;
  frozen_ms: number;
  warmup_ms: number;
  train: Timing;
  evaluate_loss_only: Timing;
  losses: { loss: number; term1: number; term2: number; grad_norm: number }[];
  trainable_parameters: number;
  max_rss_bytes: number;
  rss_after_load_bytes: number;
  rss_anon_bytes?: number;
  rss_file_bytes?: number;
  tokens: number;
}

interface ForwardChild {
  load_ms: number;
  warmup_ms: number;
  forward: Timing;
  loss: number;
  max_rss_bytes: number;
  rss_anon_bytes?: number;
  rss_file_bytes?: number;
}

interface PeerResult {
  torch: string;
  transformers: string;
  peft: string;
  threads: number;
  load_ms: number;
  frozen_ms: number;
  warmup_ms: number;
  train: Timing;
  forward: Timing;
  losses: { loss: number; term1: number; term2: number; grad_norm: number }[];
  trainable_parameters: number;
  max_rss_bytes: number;
}

function runPeer(inputFile: string): { result: PeerResult | null; skipped?: string } {
  const python = peerPython();
  if (!python) return { result: null, skipped: 'no Python with torch and transformers (set BENCH_PYTHON)' };
  const probe = spawnSync(python, ['-c', 'import peft, safetensors'], { encoding: 'utf8' });
  if (probe.status !== 0) return { result: null, skipped: `${python} has no peft/safetensors` };
  const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'peft_finetune.py'), inputFile], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'pipe'] });
  if (peer.status !== 0) return { result: null, skipped: `peer failed (${peer.status ?? peer.signal}): ${peer.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { result: JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as PeerResult };
}

/**
 * FLOPs of one step, matmuls only (norms, softmax, elementwise, AdamW left out):
 *   forward over N = B·T tokens through layers 0..D (D = the deepest loss layer):
 *     F = N·(2·(D+1)·(d·Dh·(2Hq + 2Hkv) + 3·d·ff) + (D+1)·4·T·Dh·Hq) + N·S·2·d·w (S SAE encoders)
 *   backward: dX through every frozen matmul and attention ≈ F (no weight gradients), plus the
 *     LoRA factors' forward and backward, ≈ 6·N·r·Σ(in + out) over the adapted linears at or
 *     below D (three small matmuls per factor pair, twice as many backward).
 * step ≈ 2F + 6·N·r·Σ(in + out); forward-only ≈ F + 2·N·r·Σ(in + out).
 */
export const STEP_FLOP_FORMULA = 'forward F = N*(2*(D+1)*(d*Dh*(2Hq+2Hkv)+3*d*ff) + (D+1)*4*T*Dh*Hq) + N*S*2*d*w; step = 2F + 6*N*r*sum(in+out) over adapted linears <= D; forward = F + 2*N*r*sum(in+out); N = 2P*T';

function stepFlops(folder: ModelFolder, input: BenchInput): { step: number; forward: number } {
  const c = folder.config;
  const N = (input.en.length + input.tgt.length) * TOKENS;
  const depth = Math.max(...input.loss_layers) + 1;
  const layerMatmul = c.hiddenSize * c.headDim * (2 * c.numHeads + 2 * c.numKvHeads) + 3 * c.hiddenSize * c.intermediateSize;
  const F = N * (2 * depth * layerMatmul + depth * 4 * TOKENS * c.headDim * c.numHeads) + N * input.loss_layers.length * 2 * c.hiddenSize * WIDTH;
  const d = c.hiddenSize;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const inOut: Record<string, number> = { q_proj: d + q, k_proj: d + kv, v_proj: d + kv, o_proj: q + d, gate_proj: d + c.intermediateSize, up_proj: d + c.intermediateSize, down_proj: c.intermediateSize + d };
  const loraPerLayer = input.modules.reduce((s, m) => s + inOut[m], 0) * input.rank;
  const adapted = input.adapt_layers.filter((l) => l < depth).length;
  return { step: 2 * F + 6 * N * loraPerLayer * adapted, forward: F + 2 * N * loraPerLayer * adapted };
}

export async function benchFinetune(): Promise<Record<string, unknown>> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(3));
  const m = machine();
  const features = matrixFeatures();
  emit({ bench: 'finetune', machine: m, matrix_features: features, options: o });
  const { folder, madeS } = await ensureModel();
  const c = folder.config;
  const bad = o.lossLayers.find((l) => l >= c.numLayers);
  if (bad !== undefined) usage(`--layers ${bad}: the model has layers 0..${c.numLayers - 1}`);
  if (o.adapt > c.numLayers) usage(`--adapt ${o.adapt}: the model has ${c.numLayers} layers`);
  const saes = await ensureSaes(folder, o.lossLayers);
  const weightBytes = folder.info.weightBytes;
  const saeBytes = saes.files.reduce((s, f) => s + statSync(f).size, 0);
  // Weights a step can touch: the embedding (gathered rows) and layers 0..D, plus the SAE files.
  const depth = Math.max(...o.lossLayers) + 1;
  const usedBytes = [...folder.index.tensors.entries()].filter(([name]) => {
    const L = /^model\.layers\.(\d+)\./.exec(name)?.[1];
    return L === undefined ? name === 'model.embed_tokens.weight' : Number(L) < depth;
  }).reduce((s, [, t]) => s + t.byteLength, 0);
  emit({ bench: 'finetune', step: 'inputs', model: folder.path, made_s: madeS && round(madeS, 1), sae_dir: saes.dir, sae_made_s: saes.madeS && round(saes.madeS, 1), weight_mb: mb(weightBytes), layers_0_to_D_and_embedding_mb: mb(usedBytes), sae_mb: mb(saeBytes) });

  const bos = c.bosTokenId ?? 2;
  const withBos = (ps: number[][]) => ps.map((p) => [bos, ...p]);
  const d = FINETUNE_DEFAULTS;
  const input: BenchInput = {
    model: folder.path,
    saes: saes.files,
    loss_layers: o.lossLayers,
    adapt_layers: Array.from({ length: o.adapt }, (_, i) => i),
    rank: d.lora.rank,
    lora_alpha: d.lora.alpha,
    modules: [...d.lora.modules],
    alpha: d.loss.alpha,
    lr: d.optim.lr,
    beta1: d.optim.beta1,
    beta2: d.optim.beta2,
    eps: d.optim.eps,
    weight_decay: d.optim.weightDecay,
    clip_norm: d.optim.clipNorm,
    en: withBos(phrases(PAIRS, TOKENS - 1, c.vocabSize, 2000)),
    tgt: withBos(phrases(PAIRS, TOKENS - 1, c.vocabSize, 3000)),
    bos_id: bos,
    steps: o.steps,
  };
  const inputDir = join(dirname(modelDir()), 'finetune-bench');
  mkdirSync(inputDir, { recursive: true });
  const inputFile = join(inputDir, 'input.json');
  writeFileSync(inputFile, JSON.stringify(input));
  const flops = stepFlops(folder, input);
  const tokens = (input.en.length + input.tgt.length) * TOKENS;

  const roofline = async () => {
    const before = cpuSnapshot();
    const r = await gemmRoofline('finetune');
    return { ...r, others: othersCpuPct(before, cpuSnapshot()) };
  };
  const gemmBefore = await roofline();

  const train = runChild(['train', inputFile]) as unknown as TrainChild;
  emit({ bench: 'finetune', step: 'ours_train', ...train, losses: undefined, first_loss: train.losses[0], last_loss: train.losses.at(-1) });
  const forward = runChild(['forward', inputFile]) as unknown as ForwardChild;
  emit({ bench: 'finetune', step: 'ours_forward', ...forward });
  const gemmAfter = await roofline();
  const gemm = gemmAfter.gflops > gemmBefore.gflops ? gemmAfter : gemmBefore;

  const stepS = train.train.median_ms / 1000;
  const fwdS = forward.forward.median_ms / 1000;
  const evalS = train.evaluate_loss_only.median_ms / 1000;
  // evaluate(['loss']) nearer the forward-only graph's time than the step's: onnxruntime ran only
  // what `loss` needs; nearer the step's: it ran the backward and AdamW nodes too.
  const evaluatePrunes = Math.abs(evalS - fwdS) < Math.abs(evalS - stepS);

  const peer = o.peer ? runPeer(inputFile) : { result: null, skipped: '--no-peer' };
  const p = peer.result;
  if (p) emit({ bench: 'finetune', step: 'peer', ...p, losses: undefined, first_loss: p.losses[0], last_loss: p.losses.at(-1) });
  else emit({ bench: 'finetune', step: 'peer', skipped: peer.skipped });

  const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
  const others = [gemm.others, train.train.others_cpu_pct, forward.forward.others_cpu_pct, p?.train.others_cpu_pct, p?.forward.others_cpu_pct].map((x) => x ?? 0);
  const worst = Math.max(...others);
  return {
    machine: m.cpu,
    matrix_features: features.join(' '),
    cores: m.cores,
    memory_gib: m.memory_gib,
    model: `random Gemma-2-2B, f32 (${c.numLayers} layers; layers 0..${depth - 1} run)`,
    setting: `${PAIRS} pairs x ${TOKENS} tokens (${tokens} tokens a step); loss layers ${o.lossLayers.join(',')} (${WIDTH}-wide JumpReLU SAEs); LoRA r ${input.rank} alpha ${input.lora_alpha} on ${input.modules.length} linears of layers 0..${o.adapt - 1}; AdamW, clip ${input.clip_norm}`,
    flops_formula: STEP_FLOP_FORMULA,
    gemm_gflops: round(gemm.gflops, 1),
    step_ms: Math.round(train.train.median_ms),
    step_ms_all: train.train.ms,
    tokens_per_s: round(tokens / stepS, 2),
    step_gflops: round(flops.step / (stepS * 1e9), 1),
    step_roofline_ratio: round(flops.step / (stepS * 1e9) / gemm.gflops, 3),
    forward_ms: Math.round(forward.forward.median_ms),
    forward_gflops: round(flops.forward / (fwdS * 1e9), 1),
    forward_backward_over_forward: round(stepS / fwdS, 3),
    evaluate_loss_only_ms: Math.round(train.evaluate_loss_only.median_ms),
    evaluate_loss_only_over_forward: round(evalS / fwdS, 3),
    evaluate_loss_only_over_step: round(evalS / stepS, 3),
    evaluate_loss_only_skips_backward: evaluatePrunes,
    forward_measured_by: 'a forward-only graph (buildAlignmentGraph, no backward/AdamW) in its own session',
    peak_rss_mb: mb(train.max_rss_bytes),
    peak_rss_over_weights: round(train.max_rss_bytes / weightBytes, 3),
    peak_rss_over_touched_weights_and_saes: round(train.max_rss_bytes / (usedBytes + saeBytes), 3),
    rss_anon_mb_after_steps: mb(train.rss_anon_bytes),
    rss_file_mb_after_steps: mb(train.rss_file_bytes),
    forward_peak_rss_mb: mb(forward.max_rss_bytes),
    forward_rss_anon_mb: mb(forward.rss_anon_bytes),
    load_ms: train.load_ms,
    first_step_ms: train.warmup_ms,
    frozen_pass_ms: train.frozen_ms,
    trainable_parameters: train.trainable_parameters,
    first_loss: train.losses[0]?.loss,
    peer: p ? `torch ${p.torch}, transformers ${p.transformers}, peft ${p.peft}, float32, eager, ${p.threads} threads` : null,
    peer_step_ms: p && Math.round(p.train.median_ms),
    peer_tokens_per_s: p && round(tokens / (p.train.median_ms / 1000), 2),
    peer_forward_ms: p && Math.round(p.forward.median_ms),
    peer_forward_backward_over_forward: p && round(p.train.median_ms / p.forward.median_ms, 3),
    peer_peak_rss_mb: p && mb(p.max_rss_bytes),
    peer_peak_rss_over_weights: p && round(p.max_rss_bytes / weightBytes, 3),
    peer_trainable_parameters: p?.trainable_parameters,
    peer_first_loss: p?.losses[0]?.loss,
    // Step 1 has B = 0 on both sides, so its loss is the frozen model's term1: the same number.
    first_loss_rel_diff: p && train.losses[0] ? Number(relDiff(train.losses[0].loss, p.losses[0].loss).toPrecision(3)) : null,
    speedup_vs_peer: p && round(p.train.median_ms / train.train.median_ms, 3),
    ...(peer.skipped ? { peer_skipped: peer.skipped } : {}),
    ...(engineBugs.length ? { engine_bugs: engineBugs } : {}),
    // Other processes' share of the cores during each timed block (gemm, ours step, ours forward,
    // peer step, peer forward).
    others_cpu_pct: others,
    others_cpu_pct_max: worst,
    ...(worst > CONTENDED_PCT ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
    bench_s: Math.round((performance.now() - started) / 1000),
    targets: { forward_backward_over_forward: '<= 3', tokens_per_s: '>= peer', peak_rss_over_weights: '<= 1.5' },
    met: {
      forward_backward_over_forward: stepS / fwdS <= 3,
      tokens_per_s: p ? train.train.median_ms <= p.train.median_ms : null,
      peak_rss_over_weights: train.max_rss_bytes / weightBytes <= 1.5,
    },
  };
}

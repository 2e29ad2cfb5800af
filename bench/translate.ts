// Translation throughput (issue 15): sentences per second of our Marian engine (models/marian:
// MarianModel.load with the sessions in the RuntimeHost worker, as translate.run loads them, and
// generate() in batches of 8 sorted by source length, as translate.run cuts them) against HF
// transformers' MarianMTModel.generate() (bench/peer/translate_hf.py, float32, torch threads = the
// cores) on the same folder, the same token ids and the same CPU, one after the other in one run.
//
// The model: a full-size random opus-mt (the architecture of Helsinki-NLP/opus-mt-en-hi: d_model
// 512, 6+6 layers, 8 heads, ffn 2048, 58101-token vocabulary, max_position 512; the opus-mt
// generation_config: 4 beams, max_length 512, pad banned, forced EOS, renormalised), made once by
// bench/peer/make_translate_model.py under <tmpdir>/linguascope-bench or $BENCH_DIR. Random weights
// make the output length arbitrary, so the folder's final_logits_bias pushes EOS to −1e4 and both
// sides decode exactly --new-tokens tokens (max_new_tokens; the last is the forced EOS).
// Sources: --sentences random id sequences of 20-40 tokens (</s> last), no tokenizer: SentencePiece
// is not what is timed (a real sentence encodes in well under a millisecond).
//
// Per mode (greedy, beam 4): one warm-up batch, then every batch once. Our time is split by the
// runner calls: encoder runs, decoder-step runs (each the round trip to the worker: feeds copied
// in, onnxruntime, top-K outputs and the grown key/value cache copied out), and the rest (host-side
// beam bookkeeping). Both sides' token ids are compared sentence by sentence.
//
// Roofline: a decoder step for R rows reads every decoder weight once (self-attention 4d², the
// cross-attention's q and o 2d² — its k/v are the encoder's, computed once — the FFN 2·d·ffn, per
// layer) and the tied output layer V·d, so it cannot take less than those bytes / memory bandwidth
// (measured here: a 256 MiB Float32Array copy, one thread) while the rows are few; its FLOPs are
// 2·R·(those parameters).
//
// Options (after `npm run bench -- translate`): --sentences 32, --batch 8, --new-tokens 32,
// --no-peer, --sessions worker|thread (thread: EngineSession in the bench's thread, to see what
// the worker's copies cost). Knobs: BENCH_DIR, BENCH_PYTHON (as bench/forward.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { RuntimeHost } from '../src/main/engine/runtime-host';
import { EngineSession } from '../src/main/engine/session';
import { readFolderWeights } from '../src/main/io/torch-bin';
import { readMarianConfig, type MarianConfig, type MarianGeneration } from '../src/main/models/marian/config';
import { generate } from '../src/main/models/marian/generate';
import { MarianModel, type MarianRunner } from '../src/main/models/marian/model';
import { checkMarianWeights } from '../src/main/models/marian/weights';
import { packageRoot } from '../src/main/package-root';
import { modelDir, peerPython } from './forward';
import { cpuSnapshot, emit, machine, othersCpuPct } from './machine';

const SEED = 15; // bench/peer/make_translate_model.py's
const DATA_SEED = 15;
const MODES = [
  { name: 'greedy', num_beams: 1 },
  { name: 'beam4', num_beams: 4 },
] as const;

interface Options {
  sentences: number;
  batch: number;
  newTokens: number;
  peer: boolean;
  /** Where our sessions run: the RuntimeHost worker (the product's translate.run) or this thread. */
  sessions: 'worker' | 'thread';
}

function usage(message: string): never {
  throw new Error(`${message}\nusage: npm run bench -- translate [--sentences 32] [--batch 8] [--new-tokens 32] [--no-peer] [--sessions worker|thread]`);
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { sentences: 32, batch: 8, newTokens: 32, peer: true, sessions: 'worker' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => argv[++i] ?? usage(`${flag} needs a value`);
    const int = (s: string, name: string, min: number, max: number) => {
      if (!/^\d+$/.test(s) || Number(s) < min || Number(s) > max) usage(`${name} must be a whole number from ${min} to ${max}; got ${JSON.stringify(s)}`);
      return Number(s);
    };
    if (flag === '--sentences') o.sentences = int(value(), '--sentences', 1, 100_000);
    else if (flag === '--batch') o.batch = int(value(), '--batch', 1, 1024);
    else if (flag === '--new-tokens') o.newTokens = int(value(), '--new-tokens', 1, 510);
    else if (flag === '--no-peer') o.peer = false;
    else if (flag === '--sessions') {
      const v = value();
      if (v !== 'worker' && v !== 'thread') usage(`--sessions must be worker or thread; got ${JSON.stringify(v)}`);
      o.sessions = v;
    } else usage(`unknown option ${JSON.stringify(flag)}`);
  }
  return o;
}

function translateModelDir(): string {
  return join(dirname(modelDir()), 'opus-mt-en-hi-random');
}

/** The folder, made by the Python script when missing (it needs torch and transformers). */
function ensureModel(): { dir: string; madeS: number | null } {
  const dir = translateModelDir();
  const config = join(dir, 'config.json');
  if (existsSync(config) && existsSync(join(dir, 'model.safetensors'))) {
    const raw = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
    if (raw.linguascope_bench_seed === SEED && raw.d_model === 512) return { dir, madeS: null };
    throw new Error(`${dir} exists but is not the bench's random opus-mt (seed ${SEED}); remove it or set BENCH_DIR`);
  }
  const python = peerPython();
  if (!python) throw new Error(`${dir} is missing and making it needs a Python with torch and transformers (set BENCH_PYTHON)`);
  const t0 = performance.now();
  const made = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'make_translate_model.py'), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (made.status !== 0) throw new Error(`make_translate_model.py exited with ${made.status ?? made.signal}`);
  return { dir, madeS: (performance.now() - t0) / 1000 };
}

function lcg(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 4294967296) * n);
  };
}

/** Sources of 20-40 tokens, ids from 1 to V − 2 (neither EOS 0 nor pad V − 1), EOS last as the
 * tokenizer appends it; then batches of the product's cut: sorted by length, `batch` at a time. */
function makeBatches(c: MarianConfig, o: Options): number[][][] {
  const pick = lcg(DATA_SEED);
  const sources = Array.from({ length: o.sentences }, () => {
    const n = 20 + pick(21);
    const ids = Array.from({ length: n - 1 }, () => 1 + pick(c.vocabSize - 2));
    return [...ids, c.eosTokenId];
  });
  const order = sources.map((_, i) => i).sort((a, b) => sources[a].length - sources[b].length || a - b);
  const batches: number[][][] = [];
  for (let i = 0; i < order.length; i += o.batch) batches.push(order.slice(i, i + o.batch).map((j) => sources[j]));
  return batches;
}

/** Wall time spent inside one runner's run() calls (the round trip to the worker included). */
class Timed implements MarianRunner {
  ms = 0;
  calls = 0;
  constructor(private readonly inner: MarianRunner) {}
  async run(...args: Parameters<MarianRunner['run']>) {
    const t0 = performance.now();
    try {
      return await this.inner.run(...args);
    } finally {
      this.ms += performance.now() - t0;
      this.calls++;
    }
  }
  release() {
    return this.inner.release();
  }
}

interface OursMode {
  ms: number;
  cpu_s: number;
  others_cpu_pct: number | null;
  warmup_ms: number;
  encoder_ms: number;
  encoder_runs: number;
  decoder_ms: number;
  decoder_steps: number;
  host_ms: number;
  sentences: number;
  new_tokens: number;
  sequences: number[][];
}

async function runOurs(dir: string, batches: number[][][], settingsFor: (beams: number) => MarianGeneration, where: Options['sessions']): Promise<{ load_ms: number; modes: Record<string, OursMode> }> {
  const { config } = readMarianConfig(dir);
  const weights = checkMarianWeights(config, await readFolderWeights(dir), dir);
  const runtime = new RuntimeHost();
  const runners: Timed[] = [];
  try {
    const t0 = performance.now();
    // The product's loader (translate-service.ts): sessions in the RuntimeHost worker, default
    // options; or EngineSession in this thread (no copies of the feeds to a worker).
    const model = await MarianModel.load(config, weights, {}, async (m, opts) => {
      const r = new Timed(where === 'worker' ? await runtime.load(m, opts) : await EngineSession.create(m, opts));
      runners.push(r);
      return r;
    });
    const loadMs = performance.now() - t0;
    const [encoder, decoder] = runners;
    const modes: Record<string, OursMode> = {};
    try {
      for (const mode of MODES) {
        const settings = settingsFor(mode.num_beams);
        const w0 = performance.now();
        await generate(model, batches[0], settings);
        const warmupMs = performance.now() - w0;
        const [e0, e1, d0, d1] = [encoder.ms, encoder.calls, decoder.ms, decoder.calls];
        const before = cpuSnapshot();
        const c0 = process.cpuUsage();
        const t1 = performance.now();
        const sequences: number[][] = [];
        for (const batch of batches) sequences.push(...(await generate(model, batch, settings)).sequences);
        const ms = performance.now() - t1;
        const cpu = process.cpuUsage(c0);
        const encoderMs = encoder.ms - e0;
        const decoderMs = decoder.ms - d0;
        modes[mode.name] = {
          ms,
          cpu_s: (cpu.user + cpu.system) / 1e6,
          others_cpu_pct: othersCpuPct(before, cpuSnapshot()),
          warmup_ms: warmupMs,
          encoder_ms: encoderMs,
          encoder_runs: encoder.calls - e1,
          decoder_ms: decoderMs,
          decoder_steps: decoder.calls - d1,
          host_ms: ms - encoderMs - decoderMs,
          sentences: sequences.length,
          new_tokens: sequences.reduce((s, q) => s + q.slice(1).filter((t) => t !== config.padTokenId).length, 0),
          sequences,
        };
        emit({ bench: 'translate', step: 'ours', mode: mode.name, ms: Math.round(ms) });
      }
    } finally {
      await model.release();
    }
    return { load_ms: loadMs, modes };
  } finally {
    await runtime.close();
  }
}

interface PeerResult {
  torch: string;
  transformers: string;
  threads: number;
  attn_implementation: string;
  load_ms: number;
  modes: Record<string, { ms: number; cpu_s: number; others_cpu_pct: number | null; warmup_ms: number; sentences: number; new_tokens: number; sequences: number[][] }>;
  max_rss_bytes: number;
}

/** One peer process. OMP_WAIT_POLICY=PASSIVE: torch's OpenMP threads sleep at barriers instead of
 * spinning, as our sessions' threads do (allow_spinning 0); on a shared machine spinning threads
 * slowed the 2-thread peer about 10x (12 s instead of 1.2 s for one 8-token batch). */
function runPeer(input: Record<string, unknown>, dir: string, threads: number): { result: PeerResult | null; skipped?: string } {
  const python = peerPython();
  if (!python) return { result: null, skipped: 'no Python with torch and transformers (set BENCH_PYTHON)' };
  const file = join(dir, `peer-input-${threads}.json`);
  writeFileSync(file, JSON.stringify({ ...input, threads }));
  const env = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'translate_hf.py'), file], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'], env });
  if (peer.status !== 0) return { result: null, skipped: `peer failed (${peer.status ?? peer.signal}): ${peer.stderr.trim().split('\n').slice(-3).join(' | ')}` };
  return { result: JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as PeerResult };
}

/** Single-thread copy bandwidth (bytes read + written per second) of a 256 MiB Float32Array, best of 3. */
function copyBandwidth(): number {
  const n = 64 * 2 ** 20;
  const src = new Float32Array(n).fill(1);
  const dst = new Float32Array(n);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    dst.set(src);
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * n * 4) / (best / 1000);
}

/** The CPU's matrix features, from /proc/cpuinfo (as bench/eval.ts reports them). */
function matrixFeatures(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return flags.filter((f) => /^(avx512|amx|avx_vnni|avx2$|fma$)/.test(f)).sort().join(' ');
  } catch {
    return '';
  }
}

/** Parameters a decoder step reads (file comment): decoder layers without the cross k/v, and the tied output layer. */
function stepParameters(c: MarianConfig): number {
  const d = c.dModel;
  const perLayer = 4 * d * d + 4 * d + 2 * d * d + 2 * d + 2 * d * c.decoderFfnDim + c.decoderFfnDim + d + 3 * 2 * d;
  return c.decoderLayers * perLayer + c.vocabSize * d + c.vocabSize;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export async function benchTranslate(): Promise<Record<string, unknown>> {
  const started = performance.now();
  const o = parseOptions(process.argv.slice(3));
  const threads = cpus().length;
  emit({ bench: 'translate', machine: machine(), matrix_features: matrixFeatures(), options: o });
  const { dir, madeS } = ensureModel();
  const { config, generation } = readMarianConfig(dir);
  const batches = makeBatches(config, o);
  const lengths = batches.flat().map((s) => s.length);
  emit({ bench: 'translate', step: 'inputs', model: dir, made_s: madeS && round(madeS, 1), sentences: o.sentences, batches: batches.length, source_tokens_mean: round(lengths.reduce((a, b) => a + b, 0) / lengths.length, 1) });
  const settingsFor = (beams: number): MarianGeneration => ({ ...generation, numBeams: beams, maxNewTokens: o.newTokens });

  const ours = await runOurs(dir, batches, settingsFor, o.sessions);
  // The peer with torch threads = our cores, and with one thread (faster than two on a shared
  // machine); the ratio is against the faster of the two.
  const peerThreads = [...new Set([threads, 1])];
  const peers = new Map<number, PeerResult>();
  for (const t of o.peer ? peerThreads : []) {
    const peer = runPeer({ model: dir, batches, max_new_tokens: o.newTokens, modes: MODES, check: o.sentences }, dirname(dir), t);
    if (peer.result) {
      peers.set(t, peer.result);
      emit({ bench: 'translate', step: 'peer', threads: t, ms: Object.fromEntries(Object.entries(peer.result.modes).map(([k, v]) => [k, Math.round(v.ms)])) });
    } else emit({ bench: 'translate', step: 'peer', threads: t, skipped: peer.skipped });
  }
  if (!o.peer) emit({ bench: 'translate', step: 'peer', skipped: '--no-peer' });
  const p = peers.get(threads) ?? [...peers.values()][0];

  const bandwidth = copyBandwidth();
  const stepBytes = stepParameters(config) * 4;
  const results: Record<string, unknown> = {};
  for (const mode of MODES) {
    const a = ours.modes[mode.name];
    const runs = [...peers.entries()].map(([t, r]) => ({ threads: t, run: r.modes[mode.name] }));
    const b = runs.length ? runs.reduce((x, y) => (y.run.ms < x.run.ms ? y : x)).run : undefined;
    // Sentences whose ids equal every peer run's (the peers are one model at two thread counts).
    const same = b ? a.sequences.filter((s, i) => runs.every(({ run }) => JSON.stringify(s) === JSON.stringify(run.sequences[i]))).length : null;
    const peerFigures = (r: PeerResult['modes'][string]) => ({
      sentences_per_s: round(r.sentences / (r.ms / 1000), 3),
      tokens_per_s: round(r.new_tokens / (r.ms / 1000), 1),
      ms: Math.round(r.ms),
      cpu_s: round(r.cpu_s, 1),
      others_cpu_pct: r.others_cpu_pct,
      warmup_ms: Math.round(r.warmup_ms),
      new_tokens: r.new_tokens,
      ours_speedup: round(r.ms / a.ms, 3),
    });
    const rows = mode.num_beams * o.batch;
    results[mode.name] = {
      ours: {
        sentences_per_s: round(a.sentences / (a.ms / 1000), 3),
        tokens_per_s: round(a.new_tokens / (a.ms / 1000), 1),
        ms: Math.round(a.ms),
        cpu_s: round(a.cpu_s, 1),
        others_cpu_pct: a.others_cpu_pct,
        warmup_ms: Math.round(a.warmup_ms),
        new_tokens: a.new_tokens,
        encoder_ms: Math.round(a.encoder_ms),
        decoder_ms: Math.round(a.decoder_ms),
        host_ms: Math.round(a.host_ms),
        decoder_steps: a.decoder_steps,
        decoder_ms_per_step: round(a.decoder_ms / a.decoder_steps, 2),
        host_ms_per_step: round(a.host_ms / a.decoder_steps, 2),
      },
      peer: Object.fromEntries(runs.map(({ threads: t, run }) => [`threads_${t}`, peerFigures(run)])),
      // Against the faster peer configuration.
      speedup_vs_peer: b ? round(b.ms / a.ms, 3) : null,
      identical_sequences_vs_peer: same === null ? null : `${same}/${a.sentences}`,
      // Floor of a decoder step at the measured copy bandwidth, and the share of our step time it is.
      roofline_step_ms: round((stepBytes / bandwidth) * 1000, 2),
      ours_step_share_of_roofline: round((stepBytes / bandwidth) * 1000 / (a.decoder_ms / a.decoder_steps), 3),
      step_gflop: round((2 * rows * stepParameters(config)) / 1e9, 2),
    };
  }
  const summary = {
    model: dir,
    config: { d_model: config.dModel, layers: `${config.encoderLayers}+${config.decoderLayers}`, heads: config.decoderHeads, ffn: config.decoderFfnDim, vocab: config.vocabSize },
    sentences: o.sentences,
    batch: o.batch,
    new_tokens_per_sentence: o.newTokens,
    threads: { ours: `onnxruntime intra-op default (${threads} cores, no spinning), sessions ${o.sessions === 'worker' ? 'in the RuntimeHost worker' : 'in-thread (EngineSession)'}`, peer: [...peers.values()].map((r) => r.threads), peer_omp_wait_policy: 'PASSIVE' },
    peer_versions: p ? { torch: p.torch, transformers: p.transformers, attn_implementation: p.attn_implementation } : null,
    load_ms: { ours: Math.round(ours.load_ms), peer: p ? Math.round(p.load_ms) : null },
    peer_max_rss_mb: p ? Math.round(p.max_rss_bytes / 2 ** 20) : null,
    step_weight_mb: round(stepBytes / 2 ** 20, 1),
    roofline_note: 'a decoder step reads the decoder weights (without the cross k/v projections) and the tied output layer once, whatever the rows; floor = those bytes / the one-thread copy bandwidth',
    copy_bandwidth_gb_s: round(bandwidth / 1e9, 1),
    ...results,
    machine: machine(),
    matrix_features: matrixFeatures(),
    wall_s: round((performance.now() - started) / 1000, 1),
  };
  return summary;
}

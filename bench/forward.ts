// Forward throughput of a full-size Gemma-2-2B (random f32 weights, all 26 resid_post hooks, no
// logits) through the product's path: LoadedModel.load (external-data weights, prepacking off,
// the compute worker) and LoadedModel.run. Shapes: 8 phrases x 32 tokens and 1 x 128. Figures:
// tokens/s, peak resident memory over the f32 weight bytes, achieved FLOP/s over the engine's
// GEMM roofline measured in the same run, and HF transformers (bench/peer/hf_forward.py) on the
// same folder, same shapes and same warm-up/median scheme, run after our model is released.
//
// Our runs happen in a fresh child process so that its peak RSS (getrusage maxRSS, which covers
// the compute worker thread) is the model's alone, not the folder generation's or the roofline's.
// BENCH_FORWARD_PREPACKED=1 adds a second child that loads the same graph with prepacking on
// (what LoadedModel.load turns off for zero-copy loads), to weigh its speed against its memory.
// The fast precision (issue 17: q/k/v/gate/up as int8, engine/quantize.ts, what `precision:
// 'fast'` runs) is a third child, and the peer runs twice: float32 and bfloat16 (torch's bf16
// GEMM, oneDNN, uses AVX512-BF16 / AMX where the CPU has them; the summary names the CPU and its
// matrix features). Options after the name: --repeats N (timed runs per shape, default 5),
// --no-fast, --no-peer, --no-bf16 (the float32 peer only).
//
// The model folder is $BENCH_DIR/gemma-2-2b-f32 (default: <tmpdir>/linguascope-bench/...), made
// once (~10.5 GB, under a minute) and reused. The peer needs a Python with torch and transformers:
// $BENCH_PYTHON, else ~/.venvs/ref/bin/python; without one it is skipped and the summary says so.
// Every timed block records how much of the cores other processes took meanwhile
// (others_cpu_pct, from /proc/stat); above 5 % the summary carries a warning.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuntimeHost } from '../src/main/engine/runtime-host';
import { parameterCount } from '../src/main/models/config';
import { buildForwardGraph, hookName } from '../src/main/models/forward';
import { LoadedModel, openModelFolder, type ModelFolder } from '../src/main/models/model';
import { makeRandomModel } from '../src/main/models/random-model';
import { packageRoot } from '../src/main/package-root';
import { gemmRoofline } from './engine';
import { cpuSnapshot, emit, machine, matrixFeatures, othersCpuPct } from './machine';

export const FORWARD_CHILD = '__forward-child';

const SHAPES = [
  { name: '8x32', batch: 8, seq: 32 },
  { name: '1x128', batch: 1, seq: 128 },
] as const;
type ShapeName = (typeof SHAPES)[number]['name'];
/** Timed runs per shape after one warm-up (default; --repeats): the median is reported. */
const REPEATS = 5;
const SEED = 0;
/** Above this share of the cores taken by other processes during timed runs, the summary warns. */
const CONTENDED_PCT = 5;

export function modelDir(): string {
  return join(process.env.BENCH_DIR ?? join(tmpdir(), 'linguascope-bench'), 'gemma-2-2b-f32');
}

/** The folder is ours and whole: our preset and seed in f32, every tensor there with its shape
 * (openModelFolder checks) and every shard long enough for the tensors its header lists. */
function completeModel(dir: string): ModelFolder | null {
  if (!existsSync(join(dir, 'config.json'))) return null;
  try {
    const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    if (raw.linguascope_random_seed !== SEED || raw.torch_dtype !== 'float32' || raw.hidden_size !== 2304 || raw.num_hidden_layers !== 26) return null;
    const folder = openModelFolder(dir);
    for (const t of folder.index.tensors.values()) {
      if (t.dtype !== 'F32' || statSync(t.file).size < t.offset + t.byteLength) return null;
    }
    return folder;
  } catch {
    return null;
  }
}

export async function ensureModel(): Promise<{ folder: ModelFolder; madeS: number | null }> {
  const dir = modelDir();
  const found = completeModel(dir);
  if (found) return { folder: found, madeS: null };
  if (existsSync(dir)) {
    throw new Error(`${dir} exists but is not a complete random Gemma-2-2B f32 folder (seed ${SEED}); remove it or set BENCH_DIR`);
  }
  emit({ bench: 'forward', step: 'make_model', path: dir, note: 'writing ~10.5 GB of random f32 weights (once; reused afterwards)' });
  const t0 = performance.now();
  await makeRandomModel({ arch: 'gemma2', preset: 'gemma-2-2b', dtype: 'f32', out: dir, seed: SEED });
  const folder = completeModel(dir);
  if (!folder) throw new Error(`${dir}: the random model was written but does not check out`);
  return { folder, madeS: (performance.now() - t0) / 1000 };
}

/** Deterministic token ids in [3, vocab) (0, 1, 2 are pad, eos, bos). */
export function phrases(batch: number, seq: number, vocab: number, seed: number): number[][] {
  let s = seed >>> 0;
  return Array.from({ length: batch }, () =>
    Array.from({ length: seq }, () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return 3 + Math.floor((s / 4294967296) * (vocab - 3));
    }),
  );
}

/**
 * FLOPs of one forward over B x T tokens, no logits:
 *   per token, 2 x (matmul parameters: per layer q, k, v, o and gate, up, down
 *                   = d * Dh * (2 Hq + 2 Hkv) + 3 d ff; the embedding gather is not counted)
 *            + per layer, attention 4 x T x Dh x Hq (q·k scores and scores·v over all T keys,
 *              as both engines compute the full T x T product before masking).
 * flops = B T (2 P_matmul + L 4 T Dh Hq). Norms, rotary, softmax and residuals are left out.
 */
export const FLOP_FORMULA = 'B*T*(2*L*(d*Dh*(2*Hq+2*Hkv) + 3*d*ff) + L*4*T*Dh*Hq); embedding gather, norms, softmax not counted';

export function forwardFlops(f: ModelFolder, batch: number, seq: number): number {
  const c = f.config;
  const matmulParams = c.numLayers * (c.hiddenSize * c.headDim * (2 * c.numHeads + 2 * c.numKvHeads) + 3 * c.hiddenSize * c.intermediateSize);
  const attention = c.numLayers * 4 * seq * c.headDim * c.numHeads;
  return batch * seq * (2 * matmulParams + attention);
}

interface ShapeTiming {
  ms: number[];
  median_ms: number;
  warmup_ms: number;
  /** Percent of the machine's cores other processes kept busy during the timed runs (Linux);
   * the figures are only as good as this is low. */
  others_cpu_pct?: number | null;
}

type ChildMode = 'mapped' | 'prepacked' | 'fast';

interface ChildResult {
  mode: ChildMode;
  load_ms: number;
  shapes: Record<ShapeName, ShapeTiming>;
  max_rss_bytes: number;
  rss_after_load_bytes: number;
  /** Resident memory after the runs by kind (Linux): file-backed pages of the mapped weights are
   * page cache (shared, reclaimable); anonymous pages (prepacked copies, activations) are not. */
  rss_anon_bytes?: number;
  rss_file_bytes?: number;
  hooks_returned: number;
}

export function residentKinds(): { rss_anon_bytes?: number; rss_file_bytes?: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
    return { rss_anon_bytes: kib('RssAnon'), rss_file_bytes: kib('RssFile') };
  } catch {
    return {};
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** In a fresh process: load the folder (as the product does, with prepacking on, or in the fast
 * precision), time both shapes `repeats` times, print one JSON line with the timings and this
 * process's peak RSS. */
export async function forwardChild(dir: string, mode: string, repeatsArg?: string): Promise<void> {
  if (mode !== 'mapped' && mode !== 'prepacked' && mode !== 'fast') throw new Error(`forward child: unknown mode ${mode}`);
  const repeats = repeatsArg === undefined ? REPEATS : Number(repeatsArg);
  const folder = openModelFolder(dir);
  const outputs = { hooks: Array.from({ length: folder.config.numLayers }, (_, L) => hookName(L, 'resid_post')), logits: false };
  const runtime = new RuntimeHost();
  const t0 = performance.now();
  let run: (ps: number[][]) => Promise<Record<string, { dims: readonly number[] }>>;
  let release: () => Promise<void>;
  if (mode === 'prepacked') {
    // LoadedModel.load with disablePrepacking: false; feeds made by a LoadedModel's own code.
    const built = buildForwardGraph(folder.config, folder.path, folder.index, outputs);
    const session = await runtime.load(built.graph.toModel(), { externalDataFolder: folder.path, disablePrepacking: false });
    // feeds() reads only `folder` and `maskWindows`: a LoadedModel without a session makes them.
    const feeder = Object.assign(Object.create(LoadedModel.prototype) as object, { folder, maskWindows: built.maskWindows }) as unknown as LoadedModel;
    run = (ps) => session.run(feeder.feeds(ps));
    release = () => session.release();
  } else {
    // fast: the product's int8 projections, their int8 weights in the model bytes (1.35 GB for
    // Gemma-2-2B's 26 layers, under quantize.ts's in-model limit), as SaeExtractor's fast precision.
    const model = await LoadedModel.load(folder, runtime, outputs, undefined, undefined, undefined, mode === 'fast' ? {} : undefined);
    run = async (ps) => Object.fromEntries(Object.entries((await model.run(ps)).outputs).map(([k, v]) => [k, { dims: [v.data.length / v.width, v.width] }]));
    release = () => model.release();
  }
  const loadMs = performance.now() - t0;
  const rssAfterLoad = process.memoryUsage().rss;
  const shapes = {} as Record<ShapeName, ShapeTiming>;
  let hooksReturned = 0;
  for (const [i, shape] of SHAPES.entries()) {
    const ps = phrases(shape.batch, shape.seq, folder.config.vocabSize, 1000 + i);
    let t = performance.now();
    const first = await run(ps);
    const warmupMs = performance.now() - t;
    hooksReturned = Object.keys(first).length;
    const ms: number[] = [];
    const before = cpuSnapshot();
    for (let r = 0; r < repeats; r++) {
      t = performance.now();
      await run(ps);
      ms.push(performance.now() - t);
    }
    const others = othersCpuPct(before, cpuSnapshot());
    shapes[shape.name] = { ms: ms.map((x) => Math.round(x)), median_ms: median(ms), warmup_ms: Math.round(warmupMs), others_cpu_pct: others };
  }
  const maxRss = process.resourceUsage().maxRSS * 1024; // KiB; threads share the process
  const rssKinds = residentKinds();
  await release();
  await runtime.close();
  console.log(JSON.stringify({ mode, load_ms: Math.round(loadMs), shapes, max_rss_bytes: maxRss, rss_after_load_bytes: rssAfterLoad, ...rssKinds, hooks_returned: hooksReturned } satisfies ChildResult));
}

function runChild(dir: string, mode: ChildMode, repeats: number): ChildResult {
  const child = spawnSync(process.execPath, [process.argv[1], FORWARD_CHILD, dir, mode, String(repeats)], { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) throw new Error(`forward child (${mode}) exited with ${child.status ?? child.signal}`);
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

export function peerPython(): string | null {
  const candidates = [process.env.BENCH_PYTHON, join(homedir(), '.venvs', 'ref', 'bin', 'python')].filter(Boolean) as string[];
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import torch, transformers'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  return null;
}

interface PeerResult {
  torch: string;
  transformers: string;
  dtype: PeerDtype;
  threads: number;
  config_ints_widened: string[];
  load_ms: number;
  shapes: Record<ShapeName, ShapeTiming>;
  max_rss_bytes: number;
}

type PeerDtype = 'float32' | 'bfloat16';

function runPeer(dir: string, dtype: PeerDtype, repeats: number): { result: PeerResult | null; skipped?: string } {
  const python = peerPython();
  if (!python) return { result: null, skipped: 'no Python with torch and transformers (set BENCH_PYTHON)' };
  const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'hf_forward.py'), dir, String(repeats), '--dtype', dtype], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (peer.status !== 0) return { result: null, skipped: `peer failed: ${peer.stderr.trim().split('\n').at(-1) ?? peer.status}` };
  return { result: JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as PeerResult };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export interface ForwardOptions {
  repeats: number;
  fast: boolean;
  peer: boolean;
  bf16: boolean;
}

export function parseForwardOptions(args: readonly string[]): ForwardOptions {
  const o: ForwardOptions = { repeats: REPEATS, fast: true, peer: true, bf16: true };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--repeats' && /^[1-9]\d{0,2}$/.test(args[i + 1] ?? '')) o.repeats = Number(args[++i]);
    else if (a === '--no-fast') o.fast = false;
    else if (a === '--no-peer') o.peer = false;
    else if (a === '--no-bf16') o.bf16 = false;
    else throw new Error(`unknown option ${JSON.stringify(a)}\nusage: npm run bench -- forward [--repeats N (1-999)] [--no-fast] [--no-peer] [--no-bf16]`);
  }
  return o;
}

/** One line per implementation and shape, for people; stdout stays JSON lines. */
function printTable(rows: { impl: string; tps: Partial<Record<ShapeName, number>> }[]): void {
  const cell = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2)).padStart(10);
  const width = Math.max(...rows.map((r) => r.impl.length));
  const lines = [`${'tokens/s'.padEnd(width)} ${SHAPES.map((s) => s.name.padStart(10)).join(' ')}`, ...rows.map((r) => `${r.impl.padEnd(width)} ${SHAPES.map((s) => cell(r.tps[s.name])).join(' ')}`)];
  process.stderr.write(`${lines.join('\n')}\n`);
}

export async function benchForward(): Promise<Record<string, unknown>> {
  const options = parseForwardOptions(process.argv.slice(3));
  const started = performance.now();
  const m = machine();
  const cpu = matrixFeatures();
  emit({ bench: 'forward', machine: m, matrix_features: cpu.features, matrix_flags: cpu.flags, options });
  const { folder, madeS } = await ensureModel();
  const weightBytes = folder.info.weightBytes;
  const c = folder.config;
  // Weights a forward without logits reads: all but the embedding (gathered row by row).
  const embedBytes = folder.index.tensors.get('model.embed_tokens.weight')!.byteLength;
  const matmulBytes = weightBytes - embedBytes;
  emit({
    bench: 'forward',
    step: 'model',
    path: folder.path,
    made_s: madeS && round(madeS, 1),
    parameters: parameterCount(c),
    weight_bytes: weightBytes,
    matmul_weight_bytes: matmulBytes,
    files: folder.info.files,
  });

  // The roofline is a ceiling and its measurement is short (under a second), so one busy moment
  // spoils it: it is measured before and after our runs and the higher figure is used.
  const measureRoofline = async () => {
    const before = cpuSnapshot();
    const r = await gemmRoofline('forward');
    return { ...r, others: othersCpuPct(before, cpuSnapshot()) };
  };
  const gemmBefore = await measureRoofline();
  let gemm = gemmBefore;
  const flops = Object.fromEntries(SHAPES.map((s) => [s.name, forwardFlops(folder, s.batch, s.seq)])) as Record<ShapeName, number>;
  const tokens = Object.fromEntries(SHAPES.map((s) => [s.name, s.batch * s.seq])) as Record<ShapeName, number>;

  const report = (impl: string, r: ChildResult) => {
    const tps = {} as Record<ShapeName, number>;
    const roofline = {} as Record<ShapeName, number>;
    for (const s of SHAPES) {
      const t = r.shapes[s.name];
      tps[s.name] = tokens[s.name] / (t.median_ms / 1000);
      const gflops = flops[s.name] / (t.median_ms * 1e6);
      roofline[s.name] = gflops / gemm.gflops;
      emit({ bench: 'forward', step: 'run', impl, shape: s.name, tokens: tokens[s.name], others_cpu_pct: t.others_cpu_pct, warmup_ms: t.warmup_ms, ms: t.ms, median_ms: Math.round(t.median_ms), tokens_per_s: round(tps[s.name], 2), gflops: round(gflops, 1), roofline_ratio: round(roofline[s.name], 3) });
    }
    const rssRatio = r.max_rss_bytes / weightBytes;
    const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round(bytes / 2 ** 20));
    emit({
      bench: 'forward',
      step: 'memory',
      impl,
      load_ms: r.load_ms,
      peak_rss_mb: mb(r.max_rss_bytes),
      rss_anon_mb_after_runs: mb(r.rss_anon_bytes),
      rss_file_mb_after_runs: mb(r.rss_file_bytes),
      weight_mb: mb(weightBytes),
      peak_rss_over_weights: round(rssRatio, 3),
      peak_rss_over_matmul_weights: round(r.max_rss_bytes / matmulBytes, 3),
    });
    return { tps, roofline, rssRatio, rssOverMatmul: r.max_rss_bytes / matmulBytes, loadMs: r.load_ms };
  };

  const oursChild = runChild(folder.path, 'mapped', options.repeats);
  const gemmAfter = await measureRoofline();
  if (gemmAfter.gflops > gemm.gflops) gemm = gemmAfter;
  const ours = report('ours (LoadedModel, worker, prepacking off)', oursChild);
  let prepacked: ReturnType<typeof report> | null = null;
  let prepackedOthers: number | null = null;
  if (process.env.BENCH_FORWARD_PREPACKED === '1') {
    const r = runChild(folder.path, 'prepacked', options.repeats);
    prepacked = report('ours, prepacking on (experiment)', r);
    prepackedOthers = Math.max(...SHAPES.map((s) => r.shapes[s.name].others_cpu_pct ?? 0));
  }
  let fast: ReturnType<typeof report> | null = null;
  let fastOthers: number | null = null;
  if (options.fast) {
    const r = runChild(folder.path, 'fast', options.repeats);
    fast = report('ours, fast precision (q/k/v/gate/up int8)', r);
    fastOthers = Math.max(...SHAPES.map((s) => r.shapes[s.name].others_cpu_pct ?? 0));
  }

  // Our children have exited and their memory is free: each peer loads its own copy now.
  const peerRun = (dtype: PeerDtype) => {
    const peer = runPeer(folder.path, dtype, options.repeats);
    if (!peer.result) {
      emit({ bench: 'forward', step: 'run', impl: `peer ${dtype}`, skipped: peer.skipped });
      return { skipped: peer.skipped, tps: null, rss: null, others: null };
    }
    const r = peer.result;
    const tps = {} as Record<ShapeName, number>;
    for (const s of SHAPES) {
      const t = r.shapes[s.name];
      tps[s.name] = tokens[s.name] / (t.median_ms / 1000);
      emit({ bench: 'forward', step: 'run', impl: `peer ${r.dtype} (transformers ${r.transformers}, torch ${r.torch}, eager, ${r.threads} threads)`, shape: s.name, others_cpu_pct: t.others_cpu_pct, warmup_ms: t.warmup_ms, ms: t.ms, median_ms: Math.round(t.median_ms), tokens_per_s: round(tps[s.name], 2), gflops: round(flops[s.name] / (t.median_ms * 1e6), 1) });
    }
    const rss = r.max_rss_bytes / weightBytes;
    emit({ bench: 'forward', step: 'memory', impl: `peer ${r.dtype}`, config_ints_widened: r.config_ints_widened, load_ms: r.load_ms, peak_rss_mb: Math.round(r.max_rss_bytes / 2 ** 20), peak_rss_over_weights: round(rss, 3) });
    return { skipped: undefined, tps, rss, others: Math.max(...SHAPES.map((s) => r.shapes[s.name].others_cpu_pct ?? 0)) };
  };
  const notRun = (why: string) => ({ skipped: why, tps: null, rss: null, others: null });
  const peer = options.peer ? peerRun('float32') : notRun('--no-peer');
  const peerBf16 = options.peer && options.bf16 ? peerRun('bfloat16') : notRun(options.peer ? '--no-bf16' : '--no-peer');
  const hf = peer.tps;
  const hfBf16 = peerBf16.tps;

  printTable([
    { impl: 'ours float32', tps: ours.tps },
    ...(prepacked ? [{ impl: 'ours float32, prepacked', tps: prepacked.tps }] : []),
    ...(fast ? [{ impl: 'ours fast (int8)', tps: fast.tps }] : []),
    ...(hf ? [{ impl: 'HF float32', tps: hf }] : []),
    ...(hfBf16 ? [{ impl: 'HF bfloat16', tps: hfBf16 }] : []),
  ]);

  const othersMax = Math.max(...SHAPES.map((s) => oursChild.shapes[s.name].others_cpu_pct ?? 0));
  const hfOthersMax = peer.others;
  const gemmOthers = gemm.others;
  const worst = Math.max(othersMax, hfOthersMax ?? 0, peerBf16.others ?? 0, gemmOthers ?? 0, prepackedOthers ?? 0, fastOthers ?? 0);
  const contended = worst > CONTENDED_PCT;
  const ratio = (a: Record<ShapeName, number> | null, b: Record<ShapeName, number> | null, shape: ShapeName) => (a && b ? round(a[shape] / b[shape], 3) : null);
  return {
    machine: m.cpu,
    cores: m.cores,
    memory_gib: m.memory_gib,
    matrix_features: cpu.features,
    matrix_flags: cpu.flags,
    model: 'random Gemma-2-2B, f32, 26 x blocks.L.hook_resid_post, no logits',
    repeats: options.repeats,
    flops_formula: FLOP_FORMULA,
    gemm_gflops: round(gemm.gflops, 1),
    gemm_gflops_before_after: [round(gemmBefore.gflops, 1), round(gemmAfter.gflops, 1)],
    tokens_per_s_8x32: round(ours.tps['8x32'], 2),
    tokens_per_s_1x128: round(ours.tps['1x128'], 2),
    roofline_ratio_8x32: round(ours.roofline['8x32'], 3),
    roofline_ratio_1x128: round(ours.roofline['1x128'], 3),
    peak_rss_over_weights: round(ours.rssRatio, 3),
    peak_rss_over_matmul_weights: round(ours.rssOverMatmul, 3),
    load_ms: ours.loadMs,
    ...(fast
      ? {
          fast: 'q/k/v/gate/up as com.microsoft.DynamicQuantizeMatMul (int8 weights per column, uint8 activations per call); o/down, attention float32',
          fast_tokens_per_s_8x32: round(fast.tps['8x32'], 2),
          fast_tokens_per_s_1x128: round(fast.tps['1x128'], 2),
          fast_peak_rss_over_weights: round(fast.rssRatio, 3),
          fast_load_ms: fast.loadMs,
          fast_over_float32_8x32: ratio(fast.tps, ours.tps, '8x32'),
          fast_over_float32_1x128: ratio(fast.tps, ours.tps, '1x128'),
        }
      : { fast_skipped: '--no-fast' }),
    hf_tokens_per_s_8x32: hf && round(hf['8x32'], 2),
    hf_tokens_per_s_1x128: hf && round(hf['1x128'], 2),
    hf_peak_rss_over_weights: peer.rss && round(peer.rss, 3),
    speedup_vs_hf_8x32: ratio(ours.tps, hf, '8x32'),
    speedup_vs_hf_1x128: ratio(ours.tps, hf, '1x128'),
    ...(peer.skipped ? { hf_skipped: peer.skipped } : {}),
    hf_bf16_tokens_per_s_8x32: hfBf16 && round(hfBf16['8x32'], 2),
    hf_bf16_tokens_per_s_1x128: hfBf16 && round(hfBf16['1x128'], 2),
    hf_bf16_peak_rss_over_weights: peerBf16.rss && round(peerBf16.rss, 3),
    fast_vs_hf_bf16_8x32: ratio(fast?.tps ?? null, hfBf16, '8x32'),
    fast_vs_hf_bf16_1x128: ratio(fast?.tps ?? null, hfBf16, '1x128'),
    ...(peerBf16.skipped ? { hf_bf16_skipped: peerBf16.skipped } : {}),
    ...(prepacked
      ? {
          prepacked_tokens_per_s_8x32: round(prepacked.tps['8x32'], 2),
          prepacked_tokens_per_s_1x128: round(prepacked.tps['1x128'], 2),
          prepacked_peak_rss_over_weights: round(prepacked.rssRatio, 3),
          prepacked_load_ms: prepacked.loadMs,
          prepacked_speedup_8x32: round(prepacked.tps['8x32'] / ours.tps['8x32'], 3),
          prepacked_speedup_1x128: round(prepacked.tps['1x128'] / ours.tps['1x128'], 3),
        }
      : {}),
    // Other processes' share of the cores during the timed runs (worst shape of each).
    gemm_others_cpu_pct: gemmOthers,
    others_cpu_pct_max: othersMax,
    fast_others_cpu_pct_max: fastOthers,
    hf_others_cpu_pct_max: hfOthersMax,
    hf_bf16_others_cpu_pct_max: peerBf16.others,
    ...(contended ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
    bench_s: Math.round((performance.now() - started) / 1000),
    targets: { roofline_ratio: '>= 0.6', peak_rss_over_weights: '<= 1.3', speedup_vs_hf: '> 1', fast_vs_hf_bf16: '> 1' },
  };
}

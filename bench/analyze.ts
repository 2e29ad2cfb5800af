// The analysis on a full-size random Gemma-2-2B (f32, the folder bench/forward.ts makes) with 26
// random 16k JumpReLU SAEs, one per blocks.L.hook_resid_post (made once with the product's
// `sae.makeRandom`, kept next to the model folder and reused when complete). Figures:
// 1. extraction throughput: SaeExtractor (the fused model + 26 SAEs graph the analysis runs)
//    against the forward alone (LoadedModel with the 26 resid_post hooks) on the same batches,
//    and achieved FLOP/s over the GEMM roofline measured in the same run;
// 2. the analysis itself (`analysis.run`, en/hi/ml UDHR, a few segments) on a fresh database:
//    the cache's bytes per phrase for 26 layers and the identical re-run's speed-up;
// 3. the peer (bench/peer/sae_extract.py): HF transformers + torch doing the same extraction
//    (same folder, same SAE files, same batches), run after ours, in its own process, in float32
//    and again with the model in bfloat16 (issue 17), beside our fused extraction in float32 and
//    in the fast precision (int8 projections); the summary names the CPU's matrix features.
// Every measurement of ours runs in a fresh child process (clean peak RSS; the compute worker is
// a thread of it), one after the other, so the machine's memory holds one of them at a time.
// Two GEMM references, measured in the same run: gemmRoofline (bench/engine.ts, prepacked) and
// the SAE encoder's own GEMM the way the product runs it (mapped weights, prepacking off).
// The machine may be shared: a measurement whose timed runs found other processes on the cores
// (> 5 %, /proc/stat) is taken again (BENCH_TRIES, default 2) and the quietest is kept.
// Knobs: BENCH_DIR, BENCH_PYTHON, BENCH_ANALYZE_REPEATS (5), BENCH_ANALYZE_LIMIT (4 segments),
// BENCH_ANALYZE_KEEP_DB=1 keeps the analysis database (analyze-bench.db next to the model).
// `-- analyze --precision fast [--saes DIR]`: instead, the fused extraction in both precisions
// (float32, and int8 projections: engine/quantize.ts), fresh processes one after the other, on the
// same batches: tokens/s of each, their ratio, how far fast's per-(phrase, SAE) sums are from
// float32's, and the CPU's matrix flags. --saes: an existing folder of SAEs for this model (e.g.
// a few layers) instead of the 26 made ones; the graph then runs up to its last SAE's layer.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createBackend } from '../src/main/backend/backend';
import type { JobContext } from '../src/main/backend/handler';
import { chooseSaes } from '../src/main/backend/analysis-service';
import { loadUdhr } from '../src/main/data/udhr';
import { RuntimeHost } from '../src/main/engine/runtime-host';
import { readSafetensorsHeader } from '../src/main/io/safetensors';
import { loadTokenizer } from '../src/main/io/tokenizer';
import { hookName } from '../src/main/models/forward';
import { LoadedModel, openModelFolder, type ModelFolder } from '../src/main/models/model';
import { packageRoot } from '../src/main/package-root';
import { SaeExtractor } from '../src/main/sae/extract';
import { decodeRow } from '../src/main/store/sae-cache-repo';
import { SAE_LINGUASCOPE_KEY, type SaeSpec } from '../src/main/sae/sae';
import { Graph } from '../src/main/engine/graph';
import { matmul } from '../src/main/engine/ops/linalg';
import { EngineSession } from '../src/main/engine/session';
import { externalWeight } from '../src/main/engine/weights';
import { gemmRoofline } from './engine';
import { ensureModel, FLOP_FORMULA, forwardFlops, modelDir, peerPython, phrases, residentKinds } from './forward';
import { CONTENDED_PCT, cpuSnapshot, emit, machine, matrixFeatures, othersCpuPct, quietest } from './machine';

const ANALYZE_CHILD = '__child';
const WIDTH = 16384;
const SAE_SEED = 0;
/** Timed runs per batch after one warm-up; the median is reported. */
const REPEATS = Number(process.env.BENCH_ANALYZE_REPEATS ?? 5);
/** Aligned UDHR segments of the analysis run (x 3 languages = phrases). */
const ANALYSIS_LIMIT = Number(process.env.BENCH_ANALYZE_LIMIT ?? 4);
const ANALYSIS_LANGUAGES = ['en', 'hi', 'ml'];

const worstOthers = (timings: Record<string, { others_cpu_pct: number | null }>) => Math.max(...Object.values(timings).map((t) => t.others_cpu_pct ?? 0));

export const SAE_FLOP_FORMULA = 'per token and SAE 2*d*w (encode x W_enc) + 2*w*d (decode a W_dec) = 4*d*w; x 26 SAEs, over B*T (padding included); thresholds, summaries, fidelity not counted';
export const EXTRACT_FLOP_FORMULA = `forward: ${FLOP_FORMULA}; + SAEs: ${SAE_FLOP_FORMULA}`;

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (bytes: number | undefined) => (bytes === undefined ? undefined : Math.round(bytes / 2 ** 20));

function saeDir(): string {
  return join(dirname(modelDir()), `gemma-2-2b-f32-saes-${WIDTH / 1024}k`);
}

const saeFile = (dir: string, L: number) => join(dir, `${hookName(L, 'resid_post')}.safetensors`);

/** All 26 files there, ours (seed, width, JumpReLU, hook), every tensor within its file. */
function completeSaes(dir: string, layers: number): string[] | null {
  const files: string[] = [];
  for (let L = 0; L < layers; L++) {
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

function runChild(args: string[]): Record<string, unknown> {
  const child = spawnSync(process.execPath, [process.argv[1], 'analyze', ANALYZE_CHILD, ...args], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] });
  if (child.status !== 0) {
    throw new Error(`analyze child (${args[0]}) exited with ${child.status ?? child.signal}${child.signal === 'SIGKILL' ? ' (killed: out of memory?)' : ''}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function ensureSaes(folder: ModelFolder): Promise<{ dir: string; files: string[]; madeS: number | null }> {
  const dir = saeDir();
  const layers = folder.config.numLayers;
  const found = completeSaes(dir, layers);
  if (found) return { dir, files: found, madeS: null };
  const need = layers * (2 * folder.config.hiddenSize * WIDTH + 3 * WIDTH + folder.config.hiddenSize) * 4;
  const fs = statfsSync(dirname(dir));
  const free = fs.bavail * fs.bsize;
  if (free < need * 1.05) throw new Error(`${dirname(dir)}: ${mb(free)} MB free, the 26 SAEs need ${mb(need)} MB`);
  emit({ bench: 'analyze', step: 'make_saes', path: dir, note: `writing ${layers} random ${WIDTH}-wide JumpReLU SAEs (${mb(need)} MB, once; reused afterwards)` });
  const t0 = performance.now();
  const made = runChild(['make-saes', folder.path, dir]);
  const files = completeSaes(dir, layers);
  if (!files) throw new Error(`${dir}: the SAEs were written but do not check out`);
  emit({ bench: 'analyze', step: 'make_saes', made_s: round((performance.now() - t0) / 1000, 1), l0: made.l0 });
  return { dir, files, madeS: (performance.now() - t0) / 1000 };
}

interface Batch {
  name: string;
  phrases: number[][];
}

/** 8 x 32 random ids (bench/forward.ts's batch), and 8 English UDHR paragraphs through the
 * model's tokenizer (BOS first, as the analysis runs them; right-padded to the longest). */
function batches(folder: ModelFolder): Batch[] {
  const tokenizer = loadTokenizer(folder.path);
  const paragraphs = loadUdhr('eng').sections.flatMap((s) => s.paragraphs).slice(12, 20);
  return [
    { name: '8x32', phrases: phrases(8, 32, folder.config.vocabSize, 1000) },
    { name: 'udhr-en-8', phrases: paragraphs.map((p) => tokenizer.encode(p, true).slice(0, 128)) },
  ];
}

interface Timing {
  ms: number[];
  median_ms: number;
  warmup_ms: number;
  others_cpu_pct: number | null;
}

async function timeBatch(run: () => Promise<unknown>): Promise<Timing> {
  let t = performance.now();
  await run();
  const warmupMs = performance.now() - t;
  const ms: number[] = [];
  const before = cpuSnapshot();
  for (let r = 0; r < REPEATS; r++) {
    t = performance.now();
    await run();
    ms.push(performance.now() - t);
  }
  return { ms: ms.map((x) => Math.round(x)), median_ms: median(ms), warmup_ms: Math.round(warmupMs), others_cpu_pct: othersCpuPct(before, cpuSnapshot()) };
}

const ctx = (log: (stage: string, done: number, total: number) => void = () => {}): JobContext => ({
  jobId: 'bench',
  signal: new AbortController().signal,
  progress: log,
  log: () => {},
});

/** In a fresh process: one measurement; prints one JSON line. */
async function analyzeChild(mode: string, args: string[]): Promise<void> {
  if (mode === 'make-saes') {
    const [model, out] = args;
    const backend = createBackend({ dbPath: join(dirname(out), 'make-saes.db') });
    try {
      const made = await backend.handlers['sae.makeRandom']({ model, width: WIDTH, out, layers: 'all', architecture: 'jumprelu', seed: SAE_SEED }, ctx((s, d, t) => process.stderr.write(`${s} ${d}/${t}\n`)));
      console.log(JSON.stringify({ l0: made.l0 }));
    } finally {
      await backend.close();
    }
    return;
  }
  if (mode === 'analysis') {
    const [model, saes, dbPath] = args;
    for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });
    const backend = createBackend({ dbPath });
    try {
      const request = { model, saes, languages: ANALYSIS_LANGUAGES, limit: ANALYSIS_LIMIT };
      const stages: { stage: string; done: number; total: number; at_s: number }[] = [];
      const before = cpuSnapshot();
      const t0 = performance.now();
      const first = await backend.handlers['analysis.run'](request, ctx((stage, done, total) => stages.push({ stage, done, total, at_s: round((performance.now() - t0) / 1000, 2) })));
      const firstS = (performance.now() - t0) / 1000;
      const others = othersCpuPct(before, cpuSnapshot());
      const maxRssFirst = process.resourceUsage().maxRSS * 1024;
      const t1 = performance.now();
      const second = await backend.handlers['analysis.run'](request, ctx());
      const secondS = (performance.now() - t1) / 1000;
      // What the cache holds: active and kept features per (phrase, SAE) row, bytes of each part.
      const rows = backend.db
        .prepare('SELECT summary, active, fidelity, length(summary) AS s, coalesce(length(active), 0) AS a, length(fidelity) + length(key) AS rest FROM sae_cache')
        .all() as { summary: Buffer; active: Buffer | null; fidelity: Buffer; s: number; a: number; rest: number }[];
      const decoded = rows.map((r) => decodeRow(r.summary, r.active, { sse: 0, sumSq: 0, cos: 0, l0: 0, sumNormSq: 0, count: 0 }));
      const nnz = decoded.reduce((a, r) => a + r.total.active, 0);
      const kept = decoded.reduce((a, r) => a + r.features.length, 0);
      const bytes = rows.reduce((a, r) => a + r.s + r.a + r.rest, 0);
      const phrasesCached = first.cache.phrases_computed + first.cache.phrases_cached;
      console.log(
        JSON.stringify({
          first: { wall_s: firstS, others_cpu_pct: others, cache: first.cache, tokens: first.corpus.tokens, segments: first.corpus.segments, skipped: first.corpus.skipped, stages },
          second: { wall_s: secondS, cache: second.cache },
          cache_rows: rows.length,
          active_features_per_row: nnz / rows.length,
          kept_features_per_row: kept / rows.length,
          bytes_per_phrase_parts: {
            kept_lists_and_sums: rows.reduce((a, r) => a + r.s, 0) / phrasesCached,
            english_active_bitmaps: rows.reduce((a, r) => a + r.a, 0) / phrasesCached,
            fidelity_and_keys: rows.reduce((a, r) => a + r.rest, 0) / phrasesCached,
          },
          bytes_total: bytes,
          max_rss_bytes: maxRssFirst,
          db_bytes: [dbPath, `${dbPath}-wal`].reduce((s, f) => s + (existsSync(f) ? statSync(f).size : 0), 0),
        }),
      );
    } finally {
      await backend.close();
    }
    return;
  }
  // forward | extract: the same batches through the forward alone or the fused extraction.
  const [model, saes] = args;
  const folder = openModelFolder(model);
  const runtime = new RuntimeHost();
  const t0 = performance.now();
  let run: (ps: number[][]) => Promise<unknown>;
  let release: () => Promise<void>;
  let extractor: SaeExtractor | null = null;
  if (mode === 'forward') {
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => hookName(L, 'resid_post'));
    const m = await LoadedModel.load(folder, runtime, { hooks, logits: false });
    run = (ps) => m.run(ps);
    release = () => m.release();
  } else if (mode === 'extract' || mode === 'extract-fast') {
    extractor = await SaeExtractor.load(folder, await chooseSaes(saes), runtime, { includeBos: false, precision: mode === 'extract-fast' ? 'fast' : 'exact' });
    const x = extractor;
    run = (ps) => x.run(ps);
    release = () => x.release();
  } else {
    throw new Error(`analyze child: unknown mode ${mode}`);
  }
  const loadMs = performance.now() - t0;
  const rssAfterLoad = process.memoryUsage().rss;
  const timings: Record<string, Timing> = {};
  let check: { nnz: number[][]; mean_sum: number[][]; max_sum: number[][]; l0: number[][] } | null = null;
  for (const b of batches(folder)) {
    timings[b.name] = await timeBatch(() => run(b.phrases));
    process.stderr.write(`analyze ${mode} ${b.name}: ${timings[b.name].median_ms.toFixed(0)} ms\n`);
    if (extractor && b.name === '8x32') {
      // Per phrase (outer) and SAE (inner): what the peer computes too, to compare.
      const out = await extractor.run(b.phrases);
      check = {
        nnz: out.map((row) => row.map((s) => s.features.length)),
        mean_sum: out.map((row) => row.map((s) => s.mean.reduce((a, v) => a + v, 0))),
        max_sum: out.map((row) => row.map((s) => s.max.reduce((a, v) => a + v, 0))),
        l0: out.map((row) => row.map((s) => s.fidelity.l0 / s.fidelity.count)),
      };
    }
  }
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const kinds = residentKinds();
  await release();
  await runtime.close();
  console.log(JSON.stringify({ mode, load_ms: Math.round(loadMs), timings, max_rss_bytes: maxRss, rss_after_load_bytes: rssAfterLoad, ...kinds, check }));
}

interface PeerResult {
  torch: string;
  transformers: string;
  dtype: 'float32' | 'bfloat16';
  threads: number;
  load_ms: number;
  timings: Record<string, Timing>;
  max_rss_bytes: number;
  check: { nnz: number[][]; mean_sum: number[][]; max_sum: number[][]; l0: number[][] };
}

function runPeer(dir: string, saeFiles: string[], bs: Batch[], bosId: number | null, work: string, dtype: PeerResult['dtype']): { result: PeerResult | null; skipped?: string } {
  const python = peerPython();
  if (!python) return { result: null, skipped: 'no Python with torch and transformers (set BENCH_PYTHON)' };
  const input = join(work, 'peer-input.json');
  writeFileSync(input, JSON.stringify({ model: dir, saes: saeFiles, bos_id: bosId, repeats: REPEATS, batches: Object.fromEntries(bs.map((b) => [b.name, b.phrases])) }));
  const peer = spawnSync(python, [join(packageRoot(), 'bench', 'peer', 'sae_extract.py'), input, '--dtype', dtype], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
  if (peer.status !== 0) return { result: null, skipped: `peer failed (${peer.status ?? peer.signal}): ${peer.stderr.trim().split('\n').at(-1) ?? ''}` };
  return { result: JSON.parse(peer.stdout.trim().split('\n').at(-1)!) as PeerResult };
}

/** Largest relative difference between ours and the peer's per-(phrase, SAE) figures. */
function compare(ours: PeerResult['check'], theirs: PeerResult['check']) {
  const worst = (a: number[][], b: number[][]) => {
    let w = 0;
    a.forEach((row, i) => row.forEach((x, j) => (w = Math.max(w, Math.abs(x - b[i][j]) / Math.max(Math.abs(x), Math.abs(b[i][j]), 1e-12)))));
    return round(w, 6);
  };
  return { nnz_max_rel_diff: worst(ours.nnz, theirs.nnz), mean_sum_max_rel_diff: worst(ours.mean_sum, theirs.mean_sum), max_sum_max_rel_diff: worst(ours.max_sum, theirs.max_sum), l0_max_rel_diff: worst(ours.l0, theirs.l0) };
}

/** A second reference beside gemmRoofline: the SAE encoder's own GEMM, [256, d] x W_enc [d, w]
 * read from the SAE file as the product reads it (external data, memory-mapped, prepacking off),
 * median of 10 runs after a warm-up. */
async function saeGemm(spec: SaeSpec): Promise<{ ms: number; gflops: number }> {
  const root = dirname(spec.tensors.W_enc.file);
  const g = new Graph('sae-gemm');
  const a = g.input('a', 'float32', [256, spec.dIn]);
  g.output(matmul(a, externalWeight(g, spec.tensors.W_enc, root, { as: 'w', shape: [spec.dIn, spec.dSae] })), 'y');
  const session = await EngineSession.create(g.toModel(), { externalDataFolder: root, disablePrepacking: true });
  const data = Float32Array.from({ length: 256 * spec.dIn }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const feeds = { a: { dtype: 'float32' as const, dims: [256, spec.dIn], data } };
  await session.run(feeds);
  const ms: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - t);
  }
  await session.release();
  const m = median(ms);
  const gflops = (2 * 256 * spec.dIn * spec.dSae) / (m * 1e6);
  emit({ bench: 'analyze', step: 'sae_gemm', shape: `[256,${spec.dIn}]x[${spec.dIn},${spec.dSae}]`, weights: 'mapped, prepacking off', ms: round(m, 2), gflops: round(gflops, 1) });
  return { ms: m, gflops };
}

/** The CPU flags that decide which matrix kernels run (onnxruntime's int8 GEMM uses VNNI/AMX). */
function matrixFlags(): string {
  try {
    const flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].split(/\s+/) ?? [];
    return flags.filter((f) => /^(avx512|amx|avx_vnni|avx2$|fma$)/.test(f)).sort().join(' ');
  } catch {
    return '';
  }
}

function parseOptions(args: string[]): { precision: 'exact' | 'fast'; saes: string | null } {
  const o = { precision: 'exact' as 'exact' | 'fast', saes: null as string | null };
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--precision' && (args[i + 1] === 'fast' || args[i + 1] === 'exact')) o.precision = args[++i] as 'exact' | 'fast';
    else if (args[i] === '--saes' && args[i + 1]) o.saes = args[++i];
    else throw new Error(`unknown option ${JSON.stringify(args[i])}\nusage: npm run bench -- analyze [--precision fast [--saes DIR]]`);
  }
  return o;
}

/** `--precision fast`: the fused extraction in float32 and in fast, and how far apart they are. */
async function benchPrecision(saesOption: string | null): Promise<Record<string, unknown>> {
  const started = performance.now();
  const m = machine();
  const flags = matrixFlags();
  emit({ bench: 'analyze', precision: 'exact vs fast', machine: m, matrix_flags: flags });
  const { folder } = await ensureModel();
  const dir = saesOption ?? (await ensureSaes(folder)).dir;
  const specs = await chooseSaes(dir);
  const bs = batches(folder);
  type Measured = { timings: Record<string, Timing>; check: PeerResult['check']; load_ms: number; max_rss_bytes: number };
  const exact = await quietest('analyze', 'extract', () => runChild(['extract', folder.path, dir]) as Measured, (r) => worstOthers(r.timings));
  const fast = await quietest('analyze', 'extract-fast', () => runChild(['extract-fast', folder.path, dir]) as Measured, (r) => worstOthers(r.timings));
  const tps: Record<string, { exact: number; fast: number; others_cpu_pct: number }> = {};
  for (const b of bs) {
    const tokens = b.phrases.reduce((a, p) => a + p.length, 0);
    const e = exact.timings[b.name];
    const f = fast.timings[b.name];
    tps[b.name] = { exact: round(tokens / (e.median_ms / 1000), 2), fast: round(tokens / (f.median_ms / 1000), 2), others_cpu_pct: Math.max(e.others_cpu_pct ?? 0, f.others_cpu_pct ?? 0) };
    emit({ bench: 'analyze', step: 'precision', batch: b.name, tokens, exact_ms: e.ms, fast_ms: f.ms, ...tps[b.name] });
  }
  const agreement = compare(exact.check, fast.check);
  const worst = Math.max(...Object.values(tps).map((t) => t.others_cpu_pct));
  return {
    machine: m.cpu,
    cores: m.cores,
    matrix_features: matrixFeatures().features,
    matrix_flags: flags,
    model: `random Gemma-2-2B, f32; ${specs.length} random JumpReLU SAEs (${dir}) on ${specs.map((s) => s.hookName).join(', ')}`,
    fast: 'q/k/v/gate/up as com.microsoft.DynamicQuantizeMatMul (int8 weights per column, uint8 activations per call); o/down, attention, SAEs float32',
    tokens_per_s: tps,
    fast_over_exact: Object.fromEntries(Object.entries(tps).map(([k, t]) => [k, round(t.fast / t.exact, 3)])),
    load_ms: { exact: exact.load_ms, fast: fast.load_ms },
    peak_rss_mb: { exact: mb(exact.max_rss_bytes), fast: mb(fast.max_rss_bytes) },
    fast_vs_exact_8x32: agreement,
    others_cpu_pct_max: worst,
    ...(worst > CONTENDED_PCT ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
    bench_s: Math.round((performance.now() - started) / 1000),
  };
}

export async function benchAnalyze(): Promise<Record<string, unknown>> {
  if (process.argv[3] === ANALYZE_CHILD) {
    await analyzeChild(process.argv[4], process.argv.slice(5));
    process.exit(0);
  }
  const options = parseOptions(process.argv.slice(3));
  if (options.precision === 'fast') return benchPrecision(options.saes);
  if (options.saes) throw new Error('--saes goes with --precision fast');
  const started = performance.now();
  const m = machine();
  const cpu = matrixFeatures();
  emit({ bench: 'analyze', machine: m, matrix_features: cpu.features, matrix_flags: cpu.flags });
  const { folder } = await ensureModel();
  const { dir, files, madeS } = await ensureSaes(folder);
  const c = folder.config;
  const saeBytes = files.reduce((s, f) => s + statSync(f).size, 0);
  const weightBytes = folder.info.weightBytes;
  emit({ bench: 'analyze', step: 'inputs', model: folder.path, sae_dir: dir, saes: files.length, width: WIDTH, weight_mb: mb(weightBytes), sae_mb: mb(saeBytes), sae_made_s: madeS && round(madeS, 1) });

  const saeSpec0 = (await chooseSaes(dir))[0];
  const { gemm, saeRef, gemmOthers } = await quietest(
    'analyze',
    'gemm',
    async () => {
      const before = cpuSnapshot();
      const gemm = await gemmRoofline('analyze');
      const saeRef = await saeGemm(saeSpec0);
      return { gemm, saeRef, gemmOthers: othersCpuPct(before, cpuSnapshot()) };
    },
    (r) => r.gemmOthers,
  );

  const bs = batches(folder);
  const shape = (b: Batch) => ({ B: b.phrases.length, T: Math.max(...b.phrases.map((p) => p.length)), tokens: b.phrases.reduce((s, p) => s + p.length, 0) });
  const flops = (b: Batch, withSaes: boolean) => {
    const { B, T } = shape(b);
    return forwardFlops(folder, B, T) + (withSaes ? B * T * files.length * 4 * c.hiddenSize * WIDTH : 0);
  };

  type Figures = Record<string, { tps: number; gflops: number; roofline: number; rooflineSae: number; others: number | null }>;
  const report = (impl: string, r: { timings: Record<string, Timing> }, withSaes: boolean): Figures => {
    const out: Figures = {};
    for (const b of bs) {
      const t = r.timings[b.name];
      const s = shape(b);
      const gflops = flops(b, withSaes) / (t.median_ms * 1e6);
      out[b.name] = { tps: s.tokens / (t.median_ms / 1000), gflops, roofline: gflops / gemm.gflops, rooflineSae: gflops / saeRef.gflops, others: t.others_cpu_pct };
      emit({ bench: 'analyze', step: 'run', impl, batch: b.name, B: s.B, T: s.T, tokens: s.tokens, warmup_ms: t.warmup_ms, ms: t.ms, median_ms: Math.round(t.median_ms), tokens_per_s: round(out[b.name].tps, 2), gflops: round(gflops, 1), roofline_ratio: round(out[b.name].roofline, 3), roofline_ratio_vs_sae_gemm: round(out[b.name].rooflineSae, 3), others_cpu_pct: t.others_cpu_pct });
    }
    return out;
  };
  const memory = (impl: string, r: Record<string, unknown>, mapped: number) => {
    const peak = r.max_rss_bytes as number;
    emit({ bench: 'analyze', step: 'memory', impl, load_ms: r.load_ms, peak_rss_mb: mb(peak), rss_anon_mb_after_runs: mb(r.rss_anon_bytes as number | undefined), rss_file_mb_after_runs: mb(r.rss_file_bytes as number | undefined), mapped_weight_mb: mb(mapped), peak_rss_over_mapped_weights: round(peak / mapped, 3) });
    return peak;
  };

  // 1. Forward alone, then the fused extraction: fresh processes, one after the other.
  type Measured = { timings: Record<string, Timing>; check: PeerResult['check'] } & Record<string, unknown>;
  const fwdChild = await quietest('analyze', 'forward', () => runChild(['forward', folder.path, dir]) as Measured, (r) => worstOthers(r.timings));
  const fwd = report('ours: forward only (LoadedModel, 26 resid_post hooks)', fwdChild, false);
  const fwdPeak = memory('ours: forward only', fwdChild, weightBytes);
  const exChild = await quietest('analyze', 'extract', () => runChild(['extract', folder.path, dir]) as Measured, (r) => worstOthers(r.timings));
  const ex = report('ours: fused extraction (SaeExtractor, 26 SAEs)', exChild, true);
  const exPeak = memory('ours: fused extraction', exChild, weightBytes + saeBytes);
  const fxChild = await quietest('analyze', 'extract-fast', () => runChild(['extract-fast', folder.path, dir]) as Measured, (r) => worstOthers(r.timings));
  const fx = report('ours: fused extraction, fast precision (q/k/v/gate/up int8)', fxChild, true);
  const fxPeak = memory('ours: fused extraction, fast', fxChild, weightBytes + saeBytes);
  const fastAgreement = compare(exChild.check, fxChild.check);
  emit({ bench: 'analyze', step: 'agreement', of: 'fast vs float32', batch: '8x32', ...fastAgreement });

  // 2. The analysis on a fresh database, then the identical run again (all cached).
  const dbPath = join(dirname(dir), 'analyze-bench.db');
  type Analysis = {
    first: { wall_s: number; others_cpu_pct: number | null; cache: { bytes_per_phrase: number; phrases_computed: number; seconds: number }; tokens: Record<string, number>; segments: number; skipped: string[]; stages: unknown[] };
    second: { wall_s: number; cache: { phrases_cached: number; phrases_computed: number; seconds: number } };
    max_rss_bytes: number;
    db_bytes: number;
    cache_rows: number;
    active_features_per_row: number;
    kept_features_per_row: number;
    bytes_per_phrase_parts: Record<string, number>;
    bytes_total: number;
  };
  const an = await quietest('analyze', 'analysis', () => runChild(['analysis', folder.path, dir, dbPath]) as Analysis, (r) => r.first.others_cpu_pct);
  const anTokens = Object.values(an.first.tokens).reduce((s, n) => s + n, 0);
  const speedup = an.first.wall_s / an.second.wall_s;
  emit({
    bench: 'analyze',
    step: 'analysis',
    languages: ANALYSIS_LANGUAGES,
    limit: ANALYSIS_LIMIT,
    segments: an.first.segments,
    phrases: an.first.cache.phrases_computed,
    tokens: an.first.tokens,
    skipped: an.first.skipped,
    first_wall_s: round(an.first.wall_s, 2),
    first_others_cpu_pct: an.first.others_cpu_pct,
    first_cache_seconds: an.first.cache.seconds,
    tokens_per_s_incl_load: round(anTokens / an.first.wall_s, 2),
    second_wall_s: round(an.second.wall_s, 3),
    second_cache_seconds: an.second.cache.seconds,
    second_phrases_cached: an.second.cache.phrases_cached,
    second_phrases_computed: an.second.cache.phrases_computed,
    bytes_per_phrase: an.first.cache.bytes_per_phrase,
    cache_rows: an.cache_rows,
    active_features_per_phrase_and_sae: round(an.active_features_per_row, 1),
    active_share_of_width: round(an.active_features_per_row / WIDTH, 3),
    kept_features_per_phrase_and_sae: round(an.kept_features_per_row, 1),
    bytes_per_phrase_parts: Object.fromEntries(Object.entries(an.bytes_per_phrase_parts).map(([k, v]) => [k, Math.round(v)])),
    db_mb: round(an.db_bytes / 2 ** 20, 2),
    peak_rss_mb: mb(an.max_rss_bytes),
    stages: an.first.stages,
  });
  if (process.env.BENCH_ANALYZE_KEEP_DB !== '1') for (const f of [dbPath, `${dbPath}-wal`, `${dbPath}-shm`]) rmSync(f, { force: true });

  // 3. The peer, after ours have exited.
  const peer = await quietest('analyze', 'peer', () => runPeer(folder.path, files, bs, c.bosTokenId, dirname(dir), 'float32'), (r) => (r.result ? worstOthers(r.result.timings) : 0));
  let hf: Figures | null = null;
  let agreement: ReturnType<typeof compare> | null = null;
  if (peer.result) {
    const r = peer.result;
    hf = report(`peer (transformers ${r.transformers}, torch ${r.torch}, eager, ${r.threads} threads; SAEs memory-mapped)`, r, true);
    emit({ bench: 'analyze', step: 'memory', impl: 'peer', load_ms: r.load_ms, peak_rss_mb: mb(r.max_rss_bytes) });
    agreement = compare(exChild.check, r.check);
    emit({ bench: 'analyze', step: 'agreement', batch: '8x32', ...agreement });
  } else {
    emit({ bench: 'analyze', step: 'run', impl: 'peer', skipped: peer.skipped });
  }
  const peerBf16 = await quietest('analyze', 'peer-bf16', () => runPeer(folder.path, files, bs, c.bosTokenId, dirname(dir), 'bfloat16'), (r) => (r.result ? worstOthers(r.result.timings) : 0));
  let hfBf16: Figures | null = null;
  let bf16Agreement: ReturnType<typeof compare> | null = null;
  if (peerBf16.result) {
    const r = peerBf16.result;
    hfBf16 = report(`peer bfloat16 (transformers ${r.transformers}, torch ${r.torch}, eager, ${r.threads} threads; SAEs float32, memory-mapped)`, r, true);
    emit({ bench: 'analyze', step: 'memory', impl: 'peer bfloat16', load_ms: r.load_ms, peak_rss_mb: mb(r.max_rss_bytes) });
    bf16Agreement = compare(exChild.check, r.check);
    emit({ bench: 'analyze', step: 'agreement', of: 'peer bfloat16 vs ours float32', batch: '8x32', ...bf16Agreement });
  } else {
    emit({ bench: 'analyze', step: 'run', impl: 'peer bfloat16', skipped: peerBf16.skipped });
  }
  const rows: [string, Figures | null][] = [['ours float32', ex], ['ours fast (int8)', fx], ['HF float32', hf], ['HF bfloat16', hfBf16]];
  const width = Math.max(...rows.map(([n]) => n.length));
  process.stderr.write(`${['extraction tokens/s'.padEnd(width) + bs.map((b) => b.name.padStart(12)).join(''), ...rows.map(([n, f]) => n.padEnd(width) + bs.map((b) => (f ? f[b.name].tps.toFixed(2) : '-').padStart(12)).join(''))].join('\n')}\n`);

  const main = '8x32';
  const others = [gemmOthers, an.first.others_cpu_pct, ...[fwd, ex, fx, hf, hfBf16].flatMap((fs) => (fs ? Object.values(fs).map((f) => f.others) : []))];
  const worst = Math.max(...others.map((o) => o ?? 0));
  return {
    machine: m.cpu,
    cores: m.cores,
    memory_gib: m.memory_gib,
    matrix_features: cpu.features,
    matrix_flags: cpu.flags,
    model: 'random Gemma-2-2B, f32; 26 random JumpReLU SAEs of width 16384 on blocks.L.hook_resid_post',
    batch: `${main}: 8 phrases x 32 random ids; also udhr-en-8: 8 English UDHR paragraphs (tokenizer, BOS, <= 128 tokens, right-padded)`,
    flops_formula: EXTRACT_FLOP_FORMULA,
    gemm_gflops: round(gemm.gflops, 1),
    extract_tokens_per_s: round(ex[main].tps, 2),
    forward_tokens_per_s: round(fwd[main].tps, 2),
    extract_over_forward: round(ex[main].tps / fwd[main].tps, 3),
    roofline_ratio: round(ex[main].roofline, 3),
    forward_roofline_ratio: round(fwd[main].roofline, 3),
    sae_gemm_gflops: round(saeRef.gflops, 1),
    roofline_ratio_vs_sae_gemm: round(ex[main].rooflineSae, 3),
    extract_tokens_per_s_udhr: round(ex['udhr-en-8'].tps, 2),
    forward_tokens_per_s_udhr: round(fwd['udhr-en-8'].tps, 2),
    roofline_ratio_udhr: round(ex['udhr-en-8'].roofline, 3),
    extract_peak_rss_mb: mb(exPeak),
    forward_peak_rss_mb: mb(fwdPeak),
    mapped_weight_mb: mb(weightBytes + saeBytes),
    cache_bytes_per_phrase: an.first.cache.bytes_per_phrase,
    cache_active_features_per_phrase_and_sae: round(an.active_features_per_row, 1),
    cache_kept_features_per_phrase_and_sae: round(an.kept_features_per_row, 1),
    cached_rerun_speedup: round(speedup, 1),
    cached_rerun_formula: 'wall seconds of analysis.run (en, hi, ml; fresh database) / the identical call again in the same process (every phrase cached)',
    analysis_first_s: round(an.first.wall_s, 1),
    analysis_second_s: round(an.second.wall_s, 3),
    analysis_tokens_per_s_incl_load: round(anTokens / an.first.wall_s, 2),
    peer_tokens_per_s: hf && round(hf[main].tps, 2),
    speedup_vs_peer: hf && round(ex[main].tps / hf[main].tps, 3),
    peer_tokens_per_s_udhr: hf && round(hf['udhr-en-8'].tps, 2),
    speedup_vs_peer_udhr: hf && round(ex['udhr-en-8'].tps / hf['udhr-en-8'].tps, 3),
    peer_agreement: agreement,
    ...(peer.skipped ? { peer_skipped: peer.skipped } : {}),
    fast_extract_tokens_per_s: round(fx[main].tps, 2),
    fast_extract_tokens_per_s_udhr: round(fx['udhr-en-8'].tps, 2),
    fast_over_float32: round(fx[main].tps / ex[main].tps, 3),
    fast_extract_peak_rss_mb: mb(fxPeak),
    fast_load_ms: fxChild.load_ms,
    fast_vs_float32_agreement: fastAgreement,
    peer_bf16_tokens_per_s: hfBf16 && round(hfBf16[main].tps, 2),
    peer_bf16_tokens_per_s_udhr: hfBf16 && round(hfBf16['udhr-en-8'].tps, 2),
    fast_vs_peer_bf16: hfBf16 && round(fx[main].tps / hfBf16[main].tps, 3),
    fast_vs_peer_bf16_udhr: hfBf16 && round(fx['udhr-en-8'].tps / hfBf16['udhr-en-8'].tps, 3),
    peer_bf16_agreement: bf16Agreement,
    ...(peerBf16.skipped ? { peer_bf16_skipped: peerBf16.skipped } : {}),
    others_cpu_pct_max: worst,
    ...(worst > CONTENDED_PCT ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
    bench_s: Math.round((performance.now() - started) / 1000),
    targets: { roofline_ratio: '>= 0.5', cache_bytes_per_phrase: '<= 65536', cached_rerun_speedup: '>= 100', speedup_vs_peer: '> 1', fast_vs_peer_bf16: '> 1' },
    targets_met: {
      roofline_ratio: ex[main].roofline >= 0.5,
      cache_bytes_per_phrase: an.first.cache.bytes_per_phrase <= 65536,
      cached_rerun_speedup: speedup >= 100,
      speedup_vs_peer: hf ? ex[main].tps / hf[main].tps > 1 : null,
      fast_vs_peer_bf16: hfBf16 ? fx[main].tps / hfBf16[main].tps > 1 : null,
    },
  };
}


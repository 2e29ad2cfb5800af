// Engine figures: the ORT GEMM roofline on this machine, and a Gemma-2-sized MLP block with
// rank-16 LoRA on gate/up/down (T = 64): forward, forward+backward (LoRA gradients only), ratio.
import { gradients } from '../src/main/engine/autodiff';
import { Graph, type Value } from '../src/main/engine/graph';
import { add, geluTanh, mul } from '../src/main/engine/ops/elementwise';
import { matmul } from '../src/main/engine/ops/linalg';
import { reduceSum } from '../src/main/engine/ops/reduce';
import { EngineSession, type HostTensor } from '../src/main/engine/session';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { readWeightIndex, writeSafetensors } from '../src/main/io/safetensors';
import { RuntimeHost } from '../src/main/engine/runtime-host';
import { WeightFolder } from '../src/main/engine/weights';
import { CONTENDED_PCT, emit, machine, quietest, withOthers } from './machine';

const D = 2304;
const FF = 9216;
const RANK = 16;
const T = 64;

function randomF32(n: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

const weight = (g: Graph, name: string, rows: number, cols: number, seed: number) =>
  g.initializer(name, 'float32', [rows, cols], new Uint8Array(randomF32(rows * cols, 1 / Math.sqrt(rows), seed).buffer));

async function timeRuns(session: EngineSession, feeds: Record<string, HostTensor>, fetches: string[], repeats: number): Promise<number> {
  await session.run(feeds, fetches); // warm-up: prepacking, allocations
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await session.run(feeds, fetches);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The roofline the other figures are measured against: one MatMul [256, D] x [D, FF] (a
 * Gemma-2-2B MLP projection; weights prepacked, onnxruntime's defaults), median of 10 runs after
 * a warm-up. Emits a `gemm` step line tagged with `bench`. */
export async function gemmRoofline(bench: string): Promise<{ ms: number; gflops: number }> {
  const gemm = new Graph('gemm');
  const a = gemm.input('a', 'float32', [256, D]);
  gemm.output(matmul(a, weight(gemm, 'w', D, FF, 1)), 'y');
  const gemmSession = await EngineSession.create(gemm.toModel());
  const gemmMs = await timeRuns(gemmSession, { a: { dtype: 'float32', dims: [256, D], data: randomF32(256 * D, 1, 2) } }, ['y'], 10);
  await gemmSession.release();
  const gemmGflops = (2 * 256 * D * FF) / (gemmMs * 1e6);
  emit({ bench, step: 'gemm', shape: `[256,${D}]x[${D},${FF}]`, ms: Number(gemmMs.toFixed(2)), gflops: Number(gemmGflops.toFixed(1)) });
  return { ms: gemmMs, gflops: gemmGflops };
}

export async function benchEngine(): Promise<Record<string, unknown>> {
  emit({ bench: 'engine', machine: machine() });

  const quiet = <T extends object>(label: string, measure: () => Promise<T>) => quietest('engine', label, () => withOthers(measure), (r) => r.others_cpu_pct);
  const gemm = await quiet('gemm', () => gemmRoofline('engine'));
  const gemmGflops = gemm.gflops;

  // MLP block with LoRA: y = down(gelu(gate(x)) * up(x)), proj(x) = x W + (x A) B.
  const g = new Graph('mlp-lora');
  const x = g.input('x', 'float32', [T, D]);
  const lora: Value[] = [];
  const proj = (input: Value, name: string, rows: number, cols: number, seed: number) => {
    const A = g.input(`${name}.lora_A`, 'float32', [rows, RANK]);
    const B = g.input(`${name}.lora_B`, 'float32', [RANK, cols]);
    lora.push(A, B);
    return add(matmul(input, weight(g, `${name}.weight`, rows, cols, seed)), matmul(matmul(input, A), B));
  };
  const y = proj(mul(geluTanh(proj(x, 'gate', D, FF, 3)), proj(x, 'up', D, FF, 4)), 'down', FF, D, 5);
  g.output(y, 'y');
  // ORT computes every declared output whatever is fetched: forward and backward are two models
  // from the same tape (export keeps only the nodes its outputs need).
  const forward = await EngineSession.create(g.toModel());
  const loss = reduceSum(mul(y, g.constant(randomF32(T * D, 1, 6), 'float32', [T, D])), [0, 1], false);
  g.outputs.length = 0;
  g.output(loss, 'loss');
  gradients(loss, lora).forEach((d, i) => g.output(d, `d_${lora[i].name}`));
  const session = await EngineSession.create(g.toModel());
  const feeds: Record<string, HostTensor> = { x: { dtype: 'float32', dims: [T, D], data: randomF32(T * D, 1, 7) } };
  for (const [i, p] of lora.entries()) {
    feeds[p.name] = { dtype: 'float32', dims: p.shape as number[], data: randomF32((p.shape as number[]).reduce((m, n) => m * n, 1), 0.01, 10 + i) };
  }
  const mlp = await quiet('mlp_lora', async () => ({
    fwdMs: await timeRuns(forward, feeds, ['y'], 10),
    fwdBwdMs: await timeRuns(session, feeds, ['loss', ...lora.map((p) => `d_${p.name}`)], 10),
  }));
  const { fwdMs, fwdBwdMs } = mlp;
  await forward.release();
  await session.release();
  const mlpFlops = 2 * T * D * FF * 3;
  emit({ bench: 'engine', step: 'mlp_lora', T, rank: RANK, fwd_ms: Number(fwdMs.toFixed(2)), fwdbwd_ms: Number(fwdBwdMs.toFixed(2)), fwd_gflops: Number((mlpFlops / (fwdMs * 1e6)).toFixed(1)), others_cpu_pct: mlp.others_cpu_pct });

  const overhead = await quiet('matmul_overhead', matmulOverhead);
  const zeroCopy = await zeroCopyLoad();
  const worst = Math.max(gemm.others_cpu_pct ?? 0, mlp.others_cpu_pct ?? 0, overhead.others_cpu_pct ?? 0);
  return {
    machine: machine().cpu,
    gemm_gflops: Number(gemmGflops.toFixed(1)),
    mlp_fwd_ms: Number(fwdMs.toFixed(2)),
    mlp_fwdbwd_ms: Number(fwdBwdMs.toFixed(2)),
    fwdbwd_over_fwd: Number((fwdBwdMs / fwdMs).toFixed(2)),
    mlp_fwd_roofline_ratio: Number((mlpFlops / (fwdMs * 1e6) / gemmGflops).toFixed(3)),
    matmul_overhead_engine_pct: overhead.enginePct,
    matmul_overhead_worker_pct: overhead.workerPct,
    rss_mb_over_weights: zeroCopy.mapped.ratio,
    rss_mb_over_weights_prepacked: zeroCopy.prepacked.ratio,
    others_cpu_pct_max: worst,
    ...(worst > CONTENDED_PCT ? { warning: `other processes kept up to ${worst}% of the cores busy during timed runs: these figures are not reliable, run again on a quiet machine` } : {}),
  };
}

/** Our MatMul graph through EngineSession and through the compute worker vs the same MatMul
 * run by bare onnxruntime-node (its own Tensor objects, no wrapper), interleaved so drift
 * affects all three alike. */
async function matmulOverhead(): Promise<{ enginePct: number; workerPct: number }> {
  const g = new Graph('gemm');
  const a = g.input('a', 'float32', [256, D]);
  g.output(matmul(a, weight(g, 'w', D, FF, 1)), 'y');
  const model = g.toModel();
  const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } } as ort.InferenceSession.SessionOptions;
  const bare = await ort.InferenceSession.create(model, options);
  const engine = await EngineSession.create(model, { provider: 'cpu' });
  const host = new RuntimeHost();
  const remote = await host.load(model, { provider: 'cpu' });
  const data = randomF32(256 * D, 1, 2);
  const feeds = { a: { dtype: 'float32' as const, dims: [256, D], data } };
  const times = { bare: [] as number[], engine: [] as number[], worker: [] as number[] };
  const timed = async (list: number[], run: () => Promise<unknown>) => {
    const t0 = performance.now();
    await run();
    list.push(performance.now() - t0);
  };
  for (let i = 0; i < 13; i++) {
    await timed(times.bare, () => bare.run({ a: new ort.Tensor('float32', data, [256, D]) }));
    await timed(times.engine, () => engine.run(feeds));
    await timed(times.worker, () => remote.run(feeds));
  }
  await Promise.all([bare.release(), engine.release(), remote.release()]);
  await host.close();
  const median = (xs: number[]) => [...xs.slice(3)].sort((p, q) => p - q)[Math.floor((xs.length - 3) / 2)];
  const [b, e, w] = [median(times.bare), median(times.engine), median(times.worker)];
  const pct = (x: number) => Number((((x - b) / b) * 100).toFixed(1));
  emit({ bench: 'engine', step: 'matmul_overhead', bare_ms: Number(b.toFixed(2)), engine_ms: Number(e.toFixed(2)), worker_ms: Number(w.toFixed(2)), engine_pct: pct(e), worker_pct: pct(w) });
  return { enginePct: pct(e), workerPct: pct(w) };
}

const ZERO_COPY_TENSORS = 12; // 12 x [2304, 9216] f32 = 1.02 GB

interface ZeroCopyFigure {
  ratio: number;
  rss_growth_mb: number;
  load_ms: number;
}

/** Writes a 1 GB safetensors file and loads it in fresh processes, with MatMul weights kept
 * memory-mapped (prepacking off: the product's setting for big models) and prepacked. */
async function zeroCopyLoad(): Promise<{ mapped: ZeroCopyFigure; prepacked: ZeroCopyFigure }> {
  const dir = mkdtempSync(join(tmpdir(), 'linguascope-zero-copy-'));
  try {
    const file = join(dir, 'model.safetensors');
    writeSafetensors(
      file,
      Array.from({ length: ZERO_COPY_TENSORS }, (_, i) => ({ name: `w${i}`, dtype: 'F32' as const, shape: [D, FF], data: randomF32(D * FF, 0.02, 100 + i) })),
    );
    const weightBytes = statSync(file).size;
    const child = (mode: string): ZeroCopyFigure => {
      const out = execFileSync(process.execPath, [process.argv[1], ZERO_COPY_CHILD, dir, mode], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as { rss_growth: number; load_ms: number };
      return { ratio: Number((r.rss_growth / weightBytes).toFixed(3)), rss_growth_mb: Math.round(r.rss_growth / 2 ** 20), load_ms: Math.round(r.load_ms) };
    };
    const mapped = child('mapped');
    const prepacked = child('prepacked');
    emit({ bench: 'engine', step: 'zero_copy_load', weight_mb: Math.round(weightBytes / 2 ** 20), mapped, prepacked });
    return { mapped, prepacked };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const ZERO_COPY_CHILD = '__zero-copy-child';

/** In a fresh process: resident memory before and after loading and running the 1 GB graph. */
export async function zeroCopyChild(dir: string, mode: string): Promise<void> {
  const index = readWeightIndex(dir);
  const g = new Graph('zero-copy');
  const x = g.input('x', 'float32', [1, D]);
  const weights = new WeightFolder(dir, index, g);
  const ys = Array.from({ length: ZERO_COPY_TENSORS }, (_, i) => matmul(x, weights.get(`w${i}`, { shape: [D, FF] })));
  g.output(g.op1('Concat', ys, { axis: 0 }), 'y');
  const model = g.toModel();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const session = await EngineSession.create(model, { provider: 'cpu', externalDataFolder: dir, disablePrepacking: mode === 'mapped' });
  await session.run({ x: { dtype: 'float32', dims: [1, D], data: randomF32(D, 1, 3) } });
  const loadMs = performance.now() - t0;
  console.log(JSON.stringify({ rss_growth: process.memoryUsage().rss - before, load_ms: loadMs }));
}

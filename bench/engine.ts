// Engine figures: the ORT GEMM roofline on this machine, and a Gemma-2-sized MLP block with
// rank-16 LoRA on gate/up/down (T = 64): forward, forward+backward (LoRA gradients only), ratio.
import { gradients } from '../src/main/engine/autodiff';
import { Graph, type Value } from '../src/main/engine/graph';
import { add, geluTanh, mul } from '../src/main/engine/ops/elementwise';
import { matmul } from '../src/main/engine/ops/linalg';
import { reduceSum } from '../src/main/engine/ops/reduce';
import { EngineSession, type HostTensor } from '../src/main/engine/session';
import { emit, machine } from './machine';

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

export async function benchEngine(): Promise<Record<string, unknown>> {
  emit({ bench: 'engine', machine: machine() });

  // Roofline: one MatMul [256, D] x [D, FF].
  const gemm = new Graph('gemm');
  const a = gemm.input('a', 'float32', [256, D]);
  gemm.output(matmul(a, weight(gemm, 'w', D, FF, 1)), 'y');
  const gemmSession = await EngineSession.create(gemm.toModel());
  const gemmMs = await timeRuns(gemmSession, { a: { dtype: 'float32', dims: [256, D], data: randomF32(256 * D, 1, 2) } }, ['y'], 10);
  await gemmSession.release();
  const gemmGflops = (2 * 256 * D * FF) / (gemmMs * 1e6);
  emit({ bench: 'engine', step: 'gemm', shape: `[256,${D}]x[${D},${FF}]`, ms: Number(gemmMs.toFixed(2)), gflops: Number(gemmGflops.toFixed(1)) });

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
  const fwdMs = await timeRuns(forward, feeds, ['y'], 10);
  await forward.release();
  const fwdBwdMs = await timeRuns(session, feeds, ['loss', ...lora.map((p) => `d_${p.name}`)], 10);
  await session.release();
  const mlpFlops = 2 * T * D * FF * 3;
  emit({ bench: 'engine', step: 'mlp_lora', T, rank: RANK, fwd_ms: Number(fwdMs.toFixed(2)), fwdbwd_ms: Number(fwdBwdMs.toFixed(2)), fwd_gflops: Number((mlpFlops / (fwdMs * 1e6)).toFixed(1)) });

  return {
    machine: machine().cpu,
    gemm_gflops: Number(gemmGflops.toFixed(1)),
    mlp_fwd_ms: Number(fwdMs.toFixed(2)),
    mlp_fwdbwd_ms: Number(fwdBwdMs.toFixed(2)),
    fwdbwd_over_fwd: Number((fwdBwdMs / fwdMs).toFixed(2)),
    mlp_fwd_roofline_ratio: Number((mlpFlops / (fwdMs * 1e6) / gemmGflops).toFixed(3)),
    rss_mb_over_weights: null, // zero-copy safetensors loading is not built yet (issue 3, next part)
  };
}

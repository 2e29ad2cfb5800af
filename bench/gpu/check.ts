// The GPU check of issue 17, in one run on a machine with a GPU (bench/gpu/run.sh starts it):
//   1. which GPU execution providers start (CUDA, WebGPU; the product's own probe);
//   2. fidelity on the HF fixtures (test/fixtures/models): our float32 graph on the GPU against
//      transformers float32 (max abs ≤ 1e-4, the CPU's bound) and against our CPU float32; our
//      float16 graph on the GPU against transformers float16 and float32 (relative RMS ≤ 5e-3,
//      forward-f16.test.ts's bound, there checked on the CPU);
//   3. speed on a full-size random Gemma-2-2B (bench/forward.ts's folder; 26 resid_post hooks, no
//      logits): tokens/s in float32 and float16 per shape, the float16 hooks' relative RMS from the
//      float32 ones, GPU float32 against CPU float32 on one shape, and PyTorch on the same GPU
//      (bench/peer/hf_forward_gpu.py: float32, float16, bfloat16) for the same shapes and ids.
// Sessions run in this thread (EngineSession, the product's primitive under the compute worker), so
// the check needs no electron-vite build. Every figure goes into one JSON file (--out, default
// $OUT/gpu-check.json). Exit 0 ok; 1 a bound failed or a run broke (the file says which); 2 bad
// arguments; 3 no requested GPU provider started: one line naming each and why, nothing measured.
//
// argv (`npm run bench -- gpu …`, or `node out/main/bench.js gpu …`): [--providers cuda,webgpu]
// [--out FILE] [--no-full] [--no-peer] [--repeats N] [--model DIR: time this folder instead]
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EngineSession, type HostTensor } from '../../src/main/engine/session';
import { machineInfo, probeProviders, type ProviderName, type ProviderReport } from '../../src/main/engine/providers';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes } from '../../src/main/io/safetensors';
import { buildForwardGraph, hookName, HOOK_KINDS, type ComputeDtype } from '../../src/main/models/forward';
import { decoderFeeds, openModelFolder, type ModelFolder } from '../../src/main/models/model';
import { ensureModel, phrases } from '../forward';

// 'cpu' is accepted as a dry run of this check's own code on a machine without a GPU (its figures
// are CPU figures and say so: every result is keyed by the provider that ran it).
const LABEL: Record<string, string> = { cuda: 'CUDA', webgpu: 'WebGPU', dml: 'DirectML', coreml: 'CoreML', cpu: 'CPU' };
const FIXTURES = ['gemma2', 'gemma2-bf16', 'llama', 'mistral', 'qwen2'];
const F16_FIXTURES = ['gemma2', 'llama', 'mistral', 'qwen2'];
const F32_MAX_ABS = 1e-4;
const F16_REL_RMS = 5e-3;
const SHAPES = [
  { name: '8x32', batch: 8, seq: 32 },
  { name: '1x128', batch: 1, seq: 128 },
  { name: '32x128', batch: 32, seq: 128 },
];

export interface CheckArgs {
  providers: ProviderName[];
  out: string;
  full: boolean;
  peer: boolean;
  repeats: number;
  /** A model folder to time instead of the random full-size Gemma-2-2B (dry runs, users' models). */
  model?: string;
}

export function parseArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CheckArgs {
  const args: CheckArgs = { providers: ['cuda', 'webgpu'], out: join(env.OUT ?? '.', 'gpu-check.json'), full: true, peer: true, repeats: 5 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--providers') {
      const names = value().split(',').map((s) => s.trim());
      for (const n of names) if (!(n in LABEL)) throw new Error(`--providers: "${n}" is not an execution provider (cuda, webgpu, dml, coreml; cpu for a dry run)`);
      args.providers = names as ProviderName[];
    } else if (a === '--out') args.out = resolve(value());
    else if (a === '--no-full') args.full = false;
    else if (a === '--model') args.model = resolve(value());
    else if (a === '--no-peer') args.peer = false;
    else if (a === '--repeats') {
      args.repeats = Number(value());
      if (!Number.isInteger(args.repeats) || args.repeats < 1 || args.repeats > 100) throw new Error('--repeats: an integer from 1 to 100');
    } else throw new Error(`unknown argument "${a}" (--providers, --out, --no-full, --no-peer, --repeats, --model)`);
  }
  return args;
}

/** One line naming each requested provider that did not start and why; null when one did. */
export function noProviderLine(requested: readonly ProviderName[], reports: readonly ProviderReport[]): string | null {
  const missing = requested.map((name) => reports.find((r) => r.name === name) ?? { name, available: false, detail: 'not probed', probeMs: 0 });
  if (missing.some((r) => r.available)) return null;
  return `gpu-check: ${missing.map((r) => `no ${LABEL[r.name]} provider (${r.detail})`).join('; ')}; nothing was measured`;
}

function relRms(ours: Float32Array, ref: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num += (ours[i] - ref[i]) ** 2;
    den += ref[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A fixture's phrases and its reference rows at the real tokens (as model.test.ts reads them). */
function reference(dir: string, file: string) {
  const header = readSafetensorsHeader(join(dir, file));
  const ids = new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer);
  const mask = new BigInt64Array(readTensorBytes(header.tensors.get('attention_mask')!).slice().buffer);
  const [B, T] = header.tensors.get('input_ids')!.shape;
  const phrases: number[][] = [];
  for (let b = 0; b < B; b++) phrases.push([...Array(T).keys()].filter((t) => mask[b * T + t] === 1n).map((t) => Number(ids[b * T + t])));
  const rows = (name: string): Float32Array => {
    const entry = header.tensors.get(name)!;
    const W = entry.shape[2];
    const all = readTensorAsFloat32(entry);
    const out: number[] = [];
    for (let b = 0; b < B; b++) for (let t = 0; t < phrases[b].length; t++) out.push(...all.subarray((b * T + t) * W, (b * T + t + 1) * W));
    return Float32Array.from(out);
  };
  return { phrases, rows };
}

interface Loaded {
  session: EngineSession;
  maskWindows: (number | null)[];
  loadMs: number;
}

/** The decoder on exactly `provider`: a session that fell back to the CPU is an error here. */
async function load(folder: ModelFolder, provider: ProviderName | 'cpu', hooks: string[], logits: boolean, dtype: ComputeDtype): Promise<Loaded> {
  const t0 = performance.now();
  const built = buildForwardGraph(folder.config, folder.path, folder.index, { hooks, logits, dtype });
  const session = await EngineSession.create(built.graph.toModel(), { provider, externalDataFolder: folder.path, disablePrepacking: provider === 'cpu' });
  if (session.provider !== provider) {
    await session.release();
    throw new Error(`the ${dtype} graph did not start on ${provider}: ${session.attempts.map((a) => `${a.name}: ${a.ok ? 'used' : a.detail}`).join('; ')}`);
  }
  return { session, maskWindows: built.maskWindows, loadMs: performance.now() - t0 };
}

async function run(m: Loaded, folder: ModelFolder, phrases: number[][]): Promise<Record<string, HostTensor>> {
  return m.session.run(decoderFeeds(folder.config, phrases, m.maskWindows));
}

async function fixtureFidelity(root: string, provider: ProviderName) {
  const rows: Record<string, unknown>[] = [];
  let ok = true;
  for (const name of FIXTURES) {
    const dir = join(root, 'test', 'fixtures', 'models', name);
    const folder = openModelFolder(dir);
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat();
    const outs = [...hooks, 'logits'];
    const ref32 = reference(dir, 'reference.safetensors');
    const gpu32 = await load(folder, provider, hooks, true, 'float32');
    const cpu32 = await load(folder, 'cpu', hooks, true, 'float32');
    const g32 = await run(gpu32, folder, ref32.phrases);
    const c32 = await run(cpu32, folder, ref32.phrases);
    await gpu32.session.release();
    await cpu32.session.release();
    const row: Record<string, unknown> = {
      fixture: name,
      f32_vs_hf_max_abs: Math.max(...outs.map((o) => maxAbs(g32[o].data as Float32Array, ref32.rows(o)))),
      f32_vs_cpu_max_abs: Math.max(...outs.map((o) => maxAbs(g32[o].data as Float32Array, c32[o].data as Float32Array))),
    };
    ok &&= (row.f32_vs_hf_max_abs as number) <= F32_MAX_ABS;
    if (F16_FIXTURES.includes(name)) {
      const ref16 = reference(dir, 'reference-f16.safetensors');
      const gpu16 = await load(folder, provider, hooks, true, 'float16');
      const g16 = await run(gpu16, folder, ref16.phrases);
      await gpu16.session.release();
      row.f16_vs_hf_f16_rel_rms = Math.max(...outs.map((o) => relRms(g16[o].data as Float32Array, ref16.rows(o))));
      row.f16_vs_hf_f32_rel_rms = Math.max(...outs.map((o) => relRms(g16[o].data as Float32Array, ref32.rows(o))));
      ok &&= (row.f16_vs_hf_f16_rel_rms as number) <= F16_REL_RMS && (row.f16_vs_hf_f32_rel_rms as number) <= F16_REL_RMS;
    }
    rows.push(row);
    console.log(JSON.stringify({ check: 'fixture', provider, ...row }));
  }
  return { ok, rows };
}

async function timed(m: Loaded, folder: ModelFolder, phrases: number[][], repeats: number) {
  const w0 = performance.now();
  const first = await run(m, folder, phrases);
  const warmupMs = performance.now() - w0;
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await run(m, folder, phrases);
    ms.push(performance.now() - t0);
  }
  const median = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)];
  const tokens = phrases.length * phrases[0].length;
  return { outputs: first, warmup_ms: Math.round(warmupMs), median_ms: Number(median.toFixed(1)), tokens_per_s: Number(((tokens / median) * 1000).toFixed(1)) };
}

async function fullSize(provider: ProviderName, repeats: number, model?: string) {
  const folder = model ? openModelFolder(model) : (await ensureModel()).folder;
  const c = folder.config;
  const hooks = Array.from({ length: c.numLayers }, (_, L) => hookName(L, 'resid_post'));
  const result: Record<string, unknown> = { model: folder.path, hooks: hooks.length };
  const f32 = await load(folder, provider, hooks, false, 'float32');
  const f16 = await load(folder, provider, hooks, false, 'float16');
  result.load_ms = { float32: Math.round(f32.loadMs), float16: Math.round(f16.loadMs) };
  const shapes: Record<string, unknown> = {};
  let reference: Record<string, HostTensor> | undefined;
  for (const [i, shape] of SHAPES.entries()) {
    // The peer's ids: bench/forward.ts's LCG seeded 1000 + shape index.
    const ids = phrases(shape.batch, shape.seq, c.vocabSize, 1000 + i);
    const a = await timed(f32, folder, ids, repeats);
    const b = await timed(f16, folder, ids, repeats);
    if (shape.name === '8x32') reference = a.outputs;
    shapes[shape.name] = {
      float32: { median_ms: a.median_ms, warmup_ms: a.warmup_ms, tokens_per_s: a.tokens_per_s },
      float16: { median_ms: b.median_ms, warmup_ms: b.warmup_ms, tokens_per_s: b.tokens_per_s },
      f16_vs_f32_worst_rel_rms: Math.max(...hooks.map((h) => relRms(b.outputs[h].data as Float32Array, a.outputs[h].data as Float32Array))),
    };
    console.log(JSON.stringify({ check: 'speed', provider, shape: shape.name, ...(shapes[shape.name] as object) }));
  }
  await f32.session.release();
  await f16.session.release();
  // GPU float32 against the CPU's float32 on the first shape (the CPU is slow at full size).
  const cpu = await load(folder, 'cpu', hooks, false, 'float32');
  const cpuOut = await run(cpu, folder, phrases(8, 32, c.vocabSize, 1000));
  await cpu.session.release();
  result.gpu_f32_vs_cpu_f32_8x32 = {
    worst_rel_rms: Math.max(...hooks.map((h) => relRms(reference![h].data as Float32Array, cpuOut[h].data as Float32Array))),
    worst_max_abs: Math.max(...hooks.map((h) => maxAbs(reference![h].data as Float32Array, cpuOut[h].data as Float32Array))),
  };
  result.shapes = shapes;
  return { folder, result };
}

function peer(root: string, folder: string, repeats: number): Record<string, unknown> {
  const python = process.env.BENCH_PYTHON ?? 'python3';
  const shapes = SHAPES.map((s) => `${s.name}:${s.batch}:${s.seq}`).join(',');
  const p = spawnSync(python, [join(root, 'bench', 'peer', 'hf_forward_gpu.py'), folder, String(repeats), shapes], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (p.status !== 0) return { skipped: `peer failed: ${(p.stderr || p.error?.message || '').trim().split('\n').at(-1)}` };
  return JSON.parse(p.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

export async function gpuCheck(argv: readonly string[]): Promise<number> {
  let args: CheckArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(`gpu-check: ${(error as Error).message}`);
    return 2;
  }
  // The repository root (fixtures, the peer script): run.sh runs us from there.
  const root = resolve(process.env.LINGUASCOPE_ROOT ?? '.');
  const reports = await probeProviders();
  const report: Record<string, unknown> = { machine: machineInfo(), providers: reports, requested: args.providers };
  const write = (status: string) => {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(args.out, `${JSON.stringify({ status, ...report }, null, 1)}\n`);
  };
  const none = noProviderLine(args.providers, reports);
  if (none) {
    write('no_gpu_provider');
    console.error(none);
    return 3;
  }
  let ok = true;
  const results: Record<string, unknown> = {};
  for (const provider of args.providers.filter((p) => reports.find((r) => r.name === p)?.available)) {
    const entry: Record<string, unknown> = {};
    try {
      const fid = await fixtureFidelity(root, provider);
      entry.fidelity = { bounds: { f32_vs_hf_max_abs: F32_MAX_ABS, f16_rel_rms: F16_REL_RMS }, passed: fid.ok, fixtures: fid.rows };
      ok &&= fid.ok;
      if (args.full) {
        const full = await fullSize(provider, args.repeats, args.model);
        entry.full_size = full.result;
        if (args.peer && !results.pytorch) results.pytorch = peer(root, full.folder.path, args.repeats);
      }
    } catch (error) {
      ok = false;
      entry.error = (error as Error).message;
      console.error(`gpu-check: ${provider}: ${(error as Error).message}`);
    }
    results[provider] = entry;
    report.results = results;
    write(ok ? 'ok' : 'failed');
  }
  console.log(`gpu-check: ${ok ? 'ok' : 'FAILED'}; figures in ${args.out}`);
  return ok ? 0 : 1;
}

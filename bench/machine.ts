import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** Where a figure was measured, printed with every benchmark. */
export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The /proc/cpuinfo flags that decide which matrix kernels run: onnxruntime's int8 GEMM uses
 * AVX512-VNNI (AMX-INT8 where present); oneDNN's bfloat16 GEMM under torch uses AVX512-BF16 or
 * AMX-BF16. Every feature is false where /proc/cpuinfo cannot be read (not Linux). */
export const MATRIX_FEATURES = ['avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_tile', 'amx_int8', 'amx_bf16'] as const;

export function matrixFeatures(): { model: string; features: Record<(typeof MATRIX_FEATURES)[number], boolean>; flags: string } {
  let flags: string[] = [];
  try {
    flags = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [];
  } catch {
    // not Linux: no flags to report
  }
  const have = new Set(flags);
  return {
    model: cpus()[0]?.model ?? 'unknown',
    features: Object.fromEntries(MATRIX_FEATURES.map((f) => [f, have.has(f)])) as Record<(typeof MATRIX_FEATURES)[number], boolean>,
    flags: flags.filter((f) => /^(avx512|amx|avx_vnni|avx2$|fma$)/.test(f)).sort().join(' '),
  };
}

export function emit(record: Record<string, unknown>): void {
  console.log(JSON.stringify(record));
}

/** CPU seconds the whole machine spent busy (Linux /proc/stat, USER_HZ = 100) and this process
 * spent (all its threads), to tell how much of the machine others took during a measurement. */
export function cpuSnapshot(): { wall: number; busy: number; own: number } | null {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const { user, system } = process.cpuUsage();
    return { wall: performance.now() / 1000, busy: (total - f[3] - f[4]) / 100, own: (user + system) / 1e6 };
  } catch {
    return null;
  }
}

/** Share of the machine's cores (percent) busy with other processes between two snapshots. */
export function othersCpuPct(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>): number | null {
  if (!a || !b) return null;
  const others = Math.max(0, b.busy - a.busy - (b.own - a.own));
  return Math.round((others / ((b.wall - a.wall) * cpus().length)) * 100);
}

/** Above this share of the cores busy with other processes, a measurement counts as contended. */
export const CONTENDED_PCT = 5;

/** Runs a measurement until it was not contended (at most `tries` times, BENCH_TRIES or 2) and
 * keeps the least contended one; each retry is announced as a `retry` line. */
export async function quietest<T>(bench: string, label: string, measure: () => T | Promise<T>, others: (r: T) => number | null, tries = Number(process.env.BENCH_TRIES ?? 2)): Promise<T> {
  let best: T | null = null;
  let bestOthers = Infinity;
  for (let attempt = 1; attempt <= tries; attempt++) {
    const r = await measure();
    const o = others(r) ?? 0;
    if (o < bestOthers) [best, bestOthers] = [r, o];
    if (o <= CONTENDED_PCT) break;
    if (attempt < tries) emit({ bench, step: 'retry', measurement: label, others_cpu_pct: o, note: 'other processes shared the cores; measuring again' });
  }
  return best!;
}

/** Times `measure` with the share of the cores other processes used meanwhile. */
export async function withOthers<T>(measure: () => Promise<T>): Promise<T & { others_cpu_pct: number | null }> {
  const before = cpuSnapshot();
  const r = await measure();
  return { ...r, others_cpu_pct: othersCpuPct(before, cpuSnapshot()) };
}

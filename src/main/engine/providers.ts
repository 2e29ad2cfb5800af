// Execution providers: which ones this machine can run, in which order we try them, and the
// report of what was tried when a session is created. onnxruntime places every node its chosen
// provider cannot run on the CPU provider by itself, so a session on a GPU provider is always
// complete; a provider that cannot start at all (no library, no adapter) makes us move on.
import { existsSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph } from './graph';
import type { Capabilities, ProviderAttempt, ProviderName, ProviderReport } from '../../shared/dto';

export type { ProviderAttempt, ProviderName, ProviderReport };

/** Preference when the user says "auto": the vendor's own paths first (CUDA, DirectML, CoreML),
 * then WebGPU (portable, runs over Vulkan/Metal/D3D12), then the CPU, which always works. */
export const PROVIDER_PREFERENCE: readonly ProviderName[] = ['cuda', 'dml', 'coreml', 'webgpu', 'cpu'];

const PLATFORMS: Readonly<Record<ProviderName, readonly NodeJS.Platform[] | 'all'>> = {
  cuda: ['linux', 'win32'],
  dml: ['win32'],
  coreml: ['darwin'],
  webgpu: 'all',
  cpu: 'all',
};

const INSTALL_HINT: Readonly<Record<ProviderName, string>> = {
  cuda: 'needs an NVIDIA GPU and its driver, CUDA 12 and cuDNN 9, and onnxruntime-node\'s CUDA provider: with internet access, run `ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install` in the LinguaScope folder (LinguaScope\'s own install never runs that download)',
  dml: 'needs Windows 10+ with a DirectX 12 GPU (bundled in onnxruntime-node for Windows; graphs up to opset 17)',
  coreml: 'needs macOS',
  webgpu: 'needs a GPU and its driver with Vulkan (Debian/Ubuntu: `sudo apt install libvulkan1` plus the GPU vendor\'s Vulkan driver), Metal or D3D12',
  cpu: '',
};

/** The first line of an onnxruntime error, without its source-file prefix. */
export function ortMessage(error: unknown): string {
  let first = ((error as Error)?.message ?? String(error)).split('\n')[0];
  // Failed ORT_ENFORCE checks read "<file>:<line> <function> <condition> was false. <message>".
  const enforced = first.indexOf(' was false. ');
  if (enforced >= 0) first = first.slice(enforced + ' was false. '.length);
  return first.replace(/^\S+\.(cc|h|cpp):\d+\s+\S+\s*/, '').trim() || 'unknown onnxruntime error';
}

const VULKAN_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/lib64'];

/** WebGPU on Linux runs over Vulkan; without the loader library Dawn cannot find any adapter. */
function hasVulkanLoader(): boolean {
  const dirs = [...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...VULKAN_DIRS];
  return dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')));
}

/** Session options shared by every session we create. */
export function baseSessionOptions(provider: ProviderName): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    // 3 = errors only: a provider that cannot start would otherwise print a stack to stderr
    // although we report it ourselves.
    logSeverityLevel: 3,
  };
}

/** A provider whose package binaries are absent or whose platform is wrong: no session is tried. */
export function staticAvailability(name: ProviderName): string | null {
  const platforms = PLATFORMS[name];
  if (platforms !== 'all' && !platforms.includes(process.platform)) {
    return `not built for ${process.platform} (${INSTALL_HINT[name]})`;
  }
  if (name === 'webgpu' && process.platform === 'linux' && !hasVulkanLoader()) {
    return `no Vulkan loader (libvulkan.so.1) on this machine (${INSTALL_HINT[name]})`;
  }
  const backends = ort.listSupportedBackends() as { name: string; bundled: boolean }[];
  if (!backends.some((b) => b.name === name)) return `not part of this onnxruntime-node build (${INSTALL_HINT[name]})`;
  return null;
}

// A 2x2 MatMul: enough to make a provider initialise its device and run a kernel.
function probeModel(): Uint8Array {
  const g = new Graph('probe');
  const x = g.input('x', 'float32', [2, 2]);
  g.output(g.op1('MatMul', [x, g.constant([1, 2, 3, 4], 'float32', [2, 2])]), 'y');
  return g.toModel();
}

async function probeOne(name: ProviderName): Promise<ProviderReport> {
  const reason = staticAvailability(name);
  if (reason) return { name, available: false, detail: reason, probeMs: 0 };
  const t0 = performance.now();
  let session: ort.InferenceSession | undefined;
  try {
    session = await ort.InferenceSession.create(probeModel(), baseSessionOptions(name));
    const x = new ort.Tensor('float32', new Float32Array([1, 1, 1, 1]), [2, 2]);
    const y = (await session.run({ x })).y.data as Float32Array;
    // [[1,1],[1,1]] @ [[1,2],[3,4]] = [[4,6],[4,6]]
    const ok = y.length === 4 && y[0] === 4 && y[1] === 6 && y[2] === 4 && y[3] === 6;
    return {
      name,
      available: ok,
      detail: ok ? 'ran a test MatMul' : `ran a test MatMul but got wrong numbers (${Array.from(y).join(', ')})`,
      probeMs: Math.round(performance.now() - t0),
    };
  } catch (error) {
    return { name, available: false, detail: `${ortMessage(error)} (${INSTALL_HINT[name]})`, probeMs: Math.round(performance.now() - t0) };
  } finally {
    await session?.release();
  }
}

let probed: Promise<ProviderReport[]> | undefined;

// Providers that fail to start log to stderr through onnxruntime's default logger before we can
// report them ourselves; errors still reach us as exceptions.
ort.env.logLevel = 'fatal';

/** Every provider, tried once per process (in preference order) and remembered. */
export function probeProviders(): Promise<ProviderReport[]> {
  probed ??= (async () => {
    const reports: ProviderReport[] = [];
    for (const name of PROVIDER_PREFERENCE) reports.push(await probeOne(name));
    return reports;
  })();
  return probed;
}

export type MachineInfo = Omit<Capabilities, 'providers' | 'preferred'>;

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    platform: `${process.platform}-${process.arch}`,
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    logicalCores: cores.length,
    memoryTotalMb: Math.round(totalmem() / 2 ** 20),
    memoryFreeMb: Math.round(freemem() / 2 ** 20),
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common,
  };
}

/** The order to try for a request: one named provider (then the CPU), or every available one. */
export function providerCandidates(requested: ProviderName | 'auto'): ProviderName[] {
  if (requested === 'auto') return [...PROVIDER_PREFERENCE];
  return requested === 'cpu' ? ['cpu'] : [requested, 'cpu'];
}

export function attemptsSummary(attempts: readonly ProviderAttempt[]): string {
  return attempts.map((a) => (a.ok ? `${a.name}: used` : `${a.name}: ${a.detail}`)).join('; ');
}

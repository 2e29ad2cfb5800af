// The prepared GPU check (bench/gpu/run.sh -> out/main/bench.js gpu) on a machine without a GPU,
// as a device session would start it: where the requested GPU providers do not start, one line
// per run naming each and why, exit 3, a JSON file saying nothing was measured; bad arguments and
// an unusable Node exit with one line; a CPU dry run goes through the whole fidelity code on the
// real fixtures. Skipped where a GPU provider is present (the check would then start measuring).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeProviders } from '../../src/main/engine/providers';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = tempDir();
const reports = await probeProviders();
const gpu = reports.some((r) => (r.name === 'cuda' || r.name === 'webgpu') && r.available);

function check(args: string[], env: Record<string, string> = {}) {
  const out = join(tmp.dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync('bash', [join(ROOT, 'bench', 'gpu', 'run.sh'), ...args], { encoding: 'utf8', env: { ...process.env, OUT: out, ...env }, timeout: 110_000 });
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('building the app'));
  return { code: r.status, stderr, stdout: r.stdout, json: () => JSON.parse(readFileSync(join(out, 'gpu-check.json'), 'utf8')) };
}

describe.skipIf(gpu)('bench/gpu/run.sh without a GPU', () => {
  it.each([
    ['cuda', /^gpu-check: no CUDA provider \(.*CUDA 12 and cuDNN 9.*\); nothing was measured$/],
    ['cuda,webgpu', /^gpu-check: no CUDA provider \(.+\); no WebGPU provider \(.+\); nothing was measured$/],
  ])('--providers %s: exit 3, one line naming each provider and why, JSON status no_gpu_provider', (providers, line) => {
    const r = check(['--providers', providers]);
    expect(r.code, r.stdout).toBe(3);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(line);
    expect(r.stdout).toBe('');
    const json = r.json();
    expect(json.status).toBe('no_gpu_provider');
    expect(json.results).toBeUndefined();
    expect(json.providers.find((p: { name: string }) => p.name === 'cuda')).toMatchObject({ available: false });
    expect(json.machine.cpuModel).toBeTruthy();
  });

  it.each([
    [['--providers', 'gpu0'], /^gpu-check: --providers: "gpu0" is not an execution provider/],
    [['--providers', ''], /^gpu-check: --providers: "" is not an execution provider/],
    [['--repeats', '0'], /^gpu-check: --repeats: an integer from 1 to 100$/],
    [['--repeats', '2.5'], /^gpu-check: --repeats: an integer from 1 to 100$/],
    [['--repeats'], /^gpu-check: --repeats needs a value$/],
    [['--fast'], /^gpu-check: unknown argument "--fast"/],
  ])('bad arguments %j: exit 2 with one line', (args, line) => {
    const r = check(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toHaveLength(1);
    expect(r.stderr[0]).toMatch(line);
  });

  it('a Node that is not there: exit 4 with one line', () => {
    const r = check(['--providers', 'cuda'], { LINGUASCOPE_NODE: join(tmp.dir, 'no-node') });
    expect(r.code).toBe(4);
    expect(r.stderr).toEqual([`gpu-check: ${join(tmp.dir, 'no-node')} is not an executable Node.js (LINGUASCOPE_NODE); nothing was measured`]);
  });

  it('a CPU dry run checks every fixture within the bounds and writes status ok', () => {
    const r = check(['--providers', 'cpu', '--no-full']);
    expect(r.stderr, r.stdout).toEqual([]);
    expect(r.code).toBe(0);
    const json = r.json();
    expect(json.status).toBe('ok');
    const fid = json.results.cpu.fidelity;
    expect(fid.passed).toBe(true);
    expect(fid.fixtures.map((f: { fixture: string }) => f.fixture)).toEqual(['gemma2', 'gemma2-bf16', 'llama', 'mistral', 'qwen2']);
    for (const f of fid.fixtures) {
      expect(f.f32_vs_hf_max_abs).toBeLessThanOrEqual(1e-4);
      if (f.fixture !== 'gemma2-bf16') expect(f.f16_vs_hf_f16_rel_rms).toBeLessThanOrEqual(5e-3);
    }
  });
});

// Hugging Face hub-cache layouts, where every file of `snapshots/<commit>/` is a link into
// `../../blobs/` (how most users hold Gemma-2 and Gemma Scope): a tiny random Gemma-2 and its SAEs
// in three formats (ours, Gemma Scope params.npz trees, SAELens folders), each copied into a hub
// cache. activations, make-random-saes, analyze and the token drill-down (analysis.tokens) run on
// them through the built CLI / backend worker (the old code refused all but analyze with
// GRAPH_ERROR "… outside …"), as does a model whose weight file links to another folder; a link to
// a FIFO inside the cache is a typed error, not a hang.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackendWorker, type BackendWorker } from '../../src/main/backend/worker-host';
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from '../../src/main/io/safetensors';
import { createApi } from '../../src/shared/client';
import { toHubCache } from '../helpers/hub-cache';
import { tempDir } from '../helpers/temp';
import { buildZip, deflatedEntry, npyBytes, storedEntry } from '../helpers/zip';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const tmp = tempDir('hub-cache-');
const HUB = join(tmp.dir, 'hub');
const DB = join(tmp.dir, 'hub.db');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: DB }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOk(run: ReturnType<typeof cli>) {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

/** The arrays of one of our SAE files as .npy bytes (Gemma Scope's names are ours). */
function npyArrays(file: string): Record<string, Uint8Array> {
  const header = readSafetensorsHeader(file);
  return Object.fromEntries([...header.tensors.values()].map((t) => [t.name, npyBytes('<f4', t.shape, readTensorBytes(t))]));
}

let MODEL: string;
let made: ReturnType<typeof cli>;
const saes: Record<'ours' | 'gemmascope' | 'saelens', { root: string; layer1: string }> = {} as never;

beforeAll(() => {
  const plain = join(tmp.dir, 'plain-model');
  expectOk(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', plain));
  MODEL = toHubCache(plain, HUB, 'org/tiny-gemma2');
  // Random SAEs calibrated on the hub-cache model (the old code failed here).
  made = cli('make-random-saes', '--model', MODEL, '--width', '64', '--layers', '1,2', '--out', join(tmp.dir, 'plain-saes'));
  if (made.code !== 0) return;
  const ours = toHubCache(join(tmp.dir, 'plain-saes'), HUB, 'org/tiny-saes');
  saes.ours = { root: ours, layer1: join(ours, 'blocks.1.hook_resid_post.safetensors') };
  // Gemma Scope: layer_L/width_64/average_l0_N/params.npz, layer 1 stored (np.savez), layer 2 deflated.
  const gs = join(tmp.dir, 'plain-gemmascope');
  for (const L of [1, 2]) {
    const dir = join(gs, `layer_${L}`, 'width_64', 'average_l0_1');
    mkdirSync(dir, { recursive: true });
    const arrays = npyArrays(join(tmp.dir, 'plain-saes', `blocks.${L}.hook_resid_post.safetensors`));
    const entry = L === 1 ? storedEntry : deflatedEntry;
    writeFileSync(join(dir, 'params.npz'), buildZip(Object.entries(arrays).map(([n, b]) => entry(`${n}.npy`, b))));
  }
  const gsHub = toHubCache(gs, HUB, 'google/gemma-scope-2b-pt-res');
  saes.gemmascope = { root: gsHub, layer1: join(gsHub, 'layer_1', 'width_64', 'average_l0_1', 'params.npz') };
  // SAELens: one folder per hook with cfg.json + sae_weights.safetensors.
  const sl = join(tmp.dir, 'plain-saelens');
  for (const L of [1, 2]) {
    const file = join(tmp.dir, 'plain-saes', `blocks.${L}.hook_resid_post.safetensors`);
    const header = readSafetensorsHeader(file);
    const ours = JSON.parse(header.metadata.linguascope_sae);
    const dir = join(sl, `blocks.${L}.hook_resid_post`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ architecture: 'jumprelu', d_in: ours.d_in, d_sae: ours.d_sae, apply_b_dec_to_input: false, normalize_activations: 'none', metadata: { hook_name: ours.hook_name, model_name: 'tiny' } }));
    writeSafetensors(join(dir, 'sae_weights.safetensors'), [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readTensorBytes(t) })));
  }
  const slHub = toHubCache(sl, HUB, 'org/tiny-saelens');
  saes.saelens = { root: slHub, layer1: join(slHub, 'blocks.1.hook_resid_post') };
}, 300_000);

afterAll(() => tmp.cleanup());

describe('hub-cache layouts (every file a link into ../../blobs)', () => {
  it('the layout is the hub cache: links, real files in blobs/', () => {
    const config = join(MODEL, 'config.json');
    expect(readdirSync(join(MODEL, '..', '..', 'blobs')).length).toBeGreaterThanOrEqual(4);
    expect(readFileSync(config, 'utf8')).toContain('Gemma2ForCausalLM');
    expect(spawnSync('readlink', [config], { encoding: 'utf8' }).stdout).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}\n$/);
  });

  it('make-random-saes calibrates on a hub-cache model', () => {
    expectOk(made);
    expect(made.stdout).toContain('wrote 2 jumprelu SAEs of width 64');
  });

  it('activations of a hub-cache model', () => {
    const out = join(tmp.dir, 'acts.safetensors');
    expectOk(cli('activations', '--model', MODEL, '--text', 'Hello, world', '--layers', 'all', '--logits', '--out', out));
    expect([...readSafetensorsHeader(out).tensors.keys()]).toContain('logits');
  });

  it.each(['ours', 'gemmascope', 'saelens'] as const)('analyze a hub-cache model with %s SAEs in a hub cache', (format) => {
    const out = join(tmp.dir, `analysis-${format}`);
    expectOk(cli('analyze', '--model', MODEL, '--saes', saes[format].root, '--languages', 'en,hi', '--limit', '3', '--bootstrap', '0', '--out', out));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const name = { ours: 'linguascope', gemmascope: 'gemmascope', saelens: 'saelens' }[format];
    expect(summary.saes.map((s: { layer: number; format: string }) => [s.layer, s.format])).toEqual([
      [1, name],
      [2, name],
    ]);
  });

  describe('through the backend worker', () => {
    let worker: BackendWorker;
    let api: ReturnType<typeof createApi>;
    beforeAll(async () => {
      worker = await startBackendWorker(DB);
      api = createApi(worker.open());
    });
    afterAll(async () => {
      api.dispose();
      await worker.terminate();
    });

    it.each(['ours', 'gemmascope', 'saelens'] as const)('the token drill-down (analysis.tokens) with a %s SAE', async (format) => {
      const codes = await api.analysis.tokens({ model: MODEL, sae: saes[format].layer1, text: 'Hello नमस्ते', top: 3 });
      expect(codes.tokens.length).toBeGreaterThan(5);
      expect(codes.tokens.every((t) => t.top.length <= 3)).toBe(true);
      expect(codes.tokens.some((t) => t.top.length > 0)).toBe(true);
    });

    it('sae.inspect lists the hub-cache SAEs of every format', async () => {
      for (const format of ['ours', 'gemmascope', 'saelens'] as const) {
        const infos = await api.sae.inspect({ path: saes[format].root });
        expect(infos.map((s) => [s.layer, s.dSae])).toEqual([
          [1, 64],
          [2, 64],
        ]);
      }
    });
  });

  it('a model folder whose weight file links to another folder runs', () => {
    const dir = join(tmp.dir, 'linked-model');
    const elsewhere = join(tmp.dir, 'elsewhere');
    mkdirSync(elsewhere);
    cpSync(join(tmp.dir, 'plain-model'), dir, { recursive: true });
    cpSync(join(dir, 'model.safetensors'), join(elsewhere, 'weights.bin'));
    rmSync(join(dir, 'model.safetensors'));
    symlinkSync(join(elsewhere, 'weights.bin'), join(dir, 'model.safetensors'));
    expectOk(cli('activations', '--model', dir, '--token-ids', '2,40,50', '--layers', '0', '--out', join(tmp.dir, 'linked.safetensors')));
  });

  it('a hub-cache link to a FIFO is a typed error at once, not a hang', () => {
    const snapshot = toHubCache(join(tmp.dir, 'plain-model'), HUB, 'org/fifo');
    const blob = join(snapshot, readlinkSync(join(snapshot, 'model.safetensors')));
    rmSync(blob);
    expect(spawnSync('mkfifo', [blob]).status).toBe(0);
    const started = Date.now();
    const run = cli('activations', '--model', snapshot, '--token-ids', '2,40', '--layers', '0', '--out', join(tmp.dir, 'never.safetensors'));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/model\.safetensors: is a named pipe \(FIFO\), not a weight file/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(existsSync(join(tmp.dir, 'never.safetensors'))).toBe(false);
  });
});

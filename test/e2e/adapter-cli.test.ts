// `--adapter DIR` on the built CLI: `activations` with a PEFT-made adapter matches PEFT's own
// numbers (scripts/reference/make_peft_fixtures.py); a bad adapter exits 2 with one line naming
// what is wrong; `analyze` with an adapter never reads the base model's cached rows (the adapter's
// sha256 is in the cache key), and base and adapted results each come back from the cache.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, writeSafetensors } from '../../src/main/io/safetensors';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const FIX = join(ROOT, 'test', 'fixtures');
const tmp = tempDir();

function cli(db: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db }, timeout: 300_000 });
  // bin/linguascope.js may rebuild out/ first when sources changed under it.
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('building the app')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

describe('linguascope activations --adapter', () => {
  afterAll(() => tmp.cleanup());

  it('matches PEFT on every hook and the logits of a phrase (1e-4)', () => {
    const ref = readSafetensorsHeader(join(FIX, 'adapters', 'llama-lora-layers', 'reference.safetensors'));
    const ids = new BigInt64Array(readTensorBytes(ref.tensors.get('input_ids')!).slice().buffer);
    const [, T] = ref.tensors.get('input_ids')!.shape;
    const phrase = [...ids.subarray(0, T)].map(Number); // phrase 0 is the longest: no padding
    const out = join(tmp.dir, 'acts.safetensors');
    const r = cli(join(tmp.dir, 'a.db'), 'activations', '--model', join(FIX, 'models', 'llama'), '--token-ids', phrase.join(','), '--layers', 'all', '--hooks', 'resid_pre,resid_mid,resid_post', '--logits', '--adapter', join(FIX, 'adapters', 'llama-lora-layers'), '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/with LoRA adapter .*llama-lora-layers \(14 linears, r 4, scale 2\)/);
    const ours = readSafetensorsHeader(out);
    expect(ours.metadata.adapter_sha256).toMatch(/^[0-9a-f]{64}$/);
    let worst = 0;
    for (const [name, entry] of ours.tensors) {
      const want = readTensorAsFloat32(ref.tensors.get(name)!);
      const got = readTensorAsFloat32(entry);
      const W = entry.shape[1];
      for (let i = 0; i < T * W; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    expect(ours.tensors.size).toBe(3 * 3 + 1);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it.each([
    ['use_dora', true, /use_dora/],
    ['modules_to_save', ['lm_head'], /modules_to_save/],
    ['peft_type', 'IA3', /peft_type/],
  ])('an adapter with %s = %j exits 2 with one line naming it', (key, value, message) => {
    const dir = join(tmp.dir, `bad-${key}`);
    cpSync(join(FIX, 'adapters', 'llama-lora-layers'), dir, { recursive: true });
    const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
    cfg[key] = value;
    writeFileSync(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
    const r = cli(join(tmp.dir, 'a.db'), 'activations', '--model', join(FIX, 'models', 'llama'), '--token-ids', '5,6,7', '--layers', '0', '--adapter', dir, '--out', join(tmp.dir, `bad-${key}.safetensors`));
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('a missing adapter folder exits 2 naming it', () => {
    const r = cli(join(tmp.dir, 'a.db'), 'activations', '--model', join(FIX, 'models', 'llama'), '--token-ids', '5,6,7', '--layers', '0', '--adapter', join(tmp.dir, 'nowhere'), '--out', join(tmp.dir, 'x.safetensors'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nowhere');
  });
});

describe('linguascope analyze --adapter', () => {
  const MODEL = join(tmp.dir, 'model');
  const SAES = join(tmp.dir, 'saes');
  const ADAPTER = join(tmp.dir, 'adapter');
  const db = join(tmp.dir, 'analyze.db');

  beforeAll(() => {
    expect(cli(db, 'make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3').code).toBe(0);
    expect(cli(db, 'make-random-saes', '--model', MODEL, '--width', '64', '--out', SAES, '--seed', '5').code).toBe(0);
    // A PEFT-layout adapter for this model: q_proj and down_proj of every layer, r 2, seeded values.
    const c = JSON.parse(readFileSync(join(MODEL, 'config.json'), 'utf8'));
    const q = c.num_attention_heads * c.head_dim;
    let seed = 7;
    const rand = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5) * 0.2);
    const tensors = [];
    for (let L = 0; L < c.num_hidden_layers; L++) {
      for (const [part, out, inp] of [['self_attn.q_proj', q, c.hidden_size], ['mlp.down_proj', c.hidden_size, c.intermediate_size]] as const) {
        const key = `base_model.model.model.layers.${L}.${part}`;
        tensors.push({ name: `${key}.lora_A.weight`, dtype: 'F32' as const, shape: [2, inp], data: rand(2 * inp) });
        tensors.push({ name: `${key}.lora_B.weight`, dtype: 'F32' as const, shape: [out, 2], data: rand(out * 2) });
      }
    }
    mkdirSync(ADAPTER);
    writeSafetensors(join(ADAPTER, 'adapter_model.safetensors'), tensors, { format: 'pt' });
    writeFileSync(join(ADAPTER, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 2, lora_alpha: 4, target_modules: ['q_proj', 'down_proj'], bias: 'none', use_dora: false }));
  }, 300_000);

  const analyze = (out: string, ...extra: string[]) => {
    const r = cli(db, 'analyze', '--model', MODEL, '--saes', SAES, '--languages', 'en,zh,hi', '--limit', '2', '--bootstrap', '20', '--out', join(tmp.dir, out), ...extra);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(readFileSync(join(tmp.dir, out, 'summary.json'), 'utf8'));
  };

  it('adapted results never come from the base rows, and each comes back from the cache', () => {
    const base = analyze('base');
    const adapted = analyze('adapted', '--adapter', ADAPTER);
    expect(base.adapter).toBeUndefined();
    expect(adapted.adapter).toMatchObject({ rank: 2, alpha: 4, scale: 2, modules: 8, rslora: false });
    expect(adapted.model.fingerprint).not.toBe(base.model.fingerprint);
    expect(adapted.cache.phrases_cached).toBe(0);
    expect(adapted.cache.phrases_computed).toBe(base.cache.phrases_computed);
    expect(JSON.stringify(adapted.mean_activation)).not.toBe(JSON.stringify(base.mean_activation));
    const again = analyze('adapted-again', '--adapter', ADAPTER);
    expect(again.cache.phrases_computed).toBe(0);
    expect(again.mean_activation).toEqual(adapted.mean_activation);
    const baseAgain = analyze('base-again');
    expect(baseAgain.cache.phrases_computed).toBe(0);
    expect(baseAgain.mean_activation).toEqual(base.mean_activation);
  }, 300_000);
});

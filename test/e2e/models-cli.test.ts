// The model commands as a user runs them (child processes; backend worker → compute worker):
// activations of the HF-fixture Gemma-2 written to safetensors and checked against the
// reference library's hooks; random model folders; every bad input exits 2 with one line naming
// the file, tensor or limit, and writes nothing.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes, writeSafetensors } from '../../src/main/io/safetensors';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const GEMMA = join(ROOT, 'test', 'fixtures', 'models', 'gemma2');
const tmp = tempDir();

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'cli.db') }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The reference's first phrase (all ten tokens real) and its rows for `name`. */
function referencePhrase(name: string): { ids: number[]; rows: Float32Array } {
  const header = readSafetensorsHeader(join(GEMMA, 'reference.safetensors'));
  const ids = Array.from(new BigInt64Array(readTensorBytes(header.tensors.get('input_ids')!).slice().buffer).subarray(0, 10), Number);
  const entry = header.tensors.get(name)!;
  return { ids, rows: readTensorAsFloat32(entry).subarray(0, 10 * entry.shape[2]) };
}

function expectUserError(run: ReturnType<typeof cli>, pattern: RegExp) {
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(pattern);
}

describe('linguascope model commands', () => {
  afterAll(() => tmp.cleanup());

  it('activations: every layer resid_post and the logits as float32 [tokens, width], matching HF transformers', () => {
    const out = join(tmp.dir, 'acts.safetensors');
    const { ids } = referencePhrase('logits');
    const run = cli('activations', '--model', GEMMA, '--token-ids', ids.join(','), '--layers', 'all', '--logits', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`wrote 5 tensors to ${out}`);
    const header = readSafetensorsHeader(out);
    expect([...header.tensors.keys()].sort()).toEqual(['blocks.0.hook_resid_post', 'blocks.1.hook_resid_post', 'blocks.2.hook_resid_post', 'blocks.3.hook_resid_post', 'logits']);
    expect(JSON.parse(header.metadata.token_ids)).toEqual(ids);
    for (const name of header.tensors.keys()) {
      const entry = header.tensors.get(name)!;
      expect(entry.dtype).toBe('F32');
      expect(entry.shape).toEqual([10, name === 'logits' ? 256 : 64]);
      const ours = readTensorAsFloat32(entry);
      const { rows } = referencePhrase(name);
      const worst = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - rows[i])), 0);
      expect(worst, name).toBeLessThan(1e-4);
    }
  });

  it('model: shows architecture, layers, parameters and dtype', () => {
    const run = cli('model', '--model', GEMMA, '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ architecture: 'Gemma2ForCausalLM', layers: 4, dModel: 64, vocabSize: 256, dtype: 'F32', slidingWindowLayers: 2, tokenizer: null });
  });

  it('make-random-model: a tiny Gemma-2 folder that loads and runs; the same seed gives the same bytes', () => {
    const a = join(tmp.dir, 'rand-a');
    const b = join(tmp.dir, 'rand-b');
    expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'bf16', '--out', a, '--seed', '7').code).toBe(0);
    expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'bf16', '--out', b, '--seed', '7').code).toBe(0);
    expect(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors')))).toBe(true);
    const run = cli('activations', '--model', a, '--token-ids', '2,10,20,30', '--layers', '1,3', '--hooks', 'resid_mid,resid_post', '--out', join(tmp.dir, 'r.safetensors'));
    expect(run.code).toBe(0);
    expect([...readSafetensorsHeader(join(tmp.dir, 'r.safetensors')).tensors.keys()].sort()).toEqual(['blocks.1.hook_resid_mid', 'blocks.1.hook_resid_post', 'blocks.3.hook_resid_mid', 'blocks.3.hook_resid_post']);
    // A folder that holds files LinguaScope did not write is never overwritten; its own output is replaced whole.
    const foreign = join(tmp.dir, 'rand-foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'notes.txt'), 'mine');
    expectUserError(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'bf16', '--out', foreign), /rand-foreign holds 1 entry and no \.linguascope-output\.json/);
    expect(readFileSync(join(foreign, 'notes.txt'), 'utf8')).toBe('mine');
    expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'bf16', '--out', a, '--seed', '8').code).toBe(0);
    expect(readFileSync(join(a, 'model.safetensors')).equals(readFileSync(join(b, 'model.safetensors')))).toBe(false);
  });

  describe('bad input exits 2, names the problem and writes nothing', () => {
    const out = join(tmp.dir, 'never.safetensors');
    const broken = (name: string, edit: (dir: string) => void) => {
      const dir = join(tmp.dir, name);
      cpSync(GEMMA, dir, { recursive: true });
      edit(dir);
      return dir;
    };
    const cases: [string, () => string[], RegExp][] = [
      ['a folder without config.json', () => { const d = join(tmp.dir, 'empty'); mkdirSync(d, { recursive: true }); return ['--model', d]; }, /empty: has no config\.json/],
      ['an unsupported architecture', () => ['--model', broken('gpt', (d) => {
        const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, architectures: ['GPT2LMHeadModel'] }));
      })], /architecture GPT2LMHeadModel is not supported/],
      ['a config whose shapes disagree with the weights', () => ['--model', broken('wide', (d) => {
        const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
        writeFileSync(join(d, 'config.json'), JSON.stringify({ ...cfg, intermediate_size: 96 }));
      })], /model\.safetensors: tensor 'model\.layers\.0\.mlp\.gate_proj\.weight' has shape \[128, 64\], but config\.json implies \[96, 64\]/],
      ['a missing tensor', () => ['--model', broken('missing', (d) => {
        const header = readSafetensorsHeader(join(d, 'model.safetensors'));
        const keep = [...header.tensors.values()].filter((t) => t.name !== 'model.layers.2.self_attn.k_proj.weight');
        writeSafetensors(join(d, 'model.safetensors'), keep.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readTensorBytes(t) })));
      })], /has no tensor 'model\.layers\.2\.self_attn\.k_proj\.weight'/],
      ['a truncated weight file', () => ['--model', broken('truncated', (d) => {
        const bytes = readFileSync(join(d, 'model.safetensors'));
        writeFileSync(join(d, 'model.safetensors'), bytes.subarray(0, bytes.length - 1000));
      })], /model\.safetensors: /],
      ['a phrase longer than the context', () => ['--model', GEMMA, '--token-ids', Array(65).fill(3).join(',')], /65 tokens; the model's context is 64 \(max_position_embeddings\)/],
      ['a token id outside the vocabulary', () => ['--model', GEMMA, '--token-ids', '2,256'], /token id 256 is outside the vocabulary \(0\.\.255\)/],
      ['text for a model without a tokenizer', () => ['--model', GEMMA, '--text', 'hello'], /has no tokenizer\.json; pass token ids/],
      ['a layer the model does not have', () => ['--model', GEMMA, '--token-ids', '2,3', '--layers', '4'], /layer 4 does not exist: Gemma2ForCausalLM has layers 0\.\.3/],
    ];
    it.each(cases)('%s', (_, args, pattern) => {
      const extra = args();
      const run = cli('activations', ...(extra.includes('--token-ids') || extra.includes('--text') ? extra : [...extra, '--token-ids', '2,3']), '--out', out);
      expectUserError(run, pattern);
      expect(existsSync(out)).toBe(false);
    });
  });
});

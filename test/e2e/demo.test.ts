// The main job on the bundled demo, as the README's first command runs it (`linguascope demo`):
// the committed demo files match their manifest, the analysis of the ten paper languages writes
// its report, and a missing or corrupted demo file is a one-line error that says how to rebuild.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256File } from '../../src/main/demo/build';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const DEMO = join(ROOT, 'resources', 'demo');
const tmp = tempDir();

function cli(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'demo.db'), ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled demo', () => {
  afterAll(() => tmp.cleanup());

  it('matches the hashes in its manifest, within 25 MB', () => {
    const manifest = JSON.parse(readFileSync(join(DEMO, 'manifest.json'), 'utf8'));
    let bytes = 0;
    for (const [name, hash] of Object.entries(manifest.files as Record<string, string>)) {
      expect(sha256File(join(DEMO, name)), name).toBe(hash);
      bytes += readFileSync(join(DEMO, name)).byteLength;
    }
    expect(bytes).toBeLessThan(25 * 2 ** 20);
    expect(Object.keys(manifest.eval_loss_per_language).sort()).toEqual(['ca', 'en', 'es', 'hi', 'id', 'it', 'ml', 'mr', 'ru', 'zh']);
  });

  it('`linguascope demo` runs the disparity analysis of the ten languages and writes the report', () => {
    const out = join(tmp.dir, 'report');
    const run = cli({}, 'demo', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`report: ${join(out, 'report.html')}`);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.languages.map((l: { code: string }) => l.code)).toEqual(['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi']);
    expect(s.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.gap_percent.every((g: number | null) => typeof g === 'number')).toBe(true);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it.each([
    ['a missing SAE file', (dir: string) => rmSync(join(dir, 'saes', 'blocks.3.hook_resid_post.safetensors')), /the demo file saes\/blocks\.3\.hook_resid_post\.safetensors is missing; rebuild it with `npm run build:demo`/],
    ['a corrupted weight file', (dir: string) => {
      const f = join(dir, 'model', 'model.safetensors');
      const bytes = readFileSync(f);
      bytes[bytes.length - 5] ^= 0xff;
      writeFileSync(f, bytes);
    }, /the demo file model\/model\.safetensors does not match its manifest hash \(corrupted\?\); rebuild it with `npm run build:demo`/],
    ['no demo at all', (dir: string) => rmSync(dir, { recursive: true }), /the bundled demo is missing .*; rebuild it with `npm run build:demo`/],
  ])('%s: exit 2 with how to rebuild', (_, damage, pattern) => {
    const dir = join(tmp.dir, `demo-${Math.random().toString(36).slice(2)}`);
    cpSync(DEMO, dir, { recursive: true });
    damage(dir);
    const run = cli({ LINGUASCOPE_DEMO_DIR: dir }, 'demo', '--out', join(tmp.dir, 'never'));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(existsSync(join(tmp.dir, 'never'))).toBe(false);
  });
});

// The main job on the bundled demo, as the README's first command runs it (`linguascope demo`):
// the committed demo files match their manifest, the whole study (measure, fine-tune, task,
// evaluate, correlate) writes its report, and a missing or corrupted demo file is a one-line error that says how to rebuild.
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
  // bin/linguascope.js may rebuild out/ first when sources changed under it.
  const stderr = r.stderr.split('\n').filter((l) => !l.startsWith('linguascope: building the app')).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
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

  it('`linguascope demo` runs the whole study (measure, fine-tune, task, evaluate, correlate) and writes one report', () => {
    const out = join(tmp.dir, 'report');
    const run = cli({}, 'demo', '--out', out);
    expect(run.stderr.split('\n').filter((l) => l && !/^\d\/5 /.test(l))).toEqual([]);
    expect(run.code).toBe(0);
    // Not a terminal: one line per stage, in order.
    expect(run.stderr.match(/^\d\/5 [a-z-]+/gm)).toEqual(['1/5 measure', '2/5 fine-tune', '3/5 task', '4/5 evaluate', '5/5 correlate']);
    expect(run.stdout).toContain(`report: ${join(out, 'report.html')}`);
    const study = JSON.parse(readFileSync(join(out, 'study.json'), 'utf8'));
    const s = JSON.parse(readFileSync(join(out, 'analysis', 'summary.json'), 'utf8'));
    expect(s.languages.map((l: { code: string }) => l.code)).toEqual(['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi']);
    expect(s.layers).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.settings.reduction).toBe('mean');
    expect(s.gap_percent.every((g: number | null) => typeof g === 'number')).toBe(true);
    // The report is the stages' own figures, not a recomputation.
    expect(study.analysis.summary.gap_percent).toEqual(s.gap_percent);
    expect(study.finetune.report).toEqual(JSON.parse(readFileSync(join(out, 'finetune', 'report', 'result.json'), 'utf8')).report);
    expect(study.evaluation.results).toEqual(JSON.parse(readFileSync(join(out, 'eval', 'results.json'), 'utf8')).results);
    // The task is cut from the fine-tune's held-out segments only, the same items in every language.
    const held = new Set(study.finetune.config.split.heldOutSegments);
    expect(study.task.segments.length).toBeGreaterThanOrEqual(4);
    expect(study.task.segments.every((k: string) => held.has(k))).toBe(true);
    expect(study.evaluation.results.map((r: { n: number }) => r.n)).toEqual(Array(10).fill(study.task.items));
    // Every finding is in the report and was printed.
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const f of study.findings) expect(run.stdout).toContain(f);
    expect(html).toContain('Findings');
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

// `linguascope phrases neuronpedia` through the built CLI (a child process, the backend in a worker
// thread, the tokenizer worker, a real SQLite file) on the fixture export of
// scripts/reference/make_neuronpedia_fixtures.py: the phrases written equal the Python reference's,
// the SAE check speaks, and bad input exits 2 with one line naming the file, leaving the output
// untouched. Needs `npx electron-vite build`.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'neuronpedia');
const DEMO = join(ROOT, 'resources', 'demo');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  sources: { sourceId: string; features: number[]; cases: Record<string, { phrases: { feature: number; text: string }[] }> }[];
};
const demo = expected.sources[1];
const tmp = tempDir();
const db = join(tmp.dir, 'cli.db');
afterAll(() => tmp.cleanup());

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db }, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { feature: number; language: string; text: string; provenance: { file: string; line: number } });

// bin/linguascope.js rebuilds out/ when sources changed (other work in the tree), which can take a while.
describe('linguascope phrases neuronpedia', { timeout: 600_000 }, () => {
  it('writes the reference phrases of the demo source, with the demo SAE matched', () => {
    const out = join(tmp.dir, 'demo.jsonl');
    const r = cli('phrases', 'neuronpedia', '--export', FIXTURE, '--source', demo.sourceId, '--features', demo.features.join(','), '--tokenizer', join(DEMO, 'model'), '--sae', join(DEMO, 'saes', 'blocks.3.hook_resid_post.safetensors'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${demo.cases.default.phrases.length} phrases from 2 features of linguascope-demo/3-demo-res-512`));
    expect(r.stdout).not.toMatch(/warning: .*SAE/);
    const got = lines(out);
    expect(got.map((l) => [l.feature, l.text])).toEqual(demo.cases.default.phrases.map((p) => [p.feature, p.text]));
    expect(got.every((l) => l.language === 'en' && l.provenance.file === 'activations/batch-0.jsonl.gz' && l.provenance.line >= 1)).toBe(true);
  });

  it('takes the per-token rule, the recomputed maximum and the window from the command line', () => {
    const out = join(tmp.dir, 'token.jsonl');
    const r = cli('phrases', 'neuronpedia', '--export', join(FIXTURE, 'v1'), '--source', demo.sourceId, '--features', demo.features.join(','), '--rule', 'token', '--maximum', 'recomputed', '--window', '16,4', '--tokenizer', join(DEMO, 'model'), '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { settings: object; warnings: string[] };
    expect(result.settings).toEqual({ threshold: 0.8, thresholdRule: 'token', maximum: 'recomputed', before: 16, after: 4 });
    expect(result.warnings.some((w) => /no SAE was named/.test(w))).toBe(true);
    expect(lines(out).map((l) => l.text)).toEqual(demo.cases['token-recomputed'].phrases.map((p) => p.text));
  });

  it('selects by explanation search and warns when the SAE is not the source\'s', () => {
    const out = join(tmp.dir, 'search.jsonl');
    const r = cli('phrases', 'neuronpedia', '--export', FIXTURE, '--source', demo.sourceId, '--search', 'NEWLINES', '--tokenizer', join(DEMO, 'model'), '--sae', join(DEMO, 'saes', 'blocks.2.hook_resid_post.safetensors'), '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/feature 300: .* — newlines/);
    expect(r.stdout).toMatch(/warning: your SAE .* is at layer 2, but linguascope-demo\/3-demo-res-512 is layer 3/);
    expect(new Set(lines(out).map((l) => l.feature))).toEqual(new Set([300]));
  });

  it.each([
    ['a gzip file that is not gzip', (dir: string) => writeFileSync(join(dir, 'v1/linguascope-demo/3-demo-res-512/activations/batch-0.jsonl.gz'), '{"index": "7"}\n'), /activations\/batch-0\.jsonl\.gz: is not gzip data/],
    ['a missing batch', (dir: string) => rmSync(join(dir, 'v1/linguascope-demo/3-demo-res-512/activations/batch-0.jsonl.gz')), /activations\/batch-0\.jsonl\.gz is missing/],
    ['an empty features batch', (dir: string) => writeFileSync(join(dir, 'v1/linguascope-demo/3-demo-res-512/features/batch-0.jsonl.gz'), gzipSync('')), /features 7, 300 are not in features\//],
    ['a file of another source', (dir: string) => cpSync(join(FIXTURE, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations/batch-0.jsonl.gz'), join(dir, 'v1/linguascope-demo/3-demo-res-512/activations/batch-0.jsonl.gz')), /a record of source '20-gemmascope-res-16k', not '3-demo-res-512'/],
  ])('exits 2 with one line for %s, leaving the previous output as it was', (_what, spoil, message) => {
    const dir = join(tmp.dir, `spoiled-${Math.random().toString(36).slice(2)}`);
    cpSync(join(FIXTURE, 'v1'), join(dir, 'v1'), { recursive: true });
    spoil(dir);
    const out = join(tmp.dir, 'kept.jsonl');
    const first = cli('phrases', 'neuronpedia', '--export', FIXTURE, '--source', demo.sourceId, '--features', '7', '--tokenizer', join(DEMO, 'model'), '--out', out);
    expect(first.code, first.stderr).toBe(0);
    const before = readFileSync(out, 'utf8');
    const r = cli('phrases', 'neuronpedia', '--export', dir, '--source', demo.sourceId, '--features', '7,300', '--tokenizer', join(DEMO, 'model'), '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => !/building the app/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(readFileSync(out, 'utf8')).toBe(before);
  });

  it.each([
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--source', '3-demo-res-512', '--tokenizer', 'x', '--out', 'y'], /exactly one of --features/],
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--api', 'a.json', '--source', 's', '--features', '1', '--tokenizer', 'x', '--out', 'y'], /exactly one of --export DIR or --api/],
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--source', 's', '--features', '1', '--threshold', '1.5', '--tokenizer', 'x', '--out', 'y'], /--threshold is a fraction/],
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--source', 's', '--from-run', '3', '--tokenizer', 'x', '--out', 'y'], /--from-run needs --top N/],
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--source', 's', '--features', '1', '--window', '16', '--tokenizer', 'x', '--out', 'y'], /--window needs two numbers/],
    [['phrases', 'neuronpedia', '--export', FIXTURE, '--source', '../etc', '--features', '1', '--tokenizer', join(DEMO, 'model'), '--out', join(tmp.dir, 'z.jsonl')], /source/],
    [['phrases', 'flores'], /phrases needs a source/],
  ])('refuses %j with exit 2', (args, message) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});

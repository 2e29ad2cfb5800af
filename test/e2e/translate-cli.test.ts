// `linguascope translate` as a user runs it, against transformers: the tiny opus-mt-style folder
// (random MarianMTModel, SentencePiece models trained on UDHR; scripts/reference/
// make_marian_fixtures.py) saved as model.safetensors and as pytorch_model.bin; for each target
// token and greedy / beam search, every output line equals MarianTokenizer + generate() + decode()
// (scripts/reference/make_translate_fixtures.py), BLEU and chrF++ equal sacrebleu's, a repeat is
// answered from the cache, and bad input exits 2 with one line.
// Needs `npm run build` (npm test runs it first).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

const FIX = join(import.meta.dirname, '..', 'fixtures');
const expected = JSON.parse(readFileSync(join(FIX, 'translate', 'expected.json'), 'utf8')) as {
  cases: { target_token: string | null; beams: number; language: string; rows: { source: string; source_ids: number[]; ids: number[]; text: string }[]; bleu: number; chrf_pp: number }[];
};
const tmp = tempDir();
const DB = join(tmp.dir, 'cli.db');
afterAll(() => tmp.cleanup());

const cli = (...args: string[]) => runCli(DB, args);

describe.each(['tiny-en-mul-safetensors', 'tiny-en-mul-bin'])('linguascope translate on %s', (folder) => {
  const model = join(FIX, 'marian', folder);
  it.each(expected.cases.map((c) => [`${c.target_token ?? 'no target token'}, beams ${c.beams}`, c]))('%s: every line as transformers generate()', (name, c) => {
    const out = join(tmp.dir, `${folder}-${String(name).replace(/\W+/g, '-')}.jsonl`);
    const args = ['translate', '--model', model, '--in', join(FIX, 'translate', 'texts.txt'), '--beams', String(c.beams), '--references', join(FIX, 'translate', 'references.txt'), '--language', c.language, '--out', out, '--json'];
    if (c.target_token) args.push('--target-token', c.target_token);
    const run = cli(...args);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(c.rows.map((r) => ({ source: r.source.replace(/^>>\w+<< /, ''), source_ids: r.source_ids, text: r.text, ids: r.ids })));
    const result = JSON.parse(run.stdout);
    expect(Math.abs(result.metrics.bleu.score - c.bleu)).toBeLessThan(1e-9);
    expect(Math.abs(result.metrics.chrfpp.score - c.chrf_pp)).toBeLessThan(1e-9);
  }, 600_000);
});

describe('the cache and bad input', () => {
  const model = join(FIX, 'marian', 'tiny-en-mul-safetensors');
  it('a repeated run is answered from the cache, with the same lines', () => {
    const first = cli('translate', '--model', model, '--text', 'No one shall be held in slavery.', '--beams', '2', '--json');
    const again = cli('translate', '--model', model, '--text', 'No one shall be held in slavery.', '--beams', '2', '--json');
    expect(first.code, first.stderr.join('\n')).toBe(0);
    expect(JSON.parse(first.stdout).cached).toBe(0);
    expect(JSON.parse(again.stdout).cached).toBe(1);
    expect(JSON.parse(again.stdout).lines).toEqual(JSON.parse(first.stdout).lines);
  }, 600_000);

  it.each([
    ['an input file with a blank line', () => ['--in', write('blank.txt', 'A\n\nB\n')], /blank\.txt line 2 is empty/],
    ['references of another length', () => ['--text', 'A', '--references', write('refs.txt', 'a\nb\n')], /refs\.txt has 2 lines for 1 texts/],
    ['a target token the vocabulary lacks', () => ['--text', 'A', '--target-token', '>>deu<<'], />>deu<< is not a target-language token/],
    ['an output file that is not ours', () => ['--text', 'A', '--out', write('mine.jsonl', 'my notes\n')], /mine\.jsonl/],
    ['a model folder that is not opus-mt', () => ['--text', 'A', '--model', join(FIX, 'parallel')], /config\.json|no such|opus-mt/],
    ['a pickle that runs code', () => ['--text', 'A', '--model', hostileFolder()], /os\.system|posix\.system|refus/i],
  ])('%s: exit 2, one line', (_, args, message) => {
    const extra = args();
    const run = cli('translate', ...(extra.includes('--model') ? [] : ['--model', model]), ...extra);
    expect(run.code, run.stderr.join('\n')).toBe(2);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(message);
  }, 600_000);
});

function write(name: string, content: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

/** The tiny folder with its pytorch_model.bin replaced by one of the hostile pickles. */
function hostileFolder(): string {
  const dir = join(tmp.dir, 'hostile');
  spawnSync('cp', ['-r', join(FIX, 'marian', 'tiny-en-mul-bin'), dir]);
  spawnSync('cp', [join(FIX, 'marian', 'torch-bin', 'hostile', 'os-system.bin'), join(dir, 'pytorch_model.bin')]);
  return dir;
}

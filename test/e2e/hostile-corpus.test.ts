// A user's corpus file through `linguascope analyze` (built CLI, backend worker): a folder is
// called a folder (it was "not valid UTF-8"), a 10 MB line is refused naming its row and the
// limit in seconds (it took 18 s and 2.3 GB), a private file's first line never reaches the error
// (the header error used to quote it), and a token id the model does not have names the corpus
// segment, language and row (it named a position in a batch). Each exits 2 with one line.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const tmp = tempDir('hostile-corpus-');
const MODEL = join(tmp.dir, 'model');
const SAES = join(tmp.dir, 'saes');
const CANARY = 'LEAK-CANARY-e2e-corpus-40aa'; // V8's JSON errors quote ~10 characters: even a prefix must not leak
const HEADER = 'segment\tlanguage\ttext\n';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'c.db') }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function analyze(model: string, corpus: string) {
  const started = Date.now();
  const run = cli('analyze', '--model', model, '--saes', SAES, '--languages', 'en,hi', '--corpus', corpus, '--bootstrap', '0', '--out', join(tmp.dir, 'never'));
  return { ...run, seconds: (Date.now() - started) / 1000 };
}

beforeAll(() => {
  expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL).code).toBe(0);
  expect(cli('make-random-saes', '--model', MODEL, '--width', '32', '--layers', '1', '--out', SAES).code).toBe(0);
}, 120_000);
afterAll(() => tmp.cleanup());

describe('analyze --corpus with hostile files exits 2 with one line', () => {
  const file = (name: string, content: string) => {
    writeFileSync(join(tmp.dir, name), content);
    return join(tmp.dir, name);
  };
  const cases: [string, () => string, RegExp][] = [
    ['a folder', () => {
      mkdirSync(join(tmp.dir, 'corpus-folder'));
      return join(tmp.dir, 'corpus-folder');
    }, /corpus-folder is a folder, not a corpus file/],
    ['a 10 MB line', () => file('long.tsv', `${HEADER}s1\ten\t${CANARY}${'x'.repeat(10 * 2 ** 20)}\ns1\thi\tx\n`), /long\.tsv row 2 is over the 262144-byte limit for one line/],
    ['a private file', () => file('passwd', `${CANARY}:x:0:0:root:/root:/bin/bash\n`), /passwd row 1: the header must be segment<TAB>language<TAB>text/],
  ];
  it.each(cases)('%s', (_, make, pattern) => {
    const run = analyze(MODEL, make());
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(pattern);
    expect(run.stderr).not.toContain(CANARY.slice(0, 9));
    expect(run.seconds).toBeLessThan(20);
  });

  it('a token id outside the model names the corpus segment, language and row', () => {
    // The same model with a tokenizer that has one token the model does not (id 600 >= vocab 512).
    const other = join(tmp.dir, 'model-other-tokenizer');
    cpSync(MODEL, other, { recursive: true });
    const tokenizer = JSON.parse(readFileSync(join(other, 'tokenizer.json'), 'utf8'));
    tokenizer.added_tokens.push({ id: 600, content: '<big>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
    writeFileSync(join(other, 'tokenizer.json'), JSON.stringify(tokenizer));
    const corpus = file('vocab.tsv', `${HEADER}s1\ten\tHello\ns1\thi\tनमस्ते\ns2\ten\tGood day\ns2\thi\tशुभ <big> दिन\n`);
    const run = analyze(other, corpus);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
    expect(run.stderr).toMatch(/segment "s2" in hi \(vocab\.tsv row 5\): the tokenizer gave token id 600, outside the model's vocabulary \(0\.\.511\)/);
  });
});

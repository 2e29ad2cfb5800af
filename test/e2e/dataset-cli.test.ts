// `linguascope dataset import` as a user runs it: FLORES+ parquet and a wide CSV become a corpus
// file the analysis reads as --corpus, with the per-language report printed and written; bad input
// exits 2 with one line naming the file, and writes nothing.
// Needs `npm run build` (npm test runs it first).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/temp';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'parallel');
const tmp = tempDir();
const DB = join(tmp.dir, 'cli.db');
afterAll(() => tmp.cleanup());

const cli = (...args: string[]) => runCli(DB, args);

describe('linguascope dataset import', () => {
  it('imports FLORES+ parquet, reports per language, and the corpus feeds an analysis', () => {
    const out = join(tmp.dir, 'flores');
    const run = cli('dataset', 'import', join(FIXTURES, 'flores_plus'), '--languages', 'en,hi,ml', '--split', 'dev', '--out', out);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stdout).toContain('flores-parquet (dev): 3 of 3 segments kept, in en, hi, ml');
    expect(run.stdout).toMatch(/not imported: cmn_Hans \(3 rows\): zh was not chosen/);
    expect(run.stdout).toMatch(/not imported: cmn_Hant \(3 rows\): no registered language/);
    const tsv = readFileSync(join(out, 'corpus.tsv'), 'utf8').trim().split('\n');
    expect(tsv[0]).toBe('segment\tlanguage\ttext');
    expect(tsv).toHaveLength(1 + 3 * 3);
    const report = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8'));
    expect(report.languages.map((l: { code: string; kept: number }) => [l.code, l.kept])).toEqual([['en', 3], ['hi', 3], ['ml', 3]]);

    const model = join(tmp.dir, 'model');
    const saes = join(tmp.dir, 'saes');
    expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', model, '--seed', '3').code).toBe(0);
    expect(cli('make-random-saes', '--model', model, '--width', '32', '--layers', '1', '--out', saes, '--seed', '5').code).toBe(0);
    const reportDir = join(tmp.dir, 'report');
    const analysis = cli('analyze', '--model', model, '--saes', saes, '--languages', 'en,hi,ml', '--corpus', join(out, 'corpus.tsv'), '--bootstrap', '0', '--out', reportDir);
    expect(analysis.code, analysis.stderr.join('\n')).toBe(0);
    expect(JSON.parse(readFileSync(join(reportDir, 'summary.json'), 'utf8')).segments).toBe(3);
  }, 600_000);

  it('imports a wide CSV; re-importing replaces its own folder', () => {
    const out = join(tmp.dir, 'csv');
    for (let i = 0; i < 2; i++) {
      const run = cli('dataset', 'import', join(FIXTURES, 'wide.csv'), '--out', out);
      expect(run.code, run.stderr.join('\n')).toBe(0);
      expect(run.stdout).toContain('csv: 4 of 5 segments kept, in en, ml, hi');
    }
  }, 600_000);

  it.each([
    ['a FLORES folder missing a language', (d: string) => (mkdirSync(join(d, 'devtest'), { recursive: true }), writeFileSync(join(d, 'devtest', 'eng_Latn.devtest'), 'A\n'), ['--languages', 'en,hi']), /has no text in hi/],
    ['misaligned FLORES files', (d: string) => (mkdirSync(join(d, 'devtest'), { recursive: true }), writeFileSync(join(d, 'devtest', 'eng_Latn.devtest'), 'A\nB\n'), writeFileSync(join(d, 'devtest', 'hin_Deva.devtest'), 'अ\n'), []), /hin_Deva\.devtest has 1 lines where eng_Latn\.devtest has 2/],
    ['a missing path', (d: string) => (void d, []), /does not exist|not found|no such/i],
  ])('%s: exit 2, one line, nothing written', (_, make, message) => {
    const dir = join(tmp.dir, `bad-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    const src = join(dir, 'src');
    if (!message.source.includes('exist')) mkdirSync(src);
    const extra = make(src);
    const out = join(dir, 'out');
    const run = cli('dataset', 'import', src, '--out', out, ...extra);
    expect(run.code).toBe(2);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('translates a corpus and a phrases file with opus-mt folders into a corpus the analysis reads', () => {
    const marian = join(import.meta.dirname, '..', 'fixtures', 'marian', 'tiny-en-mul-bin');
    const corpus = join(tmp.dir, 'flores', 'corpus.tsv');
    const out = join(tmp.dir, 'translated');
    const run = cli('dataset', 'translate', corpus, '--target', `zh=${marian}@>>cmn_Hans<<`, '--target', `ca=${marian}`, '--beams', '2', '--out', out);
    expect(run.code, run.stderr.join('\n')).toBe(0);
    expect(run.stdout).toContain('3 of 3 segments in en, ml, hi, zh, ca');
    const rows = readFileSync(join(out, 'corpus.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const en = rows.filter((r) => r[1] === 'en').map((r) => r[2]);
    // Each target row is what `translate` gives for the same text and settings (itself checked
    // against transformers in translate-cli.test.ts).
    writeFileSync(join(tmp.dir, 'en.txt'), `${en.join('\n')}\n`);
    const direct = cli('translate', '--model', marian, '--in', join(tmp.dir, 'en.txt'), '--target-token', '>>cmn_Hans<<', '--beams', '2', '--json');
    expect(direct.code, direct.stderr.join('\n')).toBe(0);
    expect(JSON.parse(direct.stdout).cached).toBe(3);
    const zh = rows.filter((r) => r[1] === 'zh').map((r) => r[2]);
    expect(zh).toEqual(JSON.parse(direct.stdout).lines.map((l: { text: string }) => l.text.replace(/[\t\r\n]+/g, ' ').trim()));

    const phrases = join(tmp.dir, 'phrases.jsonl');
    writeFileSync(phrases, ['All human beings are born free', 'Everyone has the right to life', 'No one shall be held in slavery'].map((text, i) => JSON.stringify({ feature: i < 2 ? 42 : 7, language: 'en', text, provenance: { producer: 'linguascope', kind: 'neuronpedia', feature: i < 2 ? 42 : 7 } })).join('\n') + '\n');
    const byFeature = join(tmp.dir, 'by-feature');
    const fromPhrases = cli('dataset', 'translate', phrases, '--target', `hi=${marian}@>>hin<<`, '--out', byFeature);
    expect(fromPhrases.code, fromPhrases.stderr.join('\n')).toBe(0);
    const features = JSON.parse(readFileSync(join(byFeature, 'phrases.json'), 'utf8'));

    // A language the corpus has: its texts are kept and the translations scored against them, as
    // sacrebleu scores them (the same figures translate --references prints for the same lines).
    const checked = join(tmp.dir, 'checked');
    const check = cli('dataset', 'translate', corpus, '--target', `hi=${marian}@>>hin<<`, '--out', checked, '--json');
    expect(check.code, check.stderr.join('\n')).toBe(0);
    const report = JSON.parse(check.stdout);
    expect(report.languagesKept).toEqual(['en', 'ml', 'hi']);
    const hiRef = join(tmp.dir, 'hi-ref.txt');
    writeFileSync(hiRef, `${rows.filter((r) => r[1] === 'hi').map((r) => r[2]).join('\n')}\n`);
    const scored = JSON.parse(cli('translate', '--model', marian, '--in', join(tmp.dir, 'en.txt'), '--target-token', '>>hin<<', '--references', hiRef, '--language', 'hi', '--json').stdout);
    expect(report.languages[0].quality).toEqual({ bleu: scored.metrics.bleu.score, chrfpp: scored.metrics.chrfpp.score });
    expect(readFileSync(join(checked, 'corpus.tsv'), 'utf8').split('\n').filter((l) => l.includes('\thi\t'))).toEqual(rows.filter((r) => r[1] === 'hi').map((r) => r.join('\t')));
    expect(features.map((f: { segment: string; feature: number }) => [f.segment, f.feature])).toEqual([['f42.1', 42], ['f42.2', 42], ['f7.1', 7]]);
  }, 600_000);

  it.each([
    ['a target language given twice', (m: string) => ['--target', `hi=${m}`, '--target', `hi=${m}`], /language hi is given twice/],
    ['a target folder that is not there', () => ['--target', 'hi=/nonexistent/opus-mt-en-hi'], /no such folder/],
    ['an unknown target language', (m: string) => ['--target', `qq=${m}`], /qq/],
    ['a source language the corpus lacks', (m: string) => ['--source-language', 'hi', '--target', `zh=${m}`], /has no hi text to translate from \(it has en\)/],
  ])('dataset translate refuses %s: exit 2, one line, nothing written', (_, args, message) => {
    const marian = join(import.meta.dirname, '..', 'fixtures', 'marian', 'tiny-en-mul-bin');
    const out = join(tmp.dir, `bad-translate-${Math.random().toString(36).slice(2)}`);
    const corpus = join(tmp.dir, 'small-corpus.tsv');
    writeFileSync(corpus, 'segment\tlanguage\ttext\n1\ten\tAll human beings are born free\n');
    const run = cli('dataset', 'translate', corpus, ...args(marian), '--out', out);
    expect(run.code).toBe(2);
    expect(run.stderr).toHaveLength(1);
    expect(run.stderr[0]).toMatch(message);
    expect(existsSync(out)).toBe(false);
  }, 300_000);

  it('usage errors cost nothing: no action, no path, no --out, a bad split', () => {
    for (const args of [['dataset'], ['dataset', 'import'], ['dataset', 'import', FIXTURES], ['dataset', 'import', FIXTURES, '--out', 'x', '--split', 'test']]) {
      const run = cli(...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toHaveLength(1);
    }
  });
});

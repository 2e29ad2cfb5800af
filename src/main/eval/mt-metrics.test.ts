// BLEU, chrF and chrF++ against sacrebleu 2.x on fixtures it computed (scripts/reference/
// make_mt_metrics_fixtures.py): UDHR paragraphs in the paper's ten languages with edited
// hypotheses, each corpus and single segments, and tokenizer edge cases (entities, numbers,
// <skipped>, curly quotes, Unicode spaces, astral characters, CJK and full-width punctuation).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bleuTokenizerFor, corpusBleu, corpusChrf, pySplit, type BleuTokenizer } from './mt-metrics';

interface Case {
  name: string;
  language: string;
  tokenizer: BleuTokenizer;
  hypotheses: string[];
  references: string[];
  bleu: { score: number; precisions: number[]; bp: number; sys_len: number; ref_len: number };
  chrf_pp: number;
  chrf: number;
}
const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'mt-metrics', 'sacrebleu.json'), 'utf8')) as { sacrebleu: string; cases: Case[] };

// Sums of integers and a handful of logs and divisions: equal to sacrebleu's doubles up to rounding.
const TOL = 1e-9;

describe(`as sacrebleu ${fixture.sacrebleu} computes them`, () => {
  it('has cases in all ten languages', () => {
    expect(new Set(fixture.cases.map((c) => c.language)).size).toBe(10);
  });

  it.each(fixture.cases.map((c) => [c.name, c]))('%s: BLEU', (_, c) => {
    const got = corpusBleu(c.hypotheses, c.references, c.tokenizer);
    expect([got.sysLen, got.refLen]).toEqual([c.bleu.sys_len, c.bleu.ref_len]);
    expect(got.bp).toBeCloseTo(c.bleu.bp, 12);
    got.precisions.forEach((p, i) => expect(Math.abs(p - c.bleu.precisions[i])).toBeLessThan(TOL));
    expect(Math.abs(got.score - c.bleu.score)).toBeLessThan(TOL);
  });

  it.each(fixture.cases.map((c) => [c.name, c]))('%s: chrF++ and chrF', (_, c) => {
    expect(Math.abs(corpusChrf(c.hypotheses, c.references).score - c.chrf_pp)).toBeLessThan(TOL);
    expect(Math.abs(corpusChrf(c.hypotheses, c.references, 0).score - c.chrf)).toBeLessThan(TOL);
  });
});

describe('helpers', () => {
  it("splits on Python's whitespace, not JavaScript's", () => {
    // U+FEFF is whitespace to JavaScript's \s but not to Python; U+001C is the other way round.
    expect(pySplit('a\ufeffb c\u001cd')).toEqual(['a\ufeffb', 'c', 'd']);
  });
  it('picks the zh tokenizer for Chinese targets only', () => {
    expect(['zh', 'zh-Hans', 'cmn_Hans', 'en', 'hi', 'zu'].map(bleuTokenizerFor)).toEqual(['zh', 'zh', 'zh', '13a', '13a', '13a']);
  });
  it('refuses hypotheses and references of different counts', () => {
    expect(() => corpusBleu(['a'], [])).toThrow(/1 hypotheses for 0 references/);
    expect(() => corpusChrf([], ['a'])).toThrow(/0 hypotheses for 1 references/);
  });
});

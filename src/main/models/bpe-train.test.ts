// The BPE trainer against the independent reference, Hugging Face `tokenizers` in Python
// (scripts/reference/make_bpe_fixtures.py -> test/fixtures/bpe/python.json):
// - the Python library reads our tokenizer.json and gives the same ids as @huggingface/tokenizers,
//   through the product's loader, on texts of all ten paper languages and on edge cases;
// - Python's BpeTrainer, on the same corpora and settings, learns the same vocabulary and merges
//   (demo corpus, tie-heavy corpora, overlapping pairs, a merge rebuilding an existing string).
// Our tokenizer.json is an input of that script, so it is committed too; this test retrains it and
// requires the same bytes (determinism). To regenerate after a deliberate change:
//   LINGUASCOPE_UPDATE_BPE_FIXTURE=1 npx vitest run src/main/models/bpe-train.test.ts
//   /root/.venvs/ref/bin/python scripts/reference/make_bpe_fixtures.py
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { countWords } from '../analysis/fertility';
import { DEMO_RECIPE } from '../demo/build';
import { BPE_DEMO_VOCAB, demoTokenizerCorpus } from '../demo/tokenizer-corpus';
import { tokenizerConfigJson } from '../io/config-writer';
import { instantiateTokenizer, loadTokenizer, readTokenizerFiles, tokenizeText, type TextTokenizer } from '../io/tokenizer';
import { byteTokenizerFiles } from './byte-tokenizer';
import { bpeTokenizerFiles } from './bpe-tokenizer';
import { metaspaceWords, trainBpe, type BpeCorpusEntry, type BpeTrainOptions } from './bpe-train';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixtureDir = join(repoRoot, 'test/fixtures/bpe');
const UPDATE = process.env.LINGUASCOPE_UPDATE_BPE_FIXTURE === '1';
const LANGS = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];

interface TrainerCase {
  name: string;
  /** The texts, or 'demo' for the demo corpus (stored once in corpus.json). */
  documents: { text: string; weight: number }[] | 'demo';
  vocab_size: number;
  min_frequency: number;
}

/** Corpora for the trainer comparison; the demo's first. */
function trainerCases(): TrainerCase[] {
  const small = (name: string, texts: string[], vocab: number, min = 1): TrainerCase => ({ name, documents: texts.map((text) => ({ text, weight: 1 })), vocab_size: vocab, min_frequency: min });
  return [
    { name: 'demo', documents: 'demo', vocab_size: BPE_DEMO_VOCAB, min_frequency: 2 },
    // Low counts tie by the hundred: the order of thousands of merges is the tie rule alone.
    { name: 'demo-min1-8192', documents: 'demo', vocab_size: 8192, min_frequency: 1 },
    small('ties', ['ab ba cd dc ab ba cd dc', 'ef fe'], 260 + 7 + 8),
    small('overlap', ['aaaa aaa aa baaab aaaaa', 'a a a'], 260 + 3 + 9),
    small('rebuilt-string', ['abc abc xab xab bcy bcy bcy abc'], 260 + 6 + 10),
    small('spaces-newlines', ['  a  b\n c   d\t\te\n\n', ' lead', 'trail  '], 260 + 12 + 12),
    { name: 'weighted', documents: [{ text: 'the cat the hat', weight: 3 }, { text: 'le chat le chapeau', weight: 1 }], vocab_size: 260 + 9 + 10, min_frequency: 2 },
  ];
}

/** Texts encoded by both libraries: held-out and trained paragraphs of every paper language, and
 * edge cases (unseen scripts and emoji go to byte pieces; literal special-token strings; spaces). */
function encodeCases(): { lang: string; source: string; text: string }[] {
  const docs = demoTokenizerCorpus();
  const out: { lang: string; source: string; text: string }[] = [];
  for (const lang of LANGS) {
    const d = docs.find((x) => x.group === lang) as (typeof docs)[number];
    out.push({ lang, source: 'held-out 1', text: d.heldOut[0] });
    out.push({ lang, source: 'held-out 2', text: d.heldOut[1] });
    out.push({ lang, source: 'held-out last', text: d.heldOut[d.heldOut.length - 1] });
    out.push({ lang, source: 'trained', text: d.text.split('\n')[0] });
  }
  const misc = ['', ' ', '   ', 'a', ' leading space', 'trailing space ', 'double  space', 'tab\tand\nnewline\r\n', 'ქართული ენა', '👋🏽 hello 🇮🇳', '<bos>literal<eos> and <unk>', '<0x41> is not A', 'e\u0301 é Å\u030a', '\u00a0no-break', 'a ▁ b ▁▁c', 'aaaaaaaaaaaaaaaa', '１２３ ＡＢＣ', '\u0000\u0001 control', 'Ελληνικά κείμενα', 'नमस्ते दुनिया', 'മലയാളം', '你好，世界。'];
  for (const text of misc) out.push({ lang: 'misc', source: 'edge case', text });
  return out;
}

const demoDocuments = () => demoTokenizerCorpus().map((d) => ({ text: d.text, weight: d.weight }));
const corpusJson = () => `${JSON.stringify({ demo_documents: demoDocuments(), trainer_cases: trainerCases(), encode_cases: encodeCases() })}\n`;

function demoFiles(): { tokenizer: string; config: string } {
  const files = bpeTokenizerFiles(trainBpe(demoTokenizerCorpus(), { vocabSize: BPE_DEMO_VOCAB }));
  return { tokenizer: `${JSON.stringify(files.tokenizer)}\n`, config: tokenizerConfigJson(files.config) };
}

if (UPDATE) {
  mkdirSync(fixtureDir, { recursive: true });
  const files = demoFiles();
  writeFileSync(join(fixtureDir, 'tokenizer.json'), files.tokenizer);
  writeFileSync(join(fixtureDir, 'tokenizer_config.json'), files.config);
  writeFileSync(join(fixtureDir, 'corpus.json'), corpusJson());
}

interface PythonFixture {
  versions: { python: string; tokenizers: string; transformers: string };
  tokenizer_sha256: string;
  transformers_agrees: number;
  corpus_sha256: string;
  encode_cases: { lang: string; source: string; text: string; ids: number[]; ids_with_special: number[]; tokens: string[]; decoded: string }[];
  trainer_cases: { name: string; vocab: string[]; merges: [string, string][] }[];
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const python = JSON.parse(readFileSync(join(fixtureDir, 'python.json'), 'utf8')) as PythonFixture;

describe('the demo tokenizer vs. Hugging Face tokenizers (Python)', () => {
  let tokenizer: TextTokenizer;
  beforeAll(() => {
    tokenizer = loadTokenizer(fixtureDir);
  });

  it('retraining gives the committed tokenizer.json byte for byte, and Python read those bytes', () => {
    const files = demoFiles();
    expect(files.tokenizer === readFileSync(join(fixtureDir, 'tokenizer.json'), 'utf8')).toBe(true);
    expect(files.config).toBe(readFileSync(join(fixtureDir, 'tokenizer_config.json'), 'utf8'));
    expect(python.tokenizer_sha256).toBe(sha256(join(fixtureDir, 'tokenizer.json')));
    // The corpora and texts the script used are the ones this test builds now.
    expect(readFileSync(join(fixtureDir, 'corpus.json'), 'utf8') === corpusJson()).toBe(true);
    expect(python.corpus_sha256).toBe(sha256(join(fixtureDir, 'corpus.json')));
  });

  it('the product loader reads it: BPE, 4096 tokens, <bos> 2, byte pieces labelled per character', () => {
    expect(tokenizer.info.modelType).toBe('BPE');
    expect(tokenizer.info.vocabSize).toBe(BPE_DEMO_VOCAB);
    expect(tokenizer.info.bosId).toBe(2);
    expect([...(tokenizer.specialIds ?? [])].sort()).toEqual([0, 1, 2, 3]);
    // An unseen character is its UTF-8 bytes as <0xNN> pieces (id 4 + byte); the last one shows it.
    const wave = tokenizeText(tokenizer, '👋', true);
    expect(wave.ids).toEqual([2, ...[0xf0, 0x9f, 0x91, 0x8b].map((b) => 4 + b)]);
    expect(wave.texts).toEqual(['<bos>', '', '', '', '👋']);
  });

  it('covers the ten languages and the edge cases', () => {
    const langs = new Set(python.encode_cases.map((c) => c.lang));
    for (const lang of [...LANGS, 'misc']) expect(langs).toContain(lang);
    // The script also ran transformers' AutoTokenizer on the folder and it agreed on every case.
    expect(python.transformers_agrees).toBe(python.encode_cases.length);
  });

  it.each(python.encode_cases.map((c, i) => [`#${i} ${c.lang} ${c.source} ${JSON.stringify(c.text).slice(0, 40)}`, c] as const))('%s', (_t, c) => {
    expect(tokenizer.encode(c.text, false)).toEqual(c.ids);
    expect(tokenizer.encode(c.text, true)).toEqual(c.ids_with_special);
    // (@huggingface/tokenizers refuses to decode an empty list; Python gives ''.)
    if (c.ids.length > 0) expect(tokenizer.decode(c.ids)).toBe(c.decoded);
    else expect(c.decoded).toBe('');
  });

  it.each(trainerCases().map((c) => [c.name, c] as const))('Python BpeTrainer learns the same vocabulary and merges: %s', (name, c) => {
    const ref = python.trainer_cases.find((t) => t.name === name);
    expect(ref).toBeDefined();
    const ours = trainBpe(c.documents === 'demo' ? demoDocuments() : c.documents, { vocabSize: c.vocab_size, minFrequency: c.min_frequency });
    expect(ours.merges.length).toBeGreaterThan(0);
    expect(ours.tokens).toEqual(ref?.vocab);
    expect(ours.merges).toEqual(ref?.merges);
  }, 60_000);
});

describe('unequal data gives unequal merges', () => {
  const docs = demoTokenizerCorpus();
  /** Σ tokens / Σ words (the fertility analysis's formula) on each language's held-out paragraphs. */
  const fertility = (tok: TextTokenizer) =>
    Object.fromEntries(
      LANGS.map((lang) => {
        const d = docs.find((x) => x.group === lang) as (typeof docs)[number];
        let tokens = 0;
        let words = 0;
        for (const p of d.heldOut) {
          tokens += tok.encode(p, false).length;
          words += countWords(p, lang);
        }
        return [lang, tokens / words];
      }),
    );
  const dirs: string[] = [];
  const loadModel = (corpus: BpeCorpusEntry[], options: BpeTrainOptions) => {
    const dir = mkdtempSync(join(tmpdir(), 'bpe-'));
    dirs.push(dir);
    const files = bpeTokenizerFiles(trainBpe(corpus, options));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer));
    writeFileSync(join(dir, 'tokenizer_config.json'), tokenizerConfigJson(files.config));
    return loadTokenizer(dir);
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('against a tokenizer trained on equal data, the high tier spends fewer tokens per word and the medium/low tier more', () => {
    const bpe = fertility(loadTokenizer(fixtureDir));
    // Control: every document at the same weight and the medium/low tier with all its paragraphs.
    const equalCorpus = demoTokenizerCorpus({ ...DEMO_RECIPE, weights: { reference: 1, high: 1, related: 1, low: 1 }, lowFraction: 1 });
    const equal = fertility(loadModel(equalCorpus, { vocabSize: BPE_DEMO_VOCAB }));
    const byteDir = mkdtempSync(join(tmpdir(), 'bytes-'));
    dirs.push(byteDir);
    writeFileSync(join(byteDir, 'tokenizer.json'), JSON.stringify(byteTokenizerFiles().tokenizer));
    const byteLevel = fertility(instantiateTokenizer(readTokenizerFiles(byteDir)));
    const rows = LANGS.map((l) => `${l.padEnd(4)} ${String(docs.find((d) => d.group === l)?.weight).padStart(6)} ${byteLevel[l].toFixed(2).padStart(7)} ${equal[l].toFixed(2).padStart(7)} ${bpe[l].toFixed(2).padStart(6)}`);
    console.log(`tokens per word, held-out articles 25-30\nlang weight   bytes   equal   demo\n${rows.join('\n')}`);
    for (const l of ['en', 'zh', 'ru', 'es', 'it']) expect(bpe[l]).toBeLessThan(equal[l]);
    for (const l of ['id', 'ca', 'mr', 'ml', 'hi']) expect(bpe[l]).toBeGreaterThan(equal[l]);
    for (const l of LANGS) expect(bpe[l]).toBeLessThan(byteLevel[l]);
  }, 60_000);

  it('the same corpus with one language weighted up gives that language fewer tokens per word', () => {
    const base = docs.map((d) => ({ text: d.text, weight: d.weight }));
    const before = fertility(loadModel(base, { vocabSize: BPE_DEMO_VOCAB }));
    for (const lang of ['ca', 'ml']) {
      const boosted = docs.map((d) => ({ text: d.text, weight: d.group === lang ? 12 : d.weight }));
      const after = fertility(loadModel(boosted, { vocabSize: BPE_DEMO_VOCAB }));
      expect(after[lang]).toBeLessThan(before[lang] * 0.9);
    }
  }, 60_000);
});

describe('trainBpe rules', () => {
  it('splits words at ▁ the way the encoder sees them (a ▁ only ever starts a word)', () => {
    expect(metaspaceWords('a  b c')).toEqual(['a', '▁', '▁b', '▁c']);
    expect(metaspaceWords(' x\ny ')).toEqual(['▁x\ny', '▁']);
    expect(metaspaceWords('')).toEqual([]);
    // No merge has a right-hand side starting with ▁, so merges never join two words.
    const m = trainBpe(demoTokenizerCorpus(), { vocabSize: BPE_DEMO_VOCAB });
    expect(m.merges.filter(([, b]) => b.startsWith('▁'))).toEqual([]);
  });

  it('is independent of the order of the corpus entries and of how a weight is spelled', () => {
    const corpus = demoTokenizerCorpus().map((d) => ({ text: d.text, weight: d.weight }));
    const a = trainBpe(corpus, { vocabSize: 2000 });
    expect(trainBpe([...corpus].reverse(), { vocabSize: 2000 })).toEqual(a);
    // Weight 2 is the same as the text given twice.
    const twice = [{ text: 'ab ab cd', weight: 2 }];
    expect(trainBpe(twice, { vocabSize: 300, minFrequency: 1 })).toEqual(trainBpe([{ text: 'ab ab cd' }, { text: 'ab ab cd' }], { vocabSize: 300, minFrequency: 1 }));
  });

  it('stops at vocabSize and at minFrequency', () => {
    const corpus = [{ text: 'abab abab cdcd' }];
    // 260 base + 5 characters (a b c d ▁): room for exactly 3 merges.
    expect(trainBpe(corpus, { vocabSize: 268, minFrequency: 1 }).tokens).toHaveLength(268);
    const counts = trainBpe(corpus, { vocabSize: 400, minFrequency: 3 }).mergeCounts;
    expect(counts.length).toBeGreaterThan(0);
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(3);
  });

  const bad = (corpus: unknown, options: unknown, pattern: RegExp) => {
    try {
      trainBpe(corpus as BpeCorpusEntry[], options as BpeTrainOptions);
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('INVALID_ARGUMENT');
      expect((error as ApiError).message).toMatch(pattern);
      return;
    }
    throw new Error('no error');
  };
  it.each([
    ['no corpus', [], /non-empty list/],
    ['not an array', 'text', /non-empty list/],
    ['entry without text', [{ weight: 1 }], /entry 1 has no text/],
    ['null entry', [null], /entry 1 has no text/],
    ['text a number', [{ text: 5 }], /entry 1 has no text/],
    ['lone high surrogate', [{ text: 'ok' }, { text: 'a\uD83Db' }], /entry 2 .*surrogate/],
    ['lone low surrogate', [{ text: '\uDC4B' }], /surrogate/],
    ['only empty texts', [{ text: '' }, { text: '' }], /no characters/],
  ])('refuses a corpus: %s', (_n, corpus, pattern) => bad(corpus, { vocabSize: 4096 }, pattern));
  it.each([0, -1, 1.5, Number.NaN, Infinity, 1e7, '2'])('refuses weight %s', (weight) => bad([{ text: 'a b', weight }], { vocabSize: 4096 }, /weight/));
  it.each([0, -5, 2.5, Number.NaN, 2 ** 21 + 1, '4096', undefined])('refuses vocabSize %s', (vocabSize) => bad([{ text: 'a b' }], { vocabSize }, /vocabSize .* integer/));
  it('refuses a vocabSize below the base tokens, naming the count', () => bad([{ text: 'abc' }], { vocabSize: 262 }, /below the 263 base tokens/));
  it.each([0, -1, 0.5, Number.NaN])('refuses minFrequency %s', (minFrequency) => bad([{ text: 'a b' }], { vocabSize: 400, minFrequency }, /minFrequency/));
});

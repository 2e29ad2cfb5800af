// Parallel-corpus imports: FLORES-200 and FLORES+ text folders, FLORES+ Hub parquet (written by
// pyarrow), CSV (written and read back by Python's csv module: our rows must equal its rows), TSV
// and JSONL in wide and long shapes; the per-language report; and bad input of each class.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Language } from '../../../shared/dto';
import { tempDir } from '../../../../test/helpers/temp';
import { readCorpusFile } from '../corpus-file';
import { PAPER_LANGUAGES } from '../languages';
import { corpusTsv, importParallel } from './import';
import { languageForLabel } from './languages';
import { PARALLEL_LIMITS } from './types';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', '..', 'test', 'fixtures', 'parallel');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as { csv: Record<string, string[][]>; flores_plus: Record<string, string[]> };
const REGISTRY: Language[] = PAPER_LANGUAGES.map((l) => ({ ...l, defaultTier: l.tier, builtIn: true, paper: true }));
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => {
  const dir = join(tmp.dir, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};
const write = (dir: string, files: Record<string, string | Buffer>) => {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
};

describe('language labels', () => {
  it.each([
    ['hin_Deva', 'hi'], ['zho_Hans', 'zh'], ['cmn_Hans', 'zh'], ['eng_Latn', 'en'], ['cat_Latn', 'ca'], ['mal_Mlym', 'ml'],
    ['mar_Deva', 'mr'], ['ind_Latn', 'id'], ['spa_Latn', 'es'], ['rus_Cyrl', 'ru'], ['ita_Latn', 'it'],
    ['hi', 'hi'], ['HI', 'hi'], ['hin', 'hi'], ['zh-Hans', 'zh'],
  ])('%s is %s', (label, code) => expect(languageForLabel(label, REGISTRY)).toBe(code));

  it.each(['zho_Hant', 'cmn_Hant', 'hin_Latn', 'deu_Latn', 'xx', 'not a code', ''])('%s names no registered language', (label) => {
    expect(languageForLabel(label, REGISTRY)).toBeNull();
  });
});

describe('FLORES text folders', () => {
  const flores200 = () =>
    write(fresh(), {
      'flores200_dataset/dev/eng_Latn.dev': 'One.\nTwo.\nThree.\n',
      'flores200_dataset/dev/hin_Deva.dev': 'एक।\nदो।\nतीन।\n',
      'flores200_dataset/devtest/eng_Latn.devtest': 'Alpha.\nBeta.\n',
      'flores200_dataset/devtest/hin_Deva.devtest': 'अल्फा।\nबीटा।\n',
      'flores200_dataset/devtest/zho_Hant.devtest': '甲。\n乙。\n',
      'flores200_dataset/devtest/deu_Latn.devtest': 'Alpha.\nBeta.\n',
      'flores200_dataset/README': 'not data',
    });

  it('reads devtest by default, aligned by line, and reports the languages it did not import', async () => {
    const got = await importParallel(flores200(), REGISTRY);
    expect(got.format).toBe('flores');
    expect(got.split).toBe('devtest');
    expect(got.rows).toEqual([
      { segment: 'devtest-1', texts: { en: 'Alpha.', hi: 'अल्फा।' } },
      { segment: 'devtest-2', texts: { en: 'Beta.', hi: 'बीटा।' } },
    ]);
    expect(got.languages.map((l) => [l.code, l.label, l.read, l.kept])).toEqual([['en', 'eng_Latn', 2, 2], ['hi', 'hin_Deva', 2, 2]]);
    expect(got.skipped.map((s) => [s.label, s.rows])).toEqual([['deu_Latn', 2], ['zho_Hant', 2]]);
    expect(got.skipped[0].why).toMatch(/no registered language/);
  });

  it('reads the dev split when asked, and the FLORES+ release names ({split}.{code})', async () => {
    expect((await importParallel(flores200(), REGISTRY, { split: 'dev' })).rows.map((r) => r.texts.hi)).toEqual(['एक।', 'दो।', 'तीन।']);
    const plus = write(fresh(), { 'dev/dev.eng_Latn': 'A\nB\n', 'dev/dev.mal_Mlym': 'അ\nബ\n' });
    const got = await importParallel(plus, REGISTRY);
    expect(got.split).toBe('dev');
    expect(got.rows.map((r) => r.texts)).toEqual([{ en: 'A', ml: 'അ' }, { en: 'B', ml: 'ബ' }]);
  });

  it('follows symbolic links, as the Hugging Face cache lays files out', async () => {
    const blobs = write(fresh(), { 'blob1': 'A\nB\n', 'blob2': 'अ\nब\n' });
    const snap = fresh();
    mkdirSync(join(snap, 'devtest'));
    symlinkSync(join(blobs, 'blob1'), join(snap, 'devtest', 'eng_Latn.devtest'));
    symlinkSync(join(blobs, 'blob2'), join(snap, 'devtest', 'hin_Deva.devtest'));
    expect((await importParallel(snap, REGISTRY)).rows).toHaveLength(2);
  });

  it.each([
    ['files of one split with different line counts', { 'devtest/eng_Latn.devtest': 'A\nB\nC\n', 'devtest/hin_Deva.devtest': 'अ\nब\n' }, {}, /hin_Deva\.devtest has 2 lines where eng_Latn\.devtest has 3/],
    ['a language asked for and missing', { 'devtest/eng_Latn.devtest': 'A\n', 'devtest/hin_Deva.devtest': 'अ\n' }, { languages: ['en', 'ml'] }, /has no text in ml \(it has en, hi\)/],
    ['a split that is not there', { 'dev/eng_Latn.dev': 'A\n' }, { split: 'devtest' as const }, /holds no FLORES devtest file \(it has dev\)/],
    ['two files of one language', { 'devtest/eng_Latn.devtest': 'A\n', 'copy/devtest.eng_Latn': 'A\n' }, {}, /is a second eng_Latn devtest file/],
    ['two labels of one language', { 'devtest/zho_Hans.devtest': '甲\n', 'devtest/cmn_Hans.devtest': '甲\n', 'devtest/eng_Latn.devtest': 'A\n' }, {}, /which is zh like/],
    ['a binary file', { 'devtest/eng_Latn.devtest': Buffer.from([0x41, 0x00, 0x0a]) }, {}, /NUL byte/],
    ['bytes that are not UTF-8', { 'devtest/eng_Latn.devtest': Buffer.from([0xff, 0xfe, 0x41, 0x0a]) }, {}, /not valid UTF-8/],
    ['an unknown language code asked for', { 'devtest/eng_Latn.devtest': 'A\n' }, { languages: ['en', 'qq'] }, /unknown language code qq/],
  ])('refuses %s, naming it', async (_, files, options, message) => {
    await expect(importParallel(write(fresh(), files), REGISTRY, options)).rejects.toThrow(message);
  });

  it('refuses a line over the bound when it is crossed', async () => {
    const dir = write(fresh(), { 'devtest/eng_Latn.devtest': `${'x'.repeat(5000)}\n` });
    await expect(importParallel(dir, REGISTRY, {}, { ...PARALLEL_LIMITS, lineBytes: 4096 })).rejects.toThrow(/line 1 is over the 4096-byte limit for one sentence/);
  });
});

describe('FLORES+ parquet from the Hub (written by pyarrow)', () => {
  it('labels each file by its iso_639_3 and iso_15924 columns, reads devtest by default, and keeps ids', async () => {
    const got = await importParallel(join(FIXTURES, 'flores_plus'), REGISTRY);
    expect(got.format).toBe('flores-parquet');
    expect(got.split).toBe('devtest');
    expect(got.languages.map((l) => l.code)).toEqual(['en', 'zh', 'ml', 'hi']);
    expect(got.rows.map((r) => r.segment)).toEqual(['devtest-1', 'devtest-2']);
    for (const [code, label] of [['en', 'eng_Latn'], ['zh', 'cmn_Hans'], ['hi', 'hin_Deva'], ['ml', 'mal_Mlym']]) {
      expect(got.rows.map((r) => r.texts[code])).toEqual(expected.flores_plus[label].slice(2, 4));
    }
    expect(got.skipped.map((s) => s.label)).toEqual(['cmn_Hant']);
    const dev = await importParallel(join(FIXTURES, 'flores_plus'), REGISTRY, { split: 'dev', languages: ['en', 'zh'] });
    expect(dev.rows.map((r) => r.texts.zh)).toEqual(expected.flores_plus.cmn_Hans.slice(0, 3));
    expect(dev.skipped.map((s) => [s.label, s.why])).toContainEqual(['hin_Deva', 'hi was not chosen']);
  });
});

describe('tables', () => {
  it('a wide CSV (quoted commas, quotes and line breaks) reads as Python csv reads it', async () => {
    const got = await importParallel(join(FIXTURES, 'wide.csv'), REGISTRY);
    const [header, ...rows] = expected.csv['wide.csv'];
    expect(header).toEqual(['id', 'en', 'hi', 'ml']);
    // Python's rows with every language filled are the kept segments, texts trimmed and flattened.
    const full = rows.filter((r) => r.slice(1).every((t) => t.trim() !== ''));
    expect(got.rows).toEqual(full.map((r) => ({ segment: r[0], texts: { en: r[1].replace(/\n/g, ' '), hi: r[2], ml: r[3] } })));
    const en = got.languages.find((l) => l.code === 'en')!;
    const ml = got.languages.find((l) => l.code === 'ml')!;
    expect([en.read, en.incomplete, en.kept, ml.empty]).toEqual([rows.length, 1, full.length, 1]);
  });

  it('a long CSV keeps the segments every language has and counts the rest per language', async () => {
    const got = await importParallel(join(FIXTURES, 'long.csv'), REGISTRY);
    const rows = expected.csv['long.csv'].slice(1);
    expect(got.rows.map((r) => r.segment)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(got.rows[2].texts).toEqual({ en: rows.find((r) => r[0] === 'p3' && r[1] === 'en')![2], hi: rows.find((r) => r[0] === 'p3' && r[1] === 'hi')![2] });
    expect(got.languages.find((l) => l.code === 'en')!.incomplete).toBe(1);
  });

  it('TSV and JSONL in both shapes; the written corpus reads back through the corpus reader', async () => {
    const dir = write(fresh(), {
      'wide.tsv': 'segment\ten\tml\nx1\tHello\tഹലോ\nx2\tBye\t\n',
      'long.jsonl': '{"id": 7, "language": "eng_Latn", "text": "Seven"}\n{"id": 7, "language": "hi", "text": "सात"}\n\n{"id": 7, "language": "hi", "text": "again"}\n',
    });
    const tsv = await importParallel(join(dir, 'wide.tsv'), REGISTRY);
    expect(tsv.rows).toEqual([{ segment: 'x1', texts: { en: 'Hello', ml: 'ഹലോ' } }]);
    const jsonl = await importParallel(join(dir, 'long.jsonl'), REGISTRY);
    expect(jsonl.rows).toEqual([{ segment: '7', texts: { en: 'Seven', hi: 'सात' } }]);
    expect(jsonl.languages.find((l) => l.code === 'hi')!.duplicate).toBe(1);
    writeFileSync(join(dir, 'corpus.tsv'), corpusTsv(jsonl));
    expect(readCorpusFile(join(dir, 'corpus.tsv'), ['en', 'hi']).segments).toEqual([{ key: '7', text: { en: 'Seven', hi: 'सात' }, rows: { en: 2, hi: 3 } }]);
  });

  it.each([
    ['a long table without a segment column', 'a.csv', 'language,text\nen,Hi\n', /no segment column/],
    ['a long table with extra columns', 'a.csv', 'id,language,text,note\n1,en,Hi,x\n', /and also 'note': a long table has exactly id, language and text/],
    ['a number in a text column', 'a.jsonl', '{"id": 1, "en": 5}\n', /"en" holds a number, not text/],
    ['a line that is not JSON', 'a.jsonl', '{"id": 1, "en": "A"}\n{oops\n', /a\.jsonl line 2: is not valid JSON/],
    ['a CSV row with a missing column', 'a.csv', 'id,en,hi\n1,A\n', /not a readable CSV file/],
    ['an unterminated CSV quote', 'a.csv', 'id,en\n1,"A\n', /not a readable CSV file/],
    ['a TSV row with too many columns', 'a.tsv', 'id\ten\n1\tA\tB\n', /line 2: has 3 tab-separated columns where the header has 2/],
    ['a header naming a column twice', 'a.tsv', 'id\ten\tEN\n1\tA\tB\n', /names the column "EN" twice/],
    ['a segment id with a tab', 'a.jsonl', '{"id": "a\\tb", "en": "A"}\n', /holds a tab or line break/],
    ['a file of no known kind', 'a.txt', 'hello\n', /not a corpus file LinguaScope reads/],
    ['an empty CSV', 'a.csv', '', /is empty/],
    ['a table of languages the registry does not know', 'a.csv', 'id,xx,yy\n1,A,B\n', /holds no language the registry knows/],
    ['parquet that is not parquet', 'a.parquet', 'PAR1 not really', /not a readable parquet file/],
  ])('refuses %s, naming the file', async (_, name, content, message) => {
    const dir = write(fresh(), { [name]: content });
    await expect(importParallel(join(dir, name), REGISTRY)).rejects.toThrow(message);
  });
});

// corpus.browse on a real backend (SQLite registry, bundled UDHR, corpus files on disk): pages of
// the aligned segments, search over ids and texts, left-out segments with why, and a bad corpus
// file as the same typed error the analysis gives; the argument schema refuses malformed pages.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { backendContract } from '../../../shared/contract';
import type { CorpusPage, CorpusPreview } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { createBackend, type Backend } from '../backend';
import type { JobContext } from '../handler';

const tmp = tempDir('corpus-browse-');
const ctx: JobContext = { jobId: 'call', signal: new AbortController().signal, progress: () => {}, log: () => {} };
let backend: Backend;
const browse = (arg: Record<string, unknown>) => (backend.handlers['corpus.browse'] as (a: unknown, c: JobContext) => Promise<CorpusPage>)(arg, ctx);
const HEADER = 'segment\tlanguage\ttext\n';

function file(name: string, content: string | Buffer): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, content);
  return path;
}

async function failure(arg: Record<string, unknown>): Promise<ApiError> {
  try {
    await browse(arg);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a typed error');
}

beforeAll(() => {
  backend = createBackend({ dbPath: join(tmp.dir, 'corpus.db') });
});
afterAll(async () => {
  await backend.close();
  tmp.cleanup();
});

describe('corpus.browse: the bundled UDHR', () => {
  it('pages through the same aligned segments the preview counts, English first', async () => {
    const preview = await (backend.handlers['corpus.preview'] as (a: unknown, c: JobContext) => Promise<CorpusPreview>)({ languages: ['en', 'hi', 'ml'], limit: 6 }, ctx);
    const first = await browse({ languages: ['hi', 'ml'], limit: 6 });
    expect(first.languages).toEqual(['en', 'hi', 'ml']);
    expect(first.total).toBe(preview.corpus.alignedSegments);
    expect(first.matched).toBe(first.total);
    expect(first.segments.map((s) => s.key)).toEqual(preview.segments.map((s) => s.key));
    expect(first.segments[0].texts.hi).toBe(preview.segments[0].texts.hi);
    // One at a time: page k is the k-th segment.
    for (let k = 0; k < 6; k++) {
      const one = await browse({ languages: ['hi', 'ml'], offset: k, limit: 1 });
      expect(one.offset).toBe(k);
      expect(one.segments.map((s) => s.key)).toEqual([first.segments[k].key]);
    }
    expect(first.leftOutCount).toBe(first.leftOut.length);
  });

  it('finds segments by a word in any language or by id, whatever its case or Unicode form', async () => {
    const all = await browse({ languages: ['hi', 'ml'], limit: 100 });
    const target = all.segments[7];
    const word = target.texts.hi.split(/\s+/).find((w) => w.length > 3)!;
    const found = await browse({ languages: ['hi', 'ml'], query: word, limit: 100 });
    expect(found.matched).toBeGreaterThan(0);
    expect(found.segments.map((s) => s.key)).toContain(target.key);
    for (const s of found.segments) expect(Object.values(s.texts).some((t) => t.normalize('NFKC').toLowerCase().includes(word.normalize('NFKC').toLowerCase()))).toBe(true);
    // English in another case, and a full-width Latin query (NFKC folds it).
    const upper = await browse({ languages: ['hi'], query: 'EVERYONE HAS THE RIGHT', limit: 100 });
    expect(upper.matched).toBeGreaterThan(3);
    const wide = await browse({ languages: ['hi'], query: 'ｅｖｅｒｙｏｎｅ ｈａｓ ｔｈｅ ｒｉｇｈｔ', limit: 100 });
    expect(wide.segments.map((s) => s.key)).toEqual(upper.segments.map((s) => s.key));
    const byId = await browse({ languages: ['hi'], query: 'article.3', limit: 100 });
    expect(byId.segments.every((s) => s.key.includes('article.3') || Object.values(s.texts).some((t) => t.toLowerCase().includes('article.3')))).toBe(true);
    expect(byId.segments.map((s) => s.key)).toContain(all.segments.find((s) => s.key.startsWith('article.3'))!.key);
  });

  it('answers a search that matches nothing with an empty page, and an offset past the end with the last page', async () => {
    const none = await browse({ languages: ['hi'], query: 'zzqqxxnothing' });
    expect(none).toMatchObject({ matched: 0, offset: 0, segments: [] });
    const total = (await browse({ languages: ['hi'], limit: 1 })).total;
    const past = await browse({ languages: ['hi'], offset: total + 50, limit: 10 });
    expect(past.offset).toBe(Math.floor((total - 1) / 10) * 10);
    expect(past.segments.length).toBe(total - past.offset);
  });
});

describe('corpus.browse: a corpus file', () => {
  it('reads the aligned segments and lists each one left out with the languages it lacks', async () => {
    const path = file(
      'mine.tsv',
      HEADER + ['s1\ten\tThe cat sleeps.', 's1\thi\tबिल्ली सोती है।', 's2\ten\tOnly English.', 's3\thi\tकेवल हिंदी।', 's4\ten\tA dog runs.', 's4\thi\tकुत्ता दौड़ता है।', 's4\tml\tനായ ഓടുന്നു.'].join('\n') + '\n',
    );
    const page = await browse({ languages: ['hi'], corpus: path, limit: 10 });
    expect(page).toMatchObject({ source: path, label: 'mine.tsv', languages: ['en', 'hi'], total: 2, matched: 2, merged: [] });
    expect(page.segments).toEqual([
      { key: 's1', texts: { en: 'The cat sleeps.', hi: 'बिल्ली सोती है।' } },
      { key: 's4', texts: { en: 'A dog runs.', hi: 'कुत्ता दौड़ता है।' } },
    ]);
    expect(page.leftOut).toEqual([
      { key: 's2', reason: 'no text in hi' },
      { key: 's3', reason: 'no text in en' },
    ]);
    expect((await browse({ languages: ['hi', 'ml'], corpus: path })).leftOut).toEqual([
      { key: 's1', reason: 'no text in ml' },
      { key: 's2', reason: 'no text in hi, ml' },
      { key: 's3', reason: 'no text in en, ml' },
    ]);
    expect((await browse({ languages: ['hi'], corpus: path, query: 'कुत्ता' })).segments.map((s) => s.key)).toEqual(['s4']);
    // The file changed on disk: the next page reads the new content (no stale copy).
    file('mine.tsv', HEADER + 's9\ten\tNew.\ns9\thi\tनया।\n');
    expect((await browse({ languages: ['hi'], corpus: path })).segments.map((s) => s.key)).toEqual(['s9']);
  });

  it('refuses a bad corpus file with the typed error a run gives, naming the file and row', async () => {
    mkdirSync(join(tmp.dir, 'folder.tsv'));
    const cases: [string, string | Buffer, string, RegExp][] = [
      ['header.tsv', 'id\tlang\ttext\ns1\ten\tx\n', 'INVALID_ARGUMENT', /row 1: the header must be/],
      ['columns.tsv', HEADER + 's1\ten\n', 'INVALID_ARGUMENT', /row 2: expected 3 tab-separated columns/],
      ['latin1.tsv', Buffer.concat([Buffer.from(HEADER + 's1\ten\t'), Buffer.from([0xe9, 0x0a])]), 'INVALID_ARGUMENT', /not valid UTF-8 \(row 2\)/],
      ['binary.tsv', Buffer.concat([Buffer.from(HEADER), Buffer.from([0, 1, 2, 0x0a])]), 'INVALID_ARGUMENT', /NUL byte/],
      ['unknown.tsv', HEADER + 's1\ten\tx\ns1\tqqq\ty\n', 'UNKNOWN_LANGUAGE', /row 3: unknown language code "qqq"/],
      ['english-only.tsv', HEADER + 's1\ten\tx\n', 'LANGUAGE_NOT_IN_CORPUS', /no segment with a text in every chosen language \(en, hi\)/],
      ['empty.tsv', '', 'INVALID_ARGUMENT', /is empty/],
    ];
    for (const [name, content, code, message] of cases) {
      const e = await failure({ languages: ['hi'], corpus: file(name, content) });
      expect(e.code, name).toBe(code);
      expect(e.message, name).toMatch(message);
      expect(e.message, name).toContain(name);
    }
    expect((await failure({ languages: ['hi'], corpus: join(tmp.dir, 'folder.tsv') })).message).toMatch(/is a folder, not a corpus file/);
    expect((await failure({ languages: ['hi'], corpus: join(tmp.dir, 'missing.tsv') })).code).toBe('INVALID_ARGUMENT');
  });

  it('names the phrases.json beside a corpus file: none for the UDHR, a bare file, or a folder of that name; found once written, even after the corpus was read', async () => {
    expect((await browse({ languages: ['hi'], limit: 1 })).phrasesFile).toBeNull();
    const dir = join(tmp.dir, 'dataset');
    mkdirSync(dir);
    const corpus = join(dir, 'corpus.tsv');
    writeFileSync(corpus, HEADER + 's1\ten\tThe cat sleeps.\ns1\thi\tबिल्ली सोती है।\n');
    expect((await browse({ languages: ['hi'], corpus, limit: 1 })).phrasesFile).toBeNull();
    // A folder named phrases.json is not the file the analysis reads.
    mkdirSync(join(dir, 'phrases.json'));
    expect((await browse({ languages: ['hi'], corpus, limit: 1 })).phrasesFile).toBeNull();
    const other = join(tmp.dir, 'dataset-2');
    mkdirSync(other);
    const corpus2 = join(other, 'corpus.tsv');
    writeFileSync(corpus2, HEADER + 's1\ten\tA dog runs.\ns1\thi\tकुत्ता दौड़ता है।\n');
    expect((await browse({ languages: ['hi'], corpus: corpus2, limit: 1 })).phrasesFile).toBeNull();
    // Written after the corpus was read (and cached): the next answer names it.
    writeFileSync(join(other, 'phrases.json'), '[]\n');
    expect((await browse({ languages: ['hi'], corpus: corpus2, limit: 1 })).phrasesFile).toBe(join(other, 'phrases.json'));
  });

  it('refuses an unknown chosen language before reading anything', async () => {
    expect((await failure({ languages: ['qqq'] })).code).toBe('UNKNOWN_LANGUAGE');
  });
});

describe('corpus.browse arguments', () => {
  const parse = (arg: unknown) => backendContract['corpus.browse'].input.safeParse(arg).success;
  it('accepts a page and refuses malformed ones', () => {
    expect(parse({ languages: ['hi'], offset: 0, limit: 100, query: '', corpus: 'udhr' })).toBe(true);
    for (const bad of [
      { languages: [] },
      { languages: ['hi'], offset: -1 },
      { languages: ['hi'], offset: 1.5 },
      { languages: ['hi'], limit: 0 },
      { languages: ['hi'], limit: 101 },
      { languages: ['hi'], query: 'x'.repeat(201) },
      { languages: ['hi'], corpus: '' },
      { languages: ['hi'], page: 2 },
      { languages: 'hi' },
    ]) {
      expect(parse(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

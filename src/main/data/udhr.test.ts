import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { PAPER_LANGUAGES } from './languages';
import { decodeEntities, loadUdhr, parseUdhrHtml } from './udhr';

describe('UDHR parsing', () => {
  it.each([
    ['&#x26;', '&'],
    ['&#38;', '&'],
    ['a &amp; b &lt;c&gt;', 'a & b <c>'],
    ['&unknown;', '&unknown;'],
    ['&#x1F600;', '😀'],
  ])('decodes %s', (input, expected) => expect(decodeEntities(input)).toBe(expected));

  it('takes the preamble and numbered articles, paragraphs only, whitespace collapsed', () => {
    const html = `<html><body><h1>Title</h1><header><h2>Preamble</h2><p>One\n   two</p><p>Three &#x26; four</p></header>
      <article data-number="1"><h2>Article 1</h2><p>First.</p></article>
      <article data-number="2"><h2>Article 2</h2><ol><li><p>A <em>b</em>.</p></li><li><p>C.</p></li></ol></article></body></html>`;
    expect(parseUdhrHtml('tst', html)).toEqual({
      code: 'tst',
      sections: [
        { key: 'preamble', paragraphs: ['One two', 'Three & four'] },
        { key: 'article.1', paragraphs: ['First.'] },
        { key: 'article.2', paragraphs: ['A b.', 'C.'] },
      ],
    });
  });

  it.each(PAPER_LANGUAGES.map((l) => [l.code, l.corpusCode]))('has the preamble and 30 articles for %s (%s)', (_code, corpusCode) => {
    const doc = loadUdhr(corpusCode);
    expect(doc.sections[0].key).toBe('preamble');
    expect(doc.sections.filter((s) => s.key.startsWith('article.')).map((s) => s.key)).toEqual(
      Array.from({ length: 30 }, (_, i) => `article.${i + 1}`),
    );
    expect(doc.sections.every((s) => s.paragraphs.every((p) => p.length > 0 && !/[<>]/.test(p)))).toBe(true);
  });

  it('names a language the corpus lacks', () => {
    expect(() => loadUdhr('xx_nope')).toThrowError(ApiError);
    try {
      loadUdhr('xx_nope');
    } catch (e) {
      expect((e as ApiError).code).toBe('LANGUAGE_NOT_IN_CORPUS');
      expect((e as ApiError).message).toContain('xx_nope');
    }
  });
});

import { describe, expect, it } from 'vitest';
import { alignDocuments, segmentText } from './alignment';
import type { UdhrDocument } from './udhr';

const doc = (code: string, sections: [string, string[]][]): UdhrDocument => ({
  code,
  sections: sections.map(([key, paragraphs]) => ({ key, paragraphs })),
});

describe('alignDocuments', () => {
  const en = doc('en', [['preamble', ['p1', 'p2']], ['article.1', ['a1']], ['article.2', ['b1', 'b2']], ['article.3', ['c1']]]);
  const xx = doc('xx', [['preamble', ['q1']], ['article.1', ['x1']], ['article.2', ['y1', 'y2']]]);

  it('splits sections with equal paragraph counts, keeps the others whole, drops missing ones', () => {
    const a = alignDocuments({ en, xx });
    expect(a.segments.map((s) => s.key)).toEqual(['preamble', 'article.1.1', 'article.2.1', 'article.2.2']);
    expect(a.mergedSections).toEqual(['preamble']);
    expect(segmentText(a.segments[0], 'en')).toBe('p1\np2');
    expect(segmentText(a.segments[0], 'xx')).toBe('q1');
    expect(a.segments[3]).toMatchObject({ section: 'article.2', paragraph: 2, paragraphs: { en: ['b2'], xx: ['y2'] } });
  });

  it('gives one language all its paragraphs and a stable hash of the keys', () => {
    const a = alignDocuments({ en });
    expect(a.segments).toHaveLength(6);
    expect(a.mergedSections).toEqual([]);
    expect(alignDocuments({ en }).hash).toBe(a.hash);
    expect(alignDocuments({ en, xx }).hash).not.toBe(a.hash);
  });

  it('handles no documents', () => {
    expect(alignDocuments({}).segments).toEqual([]);
  });
});

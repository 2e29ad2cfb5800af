// Aligns UDHR documents of several languages into parallel segments.
// A section (preamble or article) whose paragraph count is equal in every language is split into
// one segment per paragraph (`article.26.2`); otherwise the whole section is one segment
// (`article.26`) made of its paragraphs joined by a newline. Sections missing from any language
// are dropped. Segment order follows the first document.
import { createHash } from 'node:crypto';
import type { CorpusInfo } from '../../shared/dto';
import { UDHR_VERSION, type UdhrDocument } from './udhr';

export interface Segment {
  key: string;
  /** The section this segment comes from (`preamble`, `article.N`). */
  section: string;
  /** 1-based paragraph index, or null when the segment is the whole (merged) section. */
  paragraph: number | null;
  /** Per language: the paragraphs this segment spans (one, or all of a merged section). */
  paragraphs: Record<string, string[]>;
}

export interface Alignment {
  segments: Segment[];
  mergedSections: string[];
  /** sha256 of the ordered segment keys. */
  hash: string;
}

/** documents: language code -> document. */
export function alignDocuments(documents: Record<string, UdhrDocument>): Alignment {
  const codes = Object.keys(documents);
  if (codes.length === 0) return { segments: [], mergedSections: [], hash: hashKeys([]) };
  const byKey = codes.map((code) => new Map(documents[code].sections.map((s) => [s.key, s.paragraphs])));
  const segments: Segment[] = [];
  const mergedSections: string[] = [];
  for (const section of documents[codes[0]].sections) {
    const perLanguage = byKey.map((m) => m.get(section.key));
    if (perLanguage.some((p) => p === undefined)) continue;
    const counts = new Set(perLanguage.map((p) => p!.length));
    if (counts.size === 1) {
      for (let i = 0; i < section.paragraphs.length; i++) {
        const paragraphs: Record<string, string[]> = {};
        codes.forEach((code, j) => (paragraphs[code] = [perLanguage[j]![i]]));
        segments.push({ key: `${section.key}.${i + 1}`, section: section.key, paragraph: i + 1, paragraphs });
      }
    } else {
      const paragraphs: Record<string, string[]> = {};
      codes.forEach((code, j) => (paragraphs[code] = perLanguage[j]!));
      segments.push({ key: section.key, section: section.key, paragraph: null, paragraphs });
      mergedSections.push(section.key);
    }
  }
  return { segments, mergedSections, hash: hashKeys(segments.map((s) => s.key)) };
}

function hashKeys(keys: string[]): string {
  return createHash('sha256').update(keys.join('\n')).digest('hex');
}

/** The text of a segment in one language. */
export function segmentText(segment: Segment, code: string): string {
  return segment.paragraphs[code].join('\n');
}

/** How an alignment of the bundled UDHR corpus is reported with every result. */
export function corpusInfo(alignment: Alignment): CorpusInfo {
  return {
    name: 'udhr',
    version: UDHR_VERSION,
    alignedSegments: alignment.segments.length,
    mergedArticles: alignment.mergedSections,
    alignmentHash: alignment.hash,
  };
}

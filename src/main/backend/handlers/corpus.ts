// The Corpus step's browser: one page of aligned segments of the bundled UDHR or of a user's corpus
// file, found by a search over segment ids and texts, and the segments the analysis leaves out.
// A corpus file is read by the same reader (and with the same known-language rule) as the analysis
// reads it, so a bad file fails here with the error a run would give.
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { AlignedSegment, CorpusPage } from '../../../shared/dto';
import { alignDocuments } from '../../data/alignment';
import { readCorpusFile } from '../../data/corpus-file';
import { REFERENCE_LANGUAGE } from '../../data/languages';
import type { LanguageRegistry } from '../../data/registry';
import { loadUdhr, UDHR_VERSION } from '../../data/udhr';
import type { HandlerMap } from '../handler';

interface Corpus {
  source: string;
  label: string;
  segments: AlignedSegment[];
  leftOut: { key: string; reason: string }[];
  merged: string[];
}

const PAGE = 20;
/** Left-out segments listed in one answer (a file may lack a language in most of its rows). */
const LEFT_OUT_SHOWN = 500;

/** Case- and form-insensitive text for search: NFKC folds full-width and compatibility forms. */
const fold = (text: string) => text.normalize('NFKC').toLowerCase();

const list = (codes: readonly string[]) => codes.join(', ');

function udhrCorpus(registry: LanguageRegistry, codes: readonly string[]): Corpus {
  const languages = registry.resolve(codes);
  const documents = Object.fromEntries(languages.map((l) => [l.code, loadUdhr(l.corpusCode)]));
  const alignment = alignDocuments(documents);
  // A section missing from some language's document is dropped by the alignment; say which.
  const kept = new Set(alignment.segments.map((s) => s.section));
  const sections = new Map<string, string[]>();
  for (const l of languages) for (const section of documents[l.code].sections) if (!kept.has(section.key)) sections.set(section.key, [...(sections.get(section.key) ?? []), l.code]);
  const leftOut = [...sections].map(([key, have]) => ({ key, reason: `no text in ${list(codes.filter((c) => !have.includes(c)))}` }));
  return {
    source: 'udhr',
    label: `udhr ${UDHR_VERSION}`,
    segments: alignment.segments.map((s) => ({ key: s.key, texts: Object.fromEntries(codes.map((c) => [c, s.paragraphs[c].join('\n')])) })),
    leftOut,
    merged: alignment.mergedSections,
  };
}

/** The last corpus file read, by path, size, modification time and languages: paging and search
 * through a large file read it once. */
let lastFile: { key: string; corpus: Corpus } | null = null;

function fileCorpus(registry: LanguageRegistry, file: string, codes: readonly string[]): Corpus {
  const path = resolve(file);
  let stamp = '';
  try {
    const st = statSync(path);
    stamp = `${st.size}|${st.mtimeMs}|${st.ino}`;
  } catch {
    // The reader below reports a missing or unreadable file with its typed error.
  }
  const key = `${path}|${stamp}|${codes.join(',')}`;
  if (stamp && lastFile?.key === key) return lastFile.corpus;
  // Registered languages, and any language of the UDHR collection (by BCP 47 tag or corpus code).
  const known = new Set([...registry.list().map((l) => l.code), ...registry.corpusLanguages().flatMap((l) => [l.bcp47, l.corpusCode])]);
  const { segments, incomplete, missing } = readCorpusFile(path, codes, (c) => known.has(c));
  const corpus: Corpus = {
    source: path,
    label: basename(path),
    segments: segments.map((s) => ({ key: s.key, texts: s.text })),
    leftOut: incomplete.map((k) => ({ key: k, reason: `no text in ${list(missing[k] ?? [])}` })),
    merged: [],
  };
  if (stamp) lastFile = { key, corpus };
  return corpus;
}

/** The phrases.json beside a corpus file, if there is one. Checked on every call (not cached with
 * the corpus): a translation may write it after the corpus was first read. */
function phrasesBeside(corpus: string | undefined): string | null {
  if (!corpus || corpus === 'udhr') return null;
  const path = join(dirname(resolve(corpus)), 'phrases.json');
  try {
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

export function corpusHandlers(registry: LanguageRegistry): HandlerMap<'corpus.browse'> {
  return {
    'corpus.browse': async ({ languages, corpus, offset, limit, query }) => {
      const chosen = registry.canonicalCodes(languages);
      const codes = [REFERENCE_LANGUAGE, ...chosen.filter((c) => c !== REFERENCE_LANGUAGE)];
      const registered = registry.resolve(codes).map((l) => l.code);
      const c = !corpus || corpus === 'udhr' ? udhrCorpus(registry, registered) : fileCorpus(registry, corpus, registered);
      const q = fold(query?.trim() ?? '');
      const matching = q ? c.segments.filter((s) => fold(s.key).includes(q) || Object.values(s.texts).some((t) => fold(t).includes(q))) : c.segments;
      const size = limit ?? PAGE;
      // An offset past the end (the list shrank under a new search) shows the last page.
      const start = (offset ?? 0) < matching.length ? (offset ?? 0) : Math.max(0, Math.floor((matching.length - 1) / size) * size);
      return {
        source: c.source,
        label: c.label,
        languages: registered,
        total: c.segments.length,
        matched: matching.length,
        offset: start,
        segments: matching.slice(start, start + size),
        leftOut: c.leftOut.slice(0, LEFT_OUT_SHOWN),
        leftOutCount: c.leftOut.length,
        merged: c.merged,
        phrasesFile: phrasesBeside(corpus),
      } satisfies CorpusPage;
    },
  };
}

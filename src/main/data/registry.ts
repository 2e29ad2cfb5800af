// The language registry as the app sees it: the paper's preset languages with the user's tier
// edits, plus languages the user added from the corpus. Backed by the store.
//
// Invariants (registry.test.ts):
// - one language per corpus entry: every spelling of a code ("EN", "eng", "zh_Hans", "ZH-hans")
//   leads to one registry code (registry-codes.ts), and adding a registered language is refused
//   with LANGUAGE_ALREADY_REGISTERED;
// - exactly one reference language, English: every ratio, gap and the English active set of the
//   activation cache are defined against English, so a tier change that would move the reference
//   is refused with REFERENCE_LANGUAGE_FIXED rather than leaving numbers labelled with a
//   reference they were not computed against;
// - presets cannot be removed (LANGUAGE_NOT_REMOVABLE; they can be deselected), user-added
//   languages can.
import { createHash } from 'node:crypto';
import type { CorpusLanguage, Language, Tier } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { LanguagesRepo } from '../store/languages-repo';
import { dominantScript, PAPER_LANGUAGES, REFERENCE_LANGUAGE } from './languages';
import { corpusEntryFor, documentText, registryCodeFor } from './registry-codes';
import { loadUdhr, udhrEntries, type UdhrDocument } from './udhr';

export { documentText } from './registry-codes';

export class LanguageRegistry {
  constructor(private readonly repo: LanguagesRepo) {}

  list(): Language[] {
    const overrides = this.repo.tierOverrides();
    const builtIn = PAPER_LANGUAGES.map<Language>((l) => ({
      code: l.code,
      name: l.name,
      script: l.script,
      // Only a valid override counts: English is the reference whatever an old database holds.
      tier: l.code === REFERENCE_LANGUAGE ? 'reference' : nonReference(overrides.get(l.code)) ?? l.tier,
      defaultTier: l.tier,
      corpusCode: l.corpusCode,
      builtIn: true,
      paper: true,
    }));
    const entries = new Map(udhrEntries().map((e) => [e.code, e]));
    const custom = this.repo.customLanguages().map<Language>((r) => {
      const entry = entries.get(r.corpus_code);
      return {
        code: entry ? registryCodeFor(entry) : r.corpus_code,
        name: r.name,
        script: r.script,
        tier: r.tier,
        defaultTier: r.tier,
        corpusCode: r.corpus_code,
        builtIn: false,
        paper: false,
      };
    });
    return [...builtIn, ...custom];
  }

  /** The registered language `code` names under any spelling (`EN`, `eng`, `zh_Hans`), or
   * undefined; INVALID_ARGUMENT when `code` is not a language code at all. */
  find(code: string): Language | undefined {
    const list = this.list();
    const exact = list.find((l) => l.code === code);
    if (exact) return exact;
    const entry = corpusEntryFor(code);
    return entry ? list.find((l) => l.corpusCode === entry.code) : undefined;
  }

  get(code: string): Language {
    const found = this.find(code);
    if (!found) throw unknownLanguages([code]);
    return found;
  }

  /** Resolves registry codes exactly, in order, naming every unknown one in a single error (with
   * the registered code when one is a spelling of it). Callers that index data by the codes they
   * pass rely on the exact match; `canonicalCodes` maps spellings first. */
  resolve(codes: readonly string[]): Language[] {
    const all = new Map(this.list().map((l) => [l.code, l]));
    const unknown = codes.filter((c) => !all.has(c));
    if (unknown.length) throw unknownLanguages(unknown, (c) => this.spellingOf(c));
    return [...new Set(codes)].map((c) => all.get(c)!);
  }

  /** Registry codes of `codes` given in any spelling, without repeats, in order; one error names
   * every code that is not registered. */
  canonicalCodes(codes: readonly string[]): string[] {
    const found = codes.map((c) => [c, this.find(c)] as const);
    const unknown = found.filter(([, l]) => !l).map(([c]) => c);
    if (unknown.length) throw unknownLanguages(unknown);
    return [...new Set(found.map(([, l]) => l!.code))];
  }

  setTier(code: string, tier: Tier): Language {
    const language = this.get(code);
    if (language.code === REFERENCE_LANGUAGE && tier !== 'reference') {
      throw referenceFixed(`English is the reference language and stays "reference": every ratio and gap is measured against it`, language.code, tier);
    }
    if (language.code !== REFERENCE_LANGUAGE && tier === 'reference') {
      throw referenceFixed(
        `${language.name} (${language.code}) cannot be the reference: English is the one reference language every ratio and gap is measured against; choose high or medium-low`,
        language.code,
        tier,
      );
    }
    if (tier === 'reference') return language;
    if (language.builtIn) {
      if (tier === language.defaultTier) this.repo.clearTierOverride(language.code);
      else this.repo.setTierOverride(language.code, tier);
    } else {
      this.repo.setCustomTier(language.corpusCode, tier);
    }
    return this.get(language.code);
  }

  /** Adds a corpus language by any of its codes: BCP 47 tag (`de`, `zh-Hant`), UDHR code
   * (`deu_1996`) or ISO 639-3 code, in any case, with `_` or `-`. */
  add(code: string, tier: Tier = 'medium-low'): Language {
    const entry = corpusEntryFor(code);
    if (!entry) {
      throw new ApiError(
        'UNKNOWN_LANGUAGE',
        `unknown language "${code.trim()}": the bundled UDHR corpus has no language with that code`,
        { codes: [code.trim()] },
      );
    }
    const registered = this.list().find((l) => l.corpusCode === entry.code);
    if (registered) {
      throw new ApiError(
        'LANGUAGE_ALREADY_REGISTERED',
        `"${code.trim()}" is ${registered.name}, already in the registry as "${registered.code}"`,
        { code: code.trim(), registered: registered.code },
      );
    }
    if (tier === 'reference') {
      throw referenceFixed(`an added language cannot be the reference: English is the one reference language; choose high or medium-low`, code.trim(), tier);
    }
    const doc = loadUdhr(entry.code);
    this.repo.addCustom({ corpus_code: entry.code, name: entry.name, script: dominantScript(documentText(doc)), tier });
    return this.get(registryCodeFor(entry));
  }

  /** Removes a user-added language; the paper's presets can only be deselected. */
  remove(code: string): boolean {
    const language = this.get(code);
    if (language.builtIn) {
      throw new ApiError(
        'LANGUAGE_NOT_REMOVABLE',
        `${language.name} (${language.code}) is one of the paper's preset languages and cannot be removed; deselect it instead`,
        { code: language.code },
      );
    }
    return this.repo.removeCustom(language.corpusCode);
  }

  corpusLanguages(): CorpusLanguage[] {
    const byCorpus = new Map(this.list().map((l) => [l.corpusCode, l.code]));
    return udhrEntries()
      .map((e) => ({ corpusCode: e.code, bcp47: e.bcp47, name: e.name, registered: byCorpus.get(e.code) ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private spellingOf(code: string): string | undefined {
    try {
      return this.find(code)?.code;
    } catch {
      return undefined;
    }
  }
}

function nonReference(tier: Tier | undefined): Exclude<Tier, 'reference'> | undefined {
  return tier === 'high' || tier === 'medium-low' ? tier : undefined;
}

function referenceFixed(message: string, code: string, tier: Tier): ApiError {
  return new ApiError('REFERENCE_LANGUAGE_FIXED', message, { code, tier, reference: REFERENCE_LANGUAGE });
}

function unknownLanguages(codes: string[], registeredAs: (code: string) => string | undefined = () => undefined): ApiError {
  const list = codes.map((c) => `"${c}"`).join(', ');
  const spelled = codes.map((c) => [c, registeredAs(c)] as const).filter(([, r]) => r);
  const inCorpus = codes.some((c) => {
    try {
      return !!corpusEntryFor(c);
    } catch {
      return false;
    }
  });
  const hint = spelled.length
    ? ` (registered as ${spelled.map(([c, r]) => `"${r}" for "${c}"`).join(', ')}: use that code)`
    : inCorpus
      ? ' (it is in the corpus: add it first, e.g. `linguascope languages add CODE`)'
      : '';
  return new ApiError(
    'UNKNOWN_LANGUAGE',
    `unknown language${codes.length > 1 ? 's' : ''} ${list}: not in the language registry${hint}`,
    { codes },
  );
}

/** Content hash of a document's text, so cached counts follow the text, not the package version. */
export function documentHash(doc: UdhrDocument): string {
  const hash = createHash('sha256');
  for (const s of doc.sections) hash.update(s.key).update('\0').update(s.paragraphs.join('\u0001')).update('\0');
  return hash.digest('hex');
}

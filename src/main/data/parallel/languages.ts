// Which registered language a parallel corpus's language label names. Labels come as FLORES codes
// (`hin_Deva`, FLORES-200's `zho_Hans`, FLORES+'s `cmn_Hans`), registry codes (`hi`) or any
// spelling the registry knows (`hin`, `zh-Hans`). A FLORES code is matched on its ISO 639-3
// language (a macrolanguage and its main individual language count as one: `zho` is `cmn`) and
// its script, so `zho_Hant` never lands on Simplified Chinese. A label no registered language
// answers to is not guessed at: the import reports it as dropped, naming it.
import type { Language } from '../../../shared/dto';
import { ISO_15924 } from '../languages-code';
import { corpusEntryFor } from '../registry-codes';

/** ISO 639-3 macrolanguages FLORES-200 names by the macrolanguage and corpora by the individual
 * language (or the other way round). */
const MACRO: Readonly<Record<string, readonly string[]>> = {
  zho: ['cmn'], ara: ['arb'], fas: ['pes'], msa: ['zsm'], swa: ['swh'], est: ['ekk'], lav: ['lvs'],
  nep: ['npi'], ori: ['ory'], pus: ['pbt'], uzb: ['uzn'], mon: ['khk'], aze: ['azj'], yid: ['ydd'], kur: ['kmr'],
};

const FLORES = /^([a-z]{3})_([A-Z][a-z]{3})$/;

export function isFloresCode(label: string): boolean {
  return FLORES.test(label);
}

function sameLanguage(a: string, b: string): boolean {
  return a === b || (MACRO[a]?.includes(b) ?? false) || (MACRO[b]?.includes(a) ?? false);
}

/** The ISO 15924 codes a registered language's text is written in: the script its corpus code
 * spells (`cmn_hans` -> Hans), else its script name's codes (Han covers Hans and Hant). */
function scriptsOf(language: Language): string[] {
  const spelled = /_([a-z]{4})$/.exec(language.corpusCode)?.[1];
  if (spelled) return [spelled[0].toUpperCase() + spelled.slice(1)];
  const codes = [...(ISO_15924[language.script] ?? [])];
  if (codes.includes('Hani')) codes.push('Hans', 'Hant');
  return codes;
}

function iso6393Of(language: Language): string | null {
  try {
    return corpusEntryFor(language.corpusCode)?.iso6393.toLowerCase() ?? null;
  } catch {
    return null;
  }
}

/** The registry code `label` names among `languages`, or null. */
export function languageForLabel(label: string, languages: readonly Language[]): string | null {
  const exact = languages.find((l) => l.code === label) ?? languages.find((l) => l.code.toLowerCase() === label.toLowerCase());
  if (exact) return exact.code;
  const flores = FLORES.exec(label);
  if (flores) {
    const [, lang, script] = flores;
    const hit = languages.find((l) => {
      const iso = iso6393Of(l);
      return iso !== null && sameLanguage(iso, lang) && scriptsOf(l).includes(script);
    });
    return hit?.code ?? null;
  }
  let entryCode: string | undefined;
  try {
    entryCode = corpusEntryFor(label)?.code;
  } catch {
    return null;
  }
  return entryCode ? (languages.find((l) => l.corpusCode === entryCode)?.code ?? null) : null;
}

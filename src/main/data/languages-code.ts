// Language codes as people type them, in one canonical spelling. Tags follow BCP 47 (RFC 5646):
// langtag = language ["-" script] ["-" region] *("-" variant) ["-" "x" 1*("-" 1*8alphanum)], with
// the case conventions of its section 2.1.1: language lower case ("ZH" -> "zh"), script Title case
// ("hans" -> "Hans"), region upper case ("br" -> "BR"), variants and private use lower case.
// Codes are case-insensitive, so canonical spelling is what makes "EN" and "en" one language.
// `_` is read as `-` because the UDHR corpus and many tools write `zh_Hans`.
import { ApiError } from '../../shared/errors';

export interface LanguageTag {
  language: string;
  script: string | null;
  region: string | null;
  variants: string[];
  privateUse: string[];
  /** The whole tag in canonical spelling, e.g. `zh-Hans-CN`. */
  tag: string;
}

const MAX_CODE_LENGTH = 64;

/** Trims surrounding whitespace and checks the characters: letters and digits in subtags joined
 * by `-` or `_` (corpus codes such as `chr_uppercase` have subtags longer than BCP 47's 8).
 * Throws INVALID_ARGUMENT naming the problem. */
export function cleanCodeInput(input: string): string {
  const code = input.trim();
  if (code === '') throw invalid(input, 'it is empty');
  if (code.length > MAX_CODE_LENGTH) throw invalid(input, `it is longer than ${MAX_CODE_LENGTH} characters`);
  const bad = /[^A-Za-z0-9_-]/u.exec(code);
  if (bad) {
    const shown = /\s/u.test(bad[0]) ? 'whitespace' : /[\p{Cc}\p{Cf}]/u.test(bad[0]) ? 'a control character' : `"${bad[0]}"`;
    throw invalid(input, `it contains ${shown}; use letters, digits and "-" such as en, zh-Hans or pt-BR`);
  }
  if (/^[-_]|[-_]$|[-_]{2}/.test(code)) throw invalid(input, 'it has an empty subtag');
  return code;
}

/** Parses a BCP 47 language tag (no extlang or extensions: no corpus uses them) into canonical
 * spelling. Throws INVALID_ARGUMENT naming the subtag that does not fit. */
export function canonicalTag(input: string): LanguageTag {
  const subtags = cleanCodeInput(input).split(/[-_]/);
  const long = subtags.find((s) => s.length > 8);
  if (long) throw invalid(input, `subtag "${long}" is longer than 8 characters`);
  const [first, ...rest] = subtags;
  if (!/^[A-Za-z]{2,3}$/.test(first)) {
    throw invalid(input, `"${first}" is not a language subtag (2 or 3 letters, such as en or yue)`);
  }
  const tag: LanguageTag = { language: first.toLowerCase(), script: null, region: null, variants: [], privateUse: [], tag: '' };
  let i = 0;
  if (i < rest.length && /^[A-Za-z]{4}$/.test(rest[i])) tag.script = titleCase(rest[i++]);
  if (i < rest.length && /^([A-Za-z]{2}|[0-9]{3})$/.test(rest[i])) tag.region = rest[i++].toUpperCase();
  while (i < rest.length && /^([A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3})$/.test(rest[i])) {
    const variant = rest[i++].toLowerCase();
    if (tag.variants.includes(variant)) throw invalid(input, `variant "${variant}" appears twice`);
    tag.variants.push(variant);
  }
  if (i < rest.length && rest[i].toLowerCase() === 'x') {
    tag.privateUse = rest.slice(i + 1).map((s) => s.toLowerCase());
    if (tag.privateUse.length === 0) throw invalid(input, 'the private-use part "x" has no subtag after it');
    i = rest.length;
  }
  if (i < rest.length) {
    const where = tag.script || tag.region || tag.variants.length ? 'in that place' : 'after the language';
    throw invalid(input, `"${rest[i]}" is not a script (4 letters), region (2 letters or 3 digits) or variant (5-8 characters) ${where}`);
  }
  tag.tag = [tag.language, tag.script, tag.region, ...tag.variants, ...(tag.privateUse.length ? ['x', ...tag.privateUse] : [])]
    .filter((s): s is string => !!s)
    .join('-');
  return tag;
}

function titleCase(s: string): string {
  return s[0].toUpperCase() + s.slice(1).toLowerCase();
}

function invalid(input: string, why: string): ApiError {
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return new ApiError('INVALID_ARGUMENT', `${JSON.stringify(shown)} is not a language code: ${why}`, { code: shown });
}

/** ISO 15924 codes of the script names `dominantScript` reports (`Japanese` = Han + kana). */
export const ISO_15924: Readonly<Record<string, readonly string[]>> = {
  Latin: ['Latn'], Cyrillic: ['Cyrl'], Greek: ['Grek'], Arabic: ['Arab'], Hebrew: ['Hebr'],
  Devanagari: ['Deva'], Bengali: ['Beng'], Gurmukhi: ['Guru'], Gujarati: ['Gujr'], Oriya: ['Orya'],
  Tamil: ['Taml'], Telugu: ['Telu'], Kannada: ['Knda'], Malayalam: ['Mlym'], Sinhala: ['Sinh'],
  Thai: ['Thai'], Lao: ['Laoo'], Tibetan: ['Tibt'], Myanmar: ['Mymr'], Georgian: ['Geor'],
  Armenian: ['Armn'], Ethiopic: ['Ethi'], Khmer: ['Khmr'], Han: ['Hani'], Japanese: ['Jpan'],
  Hangul: ['Hang', 'Kore'], Mongolian: ['Mong'], Cherokee: ['Cher'], 'Canadian Aboriginal': ['Cans'],
  Tifinagh: ['Tfng'], Thaana: ['Thaa'], Syriac: ['Syrc'], Vai: ['Vaii'], Yi: ['Yiii'], Nko: ['Nkoo'],
};

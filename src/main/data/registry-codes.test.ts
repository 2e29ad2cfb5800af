import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { PAPER_LANGUAGES } from './languages';
import { canonicalTag } from './languages-code';
import { corpusEntryFor, registryCodeFor } from './registry-codes';
import { udhrEntries } from './udhr';

const entries = udhrEntries();

describe('corpus codes: every alias of a UDHR text leads to it, and it has one registry code', () => {
  it('gives each of the 532 texts a distinct code that leads back to it, in canonical spelling', () => {
    expect(entries.length).toBeGreaterThan(500);
    const seen = new Map<string, string>();
    for (const e of entries) {
      const code = registryCodeFor(e);
      expect(seen.get(code), `${code} for ${e.code} and ${seen.get(code)}`).toBeUndefined();
      seen.set(code, e.code);
      expect(corpusEntryFor(code)?.code, code).toBe(e.code);
      // A BCP 47 tag in canonical spelling, or the corpus code where no tag names the text alone.
      if (code !== e.code) expect(canonicalTag(code).tag).toBe(code);
    }
  });

  it('finds every text by its corpus code in any case and with - for _', () => {
    for (const e of entries) {
      for (const spelling of [e.code, e.code.toUpperCase(), e.code.toLowerCase(), e.code.replace(/_/g, '-'), ` ${e.code}\t`]) {
        expect(corpusEntryFor(spelling)?.code, spelling).toBe(e.code);
      }
    }
  });

  it('keeps the paper codes for its ten languages', () => {
    for (const l of PAPER_LANGUAGES) {
      const entry = entries.find((e) => e.code === l.corpusCode)!;
      expect(registryCodeFor(entry)).toBe(l.code);
      expect(corpusEntryFor(l.code)?.code).toBe(l.corpusCode);
      expect(corpusEntryFor(l.code.toUpperCase())?.code).toBe(l.corpusCode);
    }
  });

  it.each([
    ['EN', 'eng', 'en'], ['eng', 'eng', 'en'], ['Eng', 'eng', 'en'],
    ['zh_Hans', 'cmn_hans', 'zh'], ['ZH-hans', 'cmn_hans', 'zh'], ['CMN_HANS', 'cmn_hans', 'zh'], ['zh', 'cmn_hans', 'zh'],
    ['zh-hant', 'cmn_hant', 'zh-Hant'], ['cmn-Hant', 'cmn_hant', 'zh-Hant'],
    ['ru-Cyrl', 'rus', 'ru'], ['hi-deva', 'hin', 'hi'], ['en-Latn', 'eng', 'en'], ['ja-Jpan', 'jpn', 'ja'],
    ['pt-br', 'por_BR', 'pt-BR'], ['POR_br', 'por_BR', 'pt-BR'], ['sr_cyrl', 'srp_cyrl', 'sr-Cyrl'],
    ['de', 'deu_1996', 'de'], ['deu', 'deu_1996', 'de'], ['DEU_1996', 'deu_1996', 'de'], ['de-1901', 'deu_1901', 'de-1901'],
    ['lv', 'lav', 'lv'], ['HA-ne', 'hau_NE', 'ha-NE'], ['008', '008', '008'], ['chr_UPPERCASE', 'chr_uppercase', 'chr_uppercase'],
  ])('%j is the text %s, registry code %s', (input, corpusCode, code) => {
    const entry = corpusEntryFor(input);
    expect(entry?.code).toBe(corpusCode);
    expect(registryCodeFor(entry!)).toBe(code);
  });

  // A region or script the corpus does not have is never dropped to a neighbour: zh-TW is not
  // Simplified Chinese, ml-Latn is not the Malayalam-script text.
  it.each(['en-US', 'zh-TW', 'ml-Latn', 'und', 'qq', 'xx-Latn', 'de-x-foo'])('%j names no text', (input) => {
    expect(corpusEntryFor(input)).toBeUndefined();
  });

  it.each(['', 'en us', 'e', 'en--', '../etc', 'en\u0000'])('%j is refused as no code at all', (input) => {
    expect(() => corpusEntryFor(input)).toThrow(ApiError);
  });
});

import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { canonicalTag, cleanCodeInput } from './languages-code';

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

describe('canonicalTag: one spelling per BCP 47 tag', () => {
  it.each([
    // case variants of the language subtag
    ['EN', 'en'], ['En', 'en'], ['eN', 'en'], ['YUE', 'yue'],
    // script Title case, region upper case, variants lower case
    ['ZH-hans', 'zh-Hans'], ['zh-HANS', 'zh-Hans'], ['zh-hant-tw', 'zh-Hant-TW'], ['pt-br', 'pt-BR'],
    ['SR-latn-rs', 'sr-Latn-RS'], ['es-419', 'es-419'], ['DE-1996', 'de-1996'], ['sl-ROZAJ-biske', 'sl-rozaj-biske'],
    ['en-X-Private', 'en-x-private'],
    // underscores for hyphens
    ['zh_Hans', 'zh-Hans'], ['pt_BR', 'pt-BR'], ['sr_Cyrl_RS', 'sr-Cyrl-RS'], ['zh_hans-cn', 'zh-Hans-CN'],
    // surrounding whitespace
    ['  en ', 'en'], ['\tzh-Hans\n', 'zh-Hans'],
  ])('%j -> %s', (input, canonical) => {
    expect(canonicalTag(input).tag).toBe(canonical);
  });

  it('splits the subtags by kind', () => {
    expect(canonicalTag('zh_hant_tw')).toMatchObject({ language: 'zh', script: 'Hant', region: 'TW', variants: [] });
    expect(canonicalTag('de-CH-1996')).toMatchObject({ language: 'de', script: null, region: 'CH', variants: ['1996'] });
  });

  it.each([
    ['', /it is empty/],
    ['   ', /it is empty/],
    ['e', /"e" is not a language subtag/],
    ['english', /"english" is not a language subtag/],
    ['12', /"12" is not a language subtag/],
    ['en-', /empty subtag/],
    ['-en', /empty subtag/],
    ['en--US', /empty subtag/],
    ['en__US', /empty subtag/],
    ['en US', /contains whitespace/],
    ['zh\tHans', /contains whitespace/],
    ['en\u0000', /control character/],
    ['en\u200bUS', /control character/],
    ['en.US', /contains "\."/],
    ['en;DROP TABLE', /contains ";"/],
    ['日本語', /contains "日"/],
    ['zh-Hans-Hant', /"Hant" is not a script/],
    ['en-US-GB', /"GB" is not a script/],
    ['en-u-ca-buddhist', /"u" is not a script/],
    ['en-x', /private-use part "x" has no subtag/],
    ['de-1996-1996', /variant "1996" appears twice/],
    ['en-abcdefghi', /longer than 8 characters/],
    ['x'.repeat(65), /longer than 64 characters/],
  ])('refuses %j with a typed error naming the problem', (input, message) => {
    const error = apiError(() => canonicalTag(input));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/is not a language code/);
  });

  it('accepts long corpus-code subtags before the BCP 47 check (chr_uppercase, nya_chinyanja)', () => {
    expect(cleanCodeInput(' chr_uppercase ')).toBe('chr_uppercase');
    expect(apiError(() => canonicalTag('chr_uppercase')).message).toMatch(/longer than 8/);
  });
});

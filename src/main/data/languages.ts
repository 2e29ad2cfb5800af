// The language registry: the paper's ten languages built in (arXiv 2507.18918), tiers editable,
// and any language the bundled corpus has can be added.
import type { Tier } from '../../shared/dto';

export interface BuiltInLanguage {
  code: string;
  name: string;
  script: string;
  tier: Tier;
  corpusCode: string;
}

/** `en` is the reference; high: zh ru es it; medium-low: id ca mr ml hi (paper-facts.md). */
export const PAPER_LANGUAGES: readonly BuiltInLanguage[] = [
  { code: 'en', name: 'English', script: 'Latin', tier: 'reference', corpusCode: 'eng' },
  { code: 'zh', name: 'Chinese (Simplified)', script: 'Han', tier: 'high', corpusCode: 'cmn_hans' },
  { code: 'ru', name: 'Russian', script: 'Cyrillic', tier: 'high', corpusCode: 'rus' },
  { code: 'es', name: 'Spanish', script: 'Latin', tier: 'high', corpusCode: 'spa' },
  { code: 'it', name: 'Italian', script: 'Latin', tier: 'high', corpusCode: 'ita' },
  { code: 'id', name: 'Indonesian', script: 'Latin', tier: 'medium-low', corpusCode: 'ind' },
  { code: 'ca', name: 'Catalan', script: 'Latin', tier: 'medium-low', corpusCode: 'cat' },
  { code: 'mr', name: 'Marathi', script: 'Devanagari', tier: 'medium-low', corpusCode: 'mar' },
  { code: 'ml', name: 'Malayalam', script: 'Malayalam', tier: 'medium-low', corpusCode: 'mal' },
  { code: 'hi', name: 'Hindi', script: 'Devanagari', tier: 'medium-low', corpusCode: 'hin' },
];

export const REFERENCE_LANGUAGE = 'en';

const SCRIPTS = [
  'Latin', 'Cyrillic', 'Greek', 'Arabic', 'Hebrew', 'Devanagari', 'Bengali', 'Gurmukhi', 'Gujarati',
  'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan', 'Myanmar',
  'Georgian', 'Armenian', 'Ethiopic', 'Khmer', 'Han', 'Hiragana', 'Katakana', 'Hangul', 'Mongolian',
  'Cherokee', 'Canadian_Aboriginal', 'Tifinagh', 'Thaana', 'Syriac', 'Vai', 'Yi', 'Nko',
] as const;

const SCRIPT_PATTERNS = SCRIPTS.map((name) => ({ name, pattern: new RegExp(`\\p{Script=${name}}`, 'u') }));

/** The script most letters of `text` are written in (Unicode Script property), or `Unknown`. */
export function dominantScript(text: string): string {
  const counts = new Map<string, number>();
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    const hit = SCRIPT_PATTERNS.find((s) => s.pattern.test(ch));
    const name = hit ? hit.name : 'Other';
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  // Japanese mixes kana and kanji: count them as one writing system.
  const kana = (counts.get('Hiragana') ?? 0) + (counts.get('Katakana') ?? 0);
  if (kana > 0) {
    counts.set('Japanese', kana + (counts.get('Han') ?? 0));
    counts.delete('Hiragana');
    counts.delete('Katakana');
    counts.delete('Han');
  }
  let best = 'Unknown';
  let bestCount = 0;
  for (const [name, count] of counts) {
    if (count > bestCount) [best, bestCount] = [name, count];
  }
  return best.replace('_', ' ');
}

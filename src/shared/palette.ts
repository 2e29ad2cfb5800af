// One colour per language, the same on screen (recharts), in exported SVG/PNG files and in the
// HTML report. Hues come from palettes designed to stay apart under the common colour-vision
// deficiencies: Okabe & Ito's eight (2008) without its yellow (1.2:1 on white: a line in it
// cannot be seen), then Paul Tol's "muted" scheme for the languages past the seventh. A hue never
// carries the tier: that is the line's dash (solid for the reference and high-resource languages,
// dashed for medium/low-resource ones), so tier reads in grey-scale print too.
import type { Tier } from './dto';

/** Okabe-Ito, English first (black, the reference), then the strongest contrasts on white. */
const OKABE_ITO = ['#000000', '#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];
/** Paul Tol's muted scheme, those nearest an Okabe-Ito hue (purple, green, cyan) and the palest
 * (sand) last, so the paper's ten languages get the ten most distinct. */
const TOL_MUTED = ['#882255', '#332288', '#999933', '#cc6677', '#44aa99', '#aa4499', '#117733', '#88ccee', '#ddcc77'];

export const LANGUAGE_PALETTE: readonly string[] = [...OKABE_ITO, ...TOL_MUTED];

/** Dash patterns by tier; past the palette's length hues repeat, so a second pattern set tells
 * the repeats apart (k-th round of the palette). */
const TIER_DASH: Record<Tier, readonly string[]> = {
  reference: ['', '1 3', '12 3 1 3'],
  high: ['', '1 3', '12 3 1 3'],
  'medium-low': ['7 4', '3 3', '10 3 3 3'],
};

export interface LanguageStyle {
  /** Stroke and fill of the language's line, points and swatches. */
  color: string;
  /** The same hue darkened until it reads as text on white (>= 4.5:1): end labels, legend text. */
  textColor: string;
  /** stroke-dasharray ('' = solid). */
  dash: string;
  /** The reference language (English): drawn thicker. */
  emphasis: boolean;
}

function channels(hex: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];
}

function toHex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => Math.round(c).toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG 2 relative luminance of an sRGB colour. */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio (1..21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour scaled towards black (hue kept) until it has `ratio` contrast on white. */
export function readableOnWhite(hex: string, ratio = 4.5): string {
  let rgb = channels(hex);
  for (let k = 0; k < 100 && contrast(toHex(rgb), '#ffffff') < ratio; k++) rgb = rgb.map((c) => c * 0.95) as [number, number, number];
  return toHex(rgb);
}

/** Each language's style, by its place in `languages` (so a language keeps its colour in every
 * figure of one result). English, when present, takes black; the others take the palette in order. */
export function languageStyles(languages: readonly { code: string; tier: Tier }[]): Map<string, LanguageStyle> {
  const out = new Map<string, LanguageStyle>();
  const others = LANGUAGE_PALETTE.length - 1;
  let i = 0;
  for (const l of languages) {
    // English is black; the others take the rest in order, whether or not English is listed.
    const k = l.code === 'en' ? -1 : i++;
    const color = k < 0 ? LANGUAGE_PALETTE[0] : LANGUAGE_PALETTE[1 + (k % others)];
    const round = k < 0 ? 0 : Math.floor(k / others);
    const dashes = TIER_DASH[l.tier];
    out.set(l.code, { color, textColor: readableOnWhite(color), dash: dashes[round % dashes.length], emphasis: l.code === 'en' });
  }
  return out;
}

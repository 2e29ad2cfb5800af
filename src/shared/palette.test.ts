import { describe, expect, it } from 'vitest';
import type { Tier } from './dto';
import { contrast, LANGUAGE_PALETTE, languageStyles, readableOnWhite } from './palette';

// Machado, Oliveira & Fernandes (2009), full-severity simulation matrices on linear sRGB.
const CVD: Record<string, number[][]> = {
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  tritanopia: [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.3039]],
  none: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
};

const linear = (hex: string) =>
  [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });

/** CIELAB (D65) of linear sRGB. */
function lab([r, g, b]: number[]): number[] {
  const xyz = [0.4124 * r + 0.3576 * g + 0.1805 * b, 0.2126 * r + 0.7152 * g + 0.0722 * b, 0.0193 * r + 0.1192 * g + 0.9505 * b];
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : ((24389 / 27) * t + 16) / 116);
  const [fx, fy, fz] = [f(xyz[0] / 0.95047), f(xyz[1]), f(xyz[2] / 1.08883)];
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

const hue = (hex: string) => {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return Math.atan2(Math.sqrt(3) * (g - b), 2 * r - g - b);
};

const PAPER: { code: string; tier: Tier }[] = [
  { code: 'en', tier: 'reference' },
  ...['zh', 'ru', 'es', 'it'].map((code) => ({ code, tier: 'high' as const })),
  ...['id', 'ca', 'mr', 'ml', 'hi'].map((code) => ({ code, tier: 'medium-low' as const })),
];

describe('language palette', () => {
  it('gives the paper\'s ten languages ten hues that stay apart under protanopia, deuteranopia and tritanopia', () => {
    const styles = languageStyles(PAPER);
    const colors = PAPER.map((l) => styles.get(l.code)!.color);
    expect(new Set(colors).size).toBe(10);
    expect(styles.get('en')!.color).toBe('#000000');
    for (const [name, m] of Object.entries(CVD)) {
      const labs = colors.map((c) => lab(m.map((row) => Math.min(1, Math.max(0, row.reduce((s, v, j) => s + v * linear(c)[j], 0))))));
      for (let i = 0; i < labs.length; i++)
        for (let j = i + 1; j < labs.length; j++) {
          // Delta E (CIE76) above 12: clearly different at a glance.
          expect(Math.hypot(...labs[i].map((v, k) => v - labs[j][k])), `${name}: ${colors[i]} vs ${colors[j]}`).toBeGreaterThan(12);
        }
    }
  });

  it('shows the tier by dash, never by hue: medium/low dashed, high and reference solid', () => {
    const styles = languageStyles(PAPER);
    for (const l of PAPER) expect(styles.get(l.code)!.dash === '', l.code).toBe(l.tier !== 'medium-low');
    // The same place in the list keeps its hue when its tier changes.
    const moved = languageStyles(PAPER.map((l) => (l.code === 'es' ? { ...l, tier: 'medium-low' as const } : l)));
    expect(moved.get('es')!.color).toBe(styles.get('es')!.color);
    expect(moved.get('es')!.dash).not.toBe('');
  });

  it('keeps English black wherever it is listed, and the others in their order', () => {
    const a = languageStyles([{ code: 'hi', tier: 'medium-low' }, { code: 'en', tier: 'reference' }, { code: 'es', tier: 'high' }]);
    expect(a.get('en')!.color).toBe('#000000');
    expect(a.get('hi')!.color).toBe(LANGUAGE_PALETTE[1]);
    expect(a.get('es')!.color).toBe(LANGUAGE_PALETTE[2]);
    expect(languageStyles([{ code: 'hi', tier: 'medium-low' }]).get('hi')!.color).toBe(LANGUAGE_PALETTE[1]);
  });

  it('tells apart languages past the palette\'s length by a second dash pattern', () => {
    const many = Array.from({ length: 3 * LANGUAGE_PALETTE.length }, (_, i) => ({ code: `x${i}`, tier: (i % 2 ? 'high' : 'medium-low') as Tier }));
    const styles = languageStyles(many);
    const pairs = many.map((l) => `${l.tier}|${styles.get(l.code)!.color}|${styles.get(l.code)!.dash}`);
    expect(new Set(pairs).size).toBe(many.length);
  });

  it('darkens every hue, keeping it, until its text reads at 4.5:1 on white', () => {
    for (const color of LANGUAGE_PALETTE) {
      const text = readableOnWhite(color);
      expect(contrast(text, '#ffffff'), color).toBeGreaterThanOrEqual(4.5);
      if (color !== '#000000') expect(Math.abs(hue(text) - hue(color)), color).toBeLessThan(0.05);
      // Colours already dark enough are kept as they are.
      if (contrast(color, '#ffffff') >= 4.5) expect(text).toBe(color);
    }
    for (const s of languageStyles(PAPER).values()) expect(contrast(s.textColor, '#ffffff')).toBeGreaterThanOrEqual(4.5);
    // WCAG's own example values: black on white is 21:1, white on white 1:1.
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 6);
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });
});

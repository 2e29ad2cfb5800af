import { describe, expect, it } from 'vitest';
import { languageStyles } from '../../../../shared/palette';
import { divergingFill, languageLegend, lineStyles, niceTicks, tokenGroups, tokenShade } from './data';

describe('results helpers', () => {
  it('gives every language its own hue and shows the tier by dash (the palette the exported files use)', () => {
    const languages = [
      { code: 'en', name: 'English', tier: 'reference' as const },
      { code: 'es', name: 'Spanish', tier: 'high' as const },
      { code: 'zh', name: 'Chinese', tier: 'high' as const },
      { code: 'hi', name: 'Hindi', tier: 'medium-low' as const },
    ];
    const s = lineStyles(languages);
    expect(new Set(Object.values(s).map((x) => x.color)).size).toBe(4);
    expect([s.en.dash, s.es.dash, s.zh.dash]).toEqual(['', '', '']);
    expect(s.hi.dash).not.toBe('');
    const shared = languageStyles(languages);
    for (const l of languages) expect(s[l.code]).toEqual(shared.get(l.code));
    // The exported legend: one row per tier, each language in its style.
    const legend = languageLegend(languages);
    expect(legend.map((g) => g.heading)).toEqual(['reference (en)', 'high-resource', 'medium/low-resource']);
    // Tiers keep their order when the languages come in another.
    expect(languageLegend([...languages].reverse()).map((g) => g.heading)).toEqual(['reference (en)', 'high-resource', 'medium/low-resource']);
    expect(legend.flatMap((g) => g.items.map((i) => i.label))).toEqual(['English (en)', 'Spanish (es)', 'Chinese (zh)', 'Hindi (hi)']);
    expect(legend.flatMap((g) => g.items).find((i) => i.label === 'Hindi (hi)')).toMatchObject({ color: s.hi.color, dash: s.hi.dash, textColor: s.hi.textColor });
  });

  it('puts 0 and every value on round ticks', () => {
    expect(niceTicks([-69.3, -203.1, -62.3])).toEqual([-250, -200, -150, -100, -50, 0]);
    expect(niceTicks([3, 12])).toEqual([0, 2.5, 5, 7.5, 10, 12.5]);
    expect(niceTicks([])).toEqual([0, 1]);
  });

  it('shades white at 0, orange for a deficit, blue for a surplus, grey when undefined', () => {
    expect(divergingFill(0, 10)).toBe('rgb(255, 255, 255)');
    expect(divergingFill(10, 10)).toBe('rgb(234, 88, 12)');
    expect(divergingFill(-10, 10)).toBe('rgb(37, 99, 235)');
    expect(divergingFill(null, 10)).toBe('#e5e7eb');
    expect(tokenShade(0, 5)).toBe('transparent');
    expect(tokenShade(5, 5)).toBe('rgba(234, 88, 12, 1.000)');
  });

  it('groups byte pieces with the token that completes the character, keeping the largest value', () => {
    // "<bos>", "h", then "é" cut into two byte tokens, then an unfinished piece at the end.
    const tokens = [{ text: '<bos>' }, { text: 'h' }, { text: '' }, { text: 'é' }, { text: '' }];
    const groups = tokenGroups(tokens, [9, 1, 4, 0.5, 2]);
    expect(groups).toEqual([
      { text: '<bos>', positions: [0], value: 9 },
      { text: 'h', positions: [1], value: 1 },
      { text: 'é', positions: [2, 3], value: 4 },
      { text: '\uFFFD', positions: [4], value: 2 },
    ]);
    expect(tokenGroups([], [])).toEqual([]);
  });
});

describe('heatmap cell text', () => {
  it('reaches 4.5:1 on every fill of the diverging scale', async () => {
    const { textOn } = await import('./data');
    const { contrastRatio, parseColor } = await import('../../components/contrast');
    for (let k = -200; k <= 200; k++) {
      const v = (k / 200) * 37.5;
      const ratio = contrastRatio(parseColor(divergingFill(v, 37.5))!, parseColor(textOn(v, 37.5))!);
      expect(ratio, `value ${v}`).toBeGreaterThanOrEqual(4.5);
    }
    expect(contrastRatio(parseColor(divergingFill(null, 1))!, parseColor(textOn(null, 1))!)).toBeGreaterThanOrEqual(4.5);
  });
});

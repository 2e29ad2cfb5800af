import { describe, expect, it } from 'vitest';
import { divergingFill, lineStyles, niceTicks, tokenGroups, tokenShade } from './data';

describe('results helpers', () => {
  it('gives languages of one tier the tier colour and distinct dashes', () => {
    const s = lineStyles([
      { code: 'en', name: 'English', tier: 'reference' },
      { code: 'es', name: 'Spanish', tier: 'high' },
      { code: 'zh', name: 'Chinese', tier: 'high' },
    ]);
    expect(s.es.color).toBe(s.zh.color);
    expect(s.es.dash).not.toBe(s.zh.dash);
    expect(s.en.color).not.toBe(s.es.color);
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

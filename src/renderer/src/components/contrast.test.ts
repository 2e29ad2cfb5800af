import { describe, expect, it } from 'vitest';
import { TIER_COLORS } from '../../../shared/tiers';
import { contrastRatio, parseColor, readableTextOn } from './contrast';

describe('WCAG contrast', () => {
  it('matches the published ratios', () => {
    expect(contrastRatio([0, 0, 0], [255, 255, 255])).toBeCloseTo(21, 6);
    // #767676 on white is the classic 4.54:1 grey; #777777 falls just under 4.5.
    expect(contrastRatio(parseColor('#767676')!, [255, 255, 255])).toBeCloseTo(4.54, 2);
    expect(contrastRatio(parseColor('#777777')!, [255, 255, 255])).toBeLessThan(4.5);
    expect(contrastRatio(parseColor('#ea580c')!, [255, 255, 255])).toBeCloseTo(3.56, 2);
    expect(contrastRatio(parseColor('#c2410c')!, [255, 255, 255])).toBeGreaterThan(4.5);
  });

  it('parses hex and rgb() and refuses the rest', () => {
    expect(parseColor('#fff')).toEqual([255, 255, 255]);
    expect(parseColor('rgb(1, 2, 3)')).toEqual([1, 2, 3]);
    for (const c of ['', 'red', '#12345', 'rgba(1,2,3,0.5)', 'rgb(1,2)']) expect(parseColor(c), c).toBeNull();
  });

  it('black or white text reaches 4.5:1 on every grey and every mix of white with any colour', () => {
    for (let v = 0; v <= 255; v++) {
      const fill = `rgb(${v}, ${v}, ${v})`;
      const text = readableTextOn(fill) === '#000000' ? [0, 0, 0] : [255, 255, 255];
      expect(contrastRatio([v, v, v], text as [number, number, number]), fill).toBeGreaterThanOrEqual(4.5);
    }
  });
});

describe('tier colours', () => {
  it('read as text on white (heatmap row labels, line end labels): >= 4.5:1', () => {
    for (const [tier, color] of Object.entries(TIER_COLORS)) expect(contrastRatio(parseColor(color)!, [255, 255, 255]), tier).toBeGreaterThanOrEqual(4.5);
  });
});

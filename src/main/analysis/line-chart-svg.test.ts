import { describe, expect, it } from 'vitest';
import { lineChartSvg } from './line-chart-svg';

const attr = (tag: string, name: string) => [...tag.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

describe('line chart SVG', () => {
  const x = [0, 1, 2, 3];
  const series = [
    { id: 'a', label: 'aa', color: '#0072b2', values: [1, 2, 3, 5] },
    { id: 'b', label: 'bb', color: '#d55e00', textColor: '#a84a00', values: [1, 2, 3, 5.01] },
    { id: 'c', label: 'cc', color: '#009e73', values: [1, 2, 3, 4.99] },
    { id: 'd', label: 'dd', color: '#cc79a7', values: [1, 2, 3, 1] },
  ];
  const svg = lineChartSvg(series, {
    title: 'Three lines that end together',
    xLabel: 'layer',
    yLabel: 'value',
    x,
    legend: [{ heading: 'High', items: series.map((s) => ({ label: `${s.id} name`, color: s.color, textColor: s.textColor })) }],
  });

  it('puts its title and legend inside the picture', () => {
    expect(svg).toContain('<title>Three lines that end together</title>');
    expect(svg).toMatch(/<text [^>]*font-weight="bold"[^>]*>Three lines that end together<\/text>/);
    expect(svg).toContain('<g class="legend">');
    for (const s of series) expect(svg).toContain(`>${s.id} name</text>`);
    // The legend lies inside the height the root declares.
    const height = Number(/<svg [^>]*height="(\d+)"/.exec(svg)![1]);
    const legendYs = [...svg.matchAll(/<text class="legend-label" x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.max(...legendYs)).toBeLessThan(height);
  });

  it('keeps a lone end label at its line and moves colliding ones apart with leader lines', () => {
    const labels = [...svg.matchAll(/<text class="end-label" data-series="(\w)" x="([\d.]+)" y="([\d.]+)"[^>]*fill="([^"]+)"/g)].map((m) => ({ id: m[1], x: Number(m[2]), y: Number(m[3]), fill: m[4] }));
    expect(labels.map((l) => l.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    const ab = labels.filter((l) => l.id !== 'd').map((l) => l.y).sort((p, q) => p - q);
    for (let k = 1; k < ab.length; k++) expect(ab[k] - ab[k - 1]).toBeGreaterThanOrEqual(13 - 0.1);
    const leaders = [...svg.matchAll(/<path class="leader" data-series="(\w)"/g)].map((m) => m[1]);
    expect(leaders.length).toBeGreaterThan(0);
    expect(leaders).not.toContain('d');
    // The end label is written in the text colour where one is given.
    expect(labels.find((l) => l.id === 'b')!.fill).toBe('#a84a00');
    expect(labels.find((l) => l.id === 'a')!.fill).toBe('#0072b2');
    expect(attr(svg, 'data-chart')).toEqual(['line']);
  });
});

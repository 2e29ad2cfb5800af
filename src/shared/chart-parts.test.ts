import { describe, expect, it } from 'vitest';
import { framedSvg, legendSvg, placeEndLabels, spreadLabels } from './chart-parts';

describe('end labels', () => {
  it('stay at their lines where they do not collide, with no leader line', () => {
    const labels = placeEndLabels([50, 120, 200], 13, 0, 400);
    expect(labels).toEqual([{ y: 54, leader: false }, { y: 124, leader: false }, { y: 204, leader: false }]);
  });

  it('move apart where they collide, keep their lines\' order, and get a leader line when moved', () => {
    // Four lines ending within 6 px of each other.
    const anchors = [100, 102, 97, 103];
    const labels = placeEndLabels(anchors, 13, 0, 400);
    const ys = labels.map((l) => l.y);
    const sorted = [...ys].sort((a, b) => a - b);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k] - sorted[k - 1]).toBeGreaterThanOrEqual(13 - 1e-9);
    // Order of the labels follows the order of the anchors (ties by input order).
    const byAnchor = anchors.map((a, i) => ({ a, i })).sort((x, y) => x.a - y.a || x.i - y.i).map((x) => ys[x.i]);
    expect(byAnchor).toEqual(sorted);
    // Every label that moved more than 2 px from its anchor has a leader; the others not.
    labels.forEach((l, i) => expect(l.leader).toBe(Math.abs(l.y - (anchors[i] + 4)) > 2));
    expect(labels.some((l) => l.leader)).toBe(true);
  });

  it('stay inside the plot when lines end at its top or bottom edge', () => {
    const top = spreadLabels([0, 1, 2, 3], 13, 10, 400);
    expect(Math.min(...top)).toBeGreaterThanOrEqual(10);
    const bottom = spreadLabels([398, 399, 400, 400], 13, 0, 400);
    expect(Math.max(...bottom)).toBeLessThanOrEqual(400);
    expect(new Set(bottom).size).toBe(4);
  });
});

describe('framed chart SVG', () => {
  const inner = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="200"><path d="M0 0L10 10"/></svg>';
  const legend = [
    { heading: 'High-resource', items: [{ label: 'Spanish <es>', color: '#0072b2', textColor: '#0072b2' }] },
    { heading: 'Medium/low-resource', items: [{ label: 'Hindi', color: '#d55e00', textColor: '#b34f00', dash: '7 4' }] },
  ];

  it('draws the title on top and the legend under the chart, inside the picture', () => {
    const { text, width, height } = framedSvg(inner, { width: 300, height: 200 }, { title: 'Mean & gap', description: "m(L, l) = … over the phrase's tokens", legend });
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(text).toContain('<title>Mean &amp; gap</title>');
    expect(text).toContain("<desc>m(L, l) = … over the phrase's tokens</desc>");
    expect(text).toMatch(/<text class="chart-title"[^>]*>Mean &amp; gap<\/text>/);
    expect(text).toContain('<svg x="0" y="32" xmlns="http://www.w3.org/2000/svg" width="300" height="200">');
    expect(text).toMatch(/<g class="legend">/);
    expect(text).toContain('>Spanish &lt;es&gt;</text>');
    expect(text).toContain('stroke-dasharray="7 4"');
    expect(text).toContain('fill="#b34f00">Hindi</text>');
    expect(width).toBe(320);
    // Title band + chart + two legend rows.
    expect(height).toBeGreaterThanOrEqual(32 + 200 + 2 * 20);
    // Everything parses as XML with one root.
    expect(text.match(/<svg\b/g)).toHaveLength(2);
    expect(text.match(/<\/svg>/g)).toHaveLength(2);
  });

  it('adds no legend group when there is none', () => {
    const { text, height } = framedSvg(inner, { width: 400, height: 200 }, { title: 'Gap' });
    expect(text).not.toContain('class="legend"');
    expect(height).toBe(232);
  });

  it('wraps a long legend row within the width', () => {
    const items = Array.from({ length: 12 }, (_, i) => ({ label: `language number ${i}`, color: '#000000' }));
    const { height, markup } = legendSvg([{ items }], 0, 0, 400);
    expect(height).toBeGreaterThan(3 * 20);
    for (const m of markup.matchAll(/<text class="legend-label" x="(\d+)"/g)) expect(Number(m[1])).toBeLessThan(400);
  });
});

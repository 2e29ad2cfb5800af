// The disparity analysis as a user runs it in the app: the real renderer in real Chromium against
// the real backend through the browser harness, on a tiny random Gemma-2 with random SAEs built by
// the CLI. SAEs step (one pick per layer), Run step (settings, progress with ETA, cancel, typed
// errors in place), Results step (lines per language, gap, heatmap, fidelity, top features with
// token activations, CSV and HTML report export). Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const OTHER_SIZE_SAES = join(ROOT, 'test', 'fixtures', 'saes', 'saelens', 'standard');
const LANGUAGES = ['en', 'es', 'id'];

/** What the progress recorder uses in the page. */
interface PageGlobals {
  seenProgress: string[];
  document: { body: unknown; querySelector(selector: string): { textContent: string | null } | null };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: Record<string, boolean>): void };
}

describe('browser harness: SAEs -> Run -> Results', () => {
  const tmp = tempDir();
  const MODEL = join(tmp.dir, 'model');
  const SAES = join(tmp.dir, 'saes');
  let session: HarnessPage | undefined;
  let page: Page;
  let problems: string[];

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'setup.db') },
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return r.stdout;
  };
  const step = (name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });
  const figure = (title: string) => page.locator(`figure[aria-label="${title}"]`);

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3');
    expect(cli('make-random-saes', '--model', MODEL, '--width', '256', '--out', SAES, '--seed', '5')).toMatch(/wrote 4 jumprelu SAEs/);
    // A second SAE for layer 1, in a subfolder: the SAEs step must let the user pick one of the two.
    cli('make-random-saes', '--model', MODEL, '--width', '128', '--layers', '1', '--out', join(SAES, 'w128'), '--seed', '7');
    session = await openHarnessPage(join(tmp.dir, 'harness.db'));
    ({ page, problems } = session);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('puts SAEs, Run and Results after the Model and Fertility steps', async () => {
    const steps = await page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button').allTextContents();
    expect(steps).toEqual(['1. Languages', '2. Phrases', '3. Model', '4. Fertility', '5. SAEs', '6. Run', '7. Results', '8. Fine-tune', '9. Evaluate']);
    await step('7. Results').click();
    await page.getByText('No analysis yet').waitFor();
  });

  it('chooses en, es and id and the tiny model', async () => {
    await step('1. Languages').click();
    await page.waitForSelector('table.languages tbody tr');
    for (const code of await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')!))) {
      const box = page.locator(`tr[data-code=${code}] input[type=checkbox]`);
      if (LANGUAGES.includes(code)) await box.check();
      else await box.uncheck();
    }
    await step('3. Model').click();
    await page.getByLabel('model path').fill(MODEL);
    await page.getByLabel('model path').press('Enter');
    // The bundled demo may be read first (the app preselects it); the tiny model must win.
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 30_000 }).toContain(MODEL);
  });

  it('shows a WEIGHTS_INVALID run error in place for SAEs of another model size', async () => {
    await step('5. SAEs').click();
    await page.getByLabel('sae path').fill(OTHER_SIZE_SAES);
    await page.getByLabel('sae path').press('Enter');
    await page.locator('table.saes tbody tr').first().waitFor();
    await step('6. Run').click();
    expect(await page.getByTestId('run-languages').textContent()).toContain('en, es, id (3;');
    await page.getByRole('button', { name: 'Run analysis' }).click();
    const alert = page.locator('section > [role=alert]');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('WEIGHTS_INVALID');
    expect(await alert.textContent()).toMatch(/the SAE reads vectors of size 64 \(d_in\), the model's residual stream has 96/);
    await page.screenshot({ path: join(ARTIFACTS, 'run-error.png'), fullPage: true });
  });

  it('lists the SAEs per layer, picks the average L0 nearest 100 and keeps the user\'s pick', async () => {
    await step('5. SAEs').click();
    await page.getByLabel('sae path').fill(SAES);
    await page.getByLabel('sae path').press('Enter');
    await expect.poll(() => page.locator('table.saes tbody tr').count()).toBe(5);
    expect(await page.getByTestId('sae-summary').textContent()).toMatch(/^4 of 4 layers chosen from .+ for Gemma2ForCausalLM \(4 layers, d_model 96\)\.$/);
    const layer1 = page.locator('table.saes tr[data-layer="1"]');
    expect(await layer1.count()).toBe(2);
    // The default for layer 1 follows the backend's rule.
    const l0s = await layer1.evaluateAll((rows) => rows.map((r) => ({ source: r.getAttribute('data-source')!, l0: Number(r.querySelectorAll('td.num')[1].textContent), picked: r.getAttribute('data-picked') })));
    const nearest = l0s.reduce((a, b) => (Math.abs(b.l0 - 100) < Math.abs(a.l0 - 100) ? b : a));
    expect(l0s.find((x) => x.picked === 'true')?.source).toBe(nearest.source);
    // Pick the width-128 SAE for layer 1; the run must use it.
    await page.getByLabel('layer 1: w128/blocks.1.hook_resid_post.safetensors').check();
    expect(await page.locator(`table.saes tr[data-source="${join(SAES, 'w128', 'blocks.1.hook_resid_post.safetensors')}"]`).getAttribute('data-picked')).toBe('true');
  });

  it('checks the chosen SAEs\' fidelity per language on the first segments before the run', async () => {
    const check = page.getByTestId('fidelity-check');
    await check.getByLabel('fidelity segments').fill('2');
    await check.getByRole('button', { name: 'Check fidelity' }).click();
    const table = check.getByTestId('fidelity-check-table');
    await table.waitFor({ timeout: 60_000 });
    expect(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-layer')))).toEqual(['0', '1', '2', '3']);
    const ev = await table.locator('td[data-language]').evaluateAll((cells) => cells.map((c) => Number(c.textContent)));
    expect(ev).toHaveLength(12);
    for (const v of ev) expect(v).toBeLessThanOrEqual(1);
    expect(await table.locator('td[data-language]').first().getAttribute('title')).toMatch(/^EV -?[\d.]+, NMSE [\d.]+, L0 [\d.]+, cosine [\d.]+$/);
    expect(await check.locator('.hint').last().textContent()).toMatch(/Explained variance on 2 segments/);
    await page.screenshot({ path: join(ARTIFACTS, 'saes.png'), fullPage: true });
  });

  it('runs with limit 3 and bootstrap 50, shows progress, then the Results step', async () => {
    await step('6. Run').click();
    await page.getByLabel('segment limit').fill('3');
    await page.getByLabel('bootstrap resamples').fill('50');
    // The app opened on the bundled demo's settings; this run names the default reduction itself.
    await page.getByLabel('reduction').selectOption('mean');
    expect(await page.locator('details.formulas').textContent()).toContain('gap(l) = 100 * (M_high(l) - M_medium-low(l)) / M_high(l)');
    // Record every progress text the page shows (the run is quick).
    await page.evaluate(() => {
      // Typed here without the DOM library (this project's tsconfig is Node's).
      const g = globalThis as unknown as PageGlobals;
      const seen: string[] = (g.seenProgress = []);
      new g.MutationObserver(() => {
        const text = g.document.querySelector('[data-testid=progress-text]')?.textContent;
        if (text && seen.at(-1) !== text) seen.push(text);
      }).observe(g.document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('analysis-results').waitFor({ timeout: 60_000 });
    expect(await step('7. Results').getAttribute('aria-current')).toBe('step');
    const seen = await page.evaluate(() => (globalThis as unknown as PageGlobals).seenProgress);
    expect(seen.some((t) => /^extracting \d+\/\d+/.test(t))).toBe(true);
    expect(await page.getByTestId('results-overview').textContent()).toMatch(/^3 languages, 3 aligned segments, 4 layers \(0, 1, 2, 3\)/);
    const settings = await page.getByTestId('settings-used').textContent();
    expect(settings).toContain('mean over the phrase\'s tokens');
    expect(settings).toContain('50 resamples');
    expect(settings).toContain('limit 3');
    // The fidelity check's two segments (x 3 languages) came from the cache.
    expect(settings).toContain('3 phrases computed, 6 from the cache');
    expect(await page.locator('details.saes-used').textContent()).toContain(join(SAES, 'w128', 'blocks.1.hook_resid_post.safetensors'));
  });

  it('draws one line per language, the gap values, the heatmap cells and the fidelity table, each with its formula', async () => {
    const mean = figure('Mean SAE activation per layer, by language');
    expect(await mean.locator('.recharts-line-curve').count()).toBe(3);
    expect(await mean.locator('.formula').textContent()).toContain('m(L, l) = mean over aligned segments s of a(L, s, l)');
    const gaps = await page.getByTestId('gap-value').allTextContents();
    expect(gaps).toHaveLength(4);
    for (const g of gaps) expect(g).toMatch(/^-?\d+\.\d %$/);
    expect(await figure('Gap per layer (high vs medium/low-resource)').locator('.recharts-bar-rectangle').count()).toBe(4);
    expect(await figure('Gap per layer (high vs medium/low-resource)').locator('.formula').textContent()).toContain('gap(l) = 100 *');
    const heat = figure('Deficit vs English (%), languages by layers');
    expect(await heat.locator('rect.heat-cell').count()).toBe(3 * 4);
    expect(await heat.locator('rect.heat-cell[data-language=en]').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-value'))))).toEqual([0, 0, 0, 0]);
    expect(await heat.locator('.formula').textContent()).toContain('deficit(L, l) = 100 * (m(en, l) - m(L, l)) / m(en, l)');
    const [svg] = await Promise.all([page.waitForEvent('download'), heat.getByRole('button', { name: 'SVG' }).click()]);
    expect(svg.suggestedFilename()).toBe('deficit_vs_en.svg');
    const svgPath = join(ARTIFACTS, 'deficit_vs_en.svg');
    await svg.saveAs(svgPath);
    const svgText = readFileSync(svgPath, 'utf8');
    expect(svgText.match(/class="heat-cell"/g)).toHaveLength(12);
    // The exported file names its figure and the formulas and settings behind it.
    expect(svgText).toContain('<title>Deficit vs English (%), languages by layers</title>');
    expect(svgText).toMatch(/<desc>deficit_vs_en: deficit\(L, l\)[^<]*mean over the phrase's tokens/);
    const [png] = await Promise.all([page.waitForEvent('download'), figure('Gap per layer (high vs medium/low-resource)').getByRole('button', { name: 'PNG' }).click()]);
    const pngPath = join(ARTIFACTS, 'gap_percent.png');
    await png.saveAs(pngPath);
    expect(readFileSync(pngPath).subarray(1, 4).toString()).toBe('PNG');
    const fidelity = page.getByTestId('fidelity-table');
    expect(await fidelity.locator('tbody tr').count()).toBe(3);
    expect(await fidelity.locator('tbody tr').first().locator('td').count()).toBe(1 + 4);
    // Random SAEs reconstruct the other languages worse than English: the warnings are highlighted.
    const warnings = await page.getByTestId('fidelity-warnings').locator('li').count();
    expect(warnings).toBeGreaterThan(0);
    expect(await fidelity.locator('td[data-warning=true]').count()).toBe(warnings);
    await page.screenshot({ path: join(ARTIFACTS, 'results.png'), fullPage: true });
  });

  it('drills into a top feature: its phrases, every language\'s value, and token activations', async () => {
    const first = page.locator('table.top-features tbody tr[data-feature]').first();
    const feature = Number(await first.getAttribute('data-feature'));
    await first.getByRole('button').click();
    const detail = page.getByTestId('feature-detail');
    await detail.waitFor();
    expect(await detail.locator('h4').textContent()).toContain(`feature ${feature}`);
    const phrase = detail.locator('.phrase').first();
    expect(await phrase.locator('tbody tr').count()).toBe(3);
    const esPhrase = (await phrase.locator('tr[data-code=es] .segment-text').textContent()) ?? '';
    expect(esPhrase).toMatch(/[áéíóúñ]/);
    await phrase.locator('tr[data-code=en]').getByRole('button', { name: 'Token activations' }).click();
    const tokens = phrase.locator('tr[data-code=en]').getByTestId('token-activations');
    await tokens.waitFor({ timeout: 30_000 });
    const values = await tokens.locator('span.token').evaluateAll((spans) => spans.map((s) => Number(s.getAttribute('data-value'))));
    expect(values.length).toBeGreaterThan(5);
    expect(Math.max(...values)).toBeGreaterThan(0);
    // The byte-level tokenizer cuts accented letters into two tokens: the Spanish phrase reads as
    // its text again, BOS labelled, each character carrying the largest value of its pieces.
    await phrase.locator('tr[data-code=es]').getByRole('button', { name: 'Token activations' }).click();
    const es = phrase.locator('tr[data-code=es]').getByTestId('token-activations');
    await es.waitFor({ timeout: 30_000 });
    const spans = await es.locator('span.token').evaluateAll((els) => els.map((e) => ({ text: e.textContent ?? '', tokens: Number(e.getAttribute('data-tokens')) })));
    const esText = await phrase.locator('tr[data-code=es] .segment-text').count();
    expect(esText).toBe(0);
    expect(spans[0].text).toBe('<bos>');
    expect(spans.some((sp) => sp.tokens === 2 && /[^\x00-\x7f]/.test(sp.text))).toBe(true);
    expect(spans.slice(1).map((sp) => sp.text).join('')).toBe(esPhrase);
    await detail.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'feature-detail.png'), fullPage: true });
  });

  it('exports a chart as CSV and the whole report as HTML', async () => {
    const mean = figure('Mean SAE activation per layer, by language');
    const [csv] = await Promise.all([page.waitForEvent('download'), mean.getByRole('button', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).toBe('mean_activation.csv');
    const csvPath = join(ARTIFACTS, 'mean_activation.csv');
    await csv.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('layer,en,en_ci_low,en_ci_high,es,es_ci_low,es_ci_high,id,id_ci_low,id_ci_high');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['0', '1', '2', '3']);

    const out = join(tmp.dir, 'report');
    await page.getByLabel('report folder').fill(out);
    await page.getByRole('button', { name: 'Export report (HTML)' }).click();
    const files = page.getByTestId('export-files');
    await files.waitFor({ timeout: 30_000 });
    expect(await files.textContent()).toContain(join(out, 'report.html'));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).segments).toBe(3);
  });

  it('cancels a longer run ("cached batches are kept"); running again resumes from the cache while the page stays usable', async () => {
    await step('6. Run').click();
    await page.getByLabel('segment limit').fill('');
    await page.getByLabel('include BOS').check();
    await page.getByRole('button', { name: 'Run analysis' }).click();
    const text = page.getByTestId('progress-text');
    await expect.poll(() => text.textContent(), { timeout: 30_000, interval: 20 }).toMatch(/^extracting \d+\/\d+, about \d+ (s|min)/);
    await page.screenshot({ path: join(ARTIFACTS, 'run-progress.png') });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cancelled').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('cancelled').textContent()).toBe('Cancelled; cached batches are kept, running again resumes.');
    expect(await page.getByRole('button', { name: 'Run analysis' }).isEnabled()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'run-cancelled.png'), fullPage: true });

    // Again: it resumes. The page stays usable meanwhile: another step opens, and the Run step
    // still shows the job when it is shown again.
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await text.waitFor();
    await step('7. Results').click();
    await page.getByTestId('analysis-results').waitFor();
    await step('6. Run').click();
    // Done when the progress bar is gone (a run that ends on its step opens Results by itself).
    await expect.poll(() => text.count(), { timeout: 60_000 }).toBe(0);
    await step('7. Results').click();
    await expect.poll(() => page.getByTestId('settings-used').textContent()).toMatch(/BOSincluded/);
    const cache = /(\d+) phrases computed, (\d+) from the cache/.exec((await page.getByTestId('settings-used').textContent())!)!;
    expect(Number(cache[1])).toBeGreaterThan(0);
    expect(Number(cache[2])).toBeGreaterThan(0);
    expect(Number(cache[1]) + Number(cache[2])).toBe(180);
  });

  it('says on Results why there is no gap when no high-resource language is chosen', async () => {
    await step('1. Languages').click();
    await page.locator('tr[data-code=es] input[type=checkbox]').uncheck();
    await step('6. Run').click();
    await page.getByLabel('segment limit').fill('2');
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await expect.poll(() => page.getByTestId('gap-reason').count(), { timeout: 60_000 }).toBe(1);
    expect(await page.getByTestId('gap-reason').textContent()).toMatch(/^No gap: it compares the high-resource tier with the medium\/low-resource tier, and no high-resource language was chosen/);
    for (const g of await page.getByTestId('gap-value').allTextContents()) expect(g).not.toMatch(/\d/);
  });

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

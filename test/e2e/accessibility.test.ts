// Accessibility of the real renderer in real Chromium against the real backend (served mode, a
// SQLite file): axe-core (the npm package, run in the page) on every wizard step — Languages,
// Phrases, Model, Fertility with its chart, SAEs, Run before and during a run, Results after a
// short analysis of the bundled demo, with a top feature's token activations open — must find no
// serious or critical violation (contrast, names, roles, ARIA). Also: focus moves to the result of
// an action (Run, Cancel, a top feature's token activations), charts are no unnamed
// `role="application"` tab stops, and the live status of a run is a summary, not every tick.
// Needs `npm run build`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string; summary: string }[];
}

/** axe-core's violations of serious or critical impact on the page as it is now. Injected through
 * the DevTools protocol (page.evaluate), which the page's CSP does not govern. */
async function seriousViolations(page: Page): Promise<Violation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[]; failureSummary?: string }[] }[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.map(String).join(' '), summary: (n.failureSummary ?? '').slice(0, 300) })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Every visible SVG <text> whose fill has less than 4.5:1 contrast (WCAG 2) with what is painted
 * under it: the last <rect> of the same <svg> drawn before it that covers its centre, else the
 * nearest HTML background. axe-core leaves SVG text out of its contrast rule. */
function svgTextContrast(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    type El = { tagName: string; textContent: string | null; parentElement: El | null; getBoundingClientRect(): { x: number; y: number; width: number; height: number }; closest(s: string): El | null; querySelectorAll(s: string): El[]; compareDocumentPosition(o: El): number };
    const g = globalThis as unknown as { document: { querySelectorAll(s: string): El[] }; getComputedStyle(e: El): { fill: string; backgroundColor: string; display: string; visibility: string; opacity: string } };
    const rgba = (c: string): number[] | null => {
      const m = /rgba?\(([^)]+)\)/.exec(c);
      if (!m) return null;
      const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return [parts[0], parts[1], parts[2], parts[3] ?? 1];
    };
    const lum = (c: number[]) => {
      const [r, gg, b] = c.slice(0, 3).map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * gg + 0.0722 * b;
    };
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
    const htmlBackground = (start: El | null): number[] => {
      const layers: number[][] = [];
      for (let e = start; e; e = e.parentElement) {
        const c = rgba(g.getComputedStyle(e).backgroundColor);
        if (c && c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) break;
        }
      }
      return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
    };
    const failures: string[] = [];
    for (const text of g.document.querySelectorAll('svg text')) {
      const style = g.getComputedStyle(text);
      const box = text.getBoundingClientRect();
      if (!(text.textContent ?? '').trim() || box.width === 0 || style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) continue;
      const fg = rgba(style.fill);
      if (!fg) continue;
      const svg = text.closest('svg')!;
      const cx = box.x + box.width / 2;
      const cy = box.y + box.height / 2;
      let bg = htmlBackground(svg.parentElement);
      for (const rect of svg.querySelectorAll('rect')) {
        // Only rects painted before the text (DOCUMENT_POSITION_PRECEDING = 2) can be under it.
        if (!(text.compareDocumentPosition(rect) & 2)) continue;
        const r = rect.getBoundingClientRect();
        const fill = rgba(g.getComputedStyle(rect).fill);
        if (fill && fill[3] > 0 && cx >= r.x && cx <= r.x + r.width && cy >= r.y && cy <= r.y + r.height) bg = over(fill, bg);
      }
      const colour = over(fg, bg);
      const [a, b] = [lum(colour), lum(bg)].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < 4.5) failures.push(`${(text.textContent ?? '').trim().slice(0, 30)}: ${style.fill} on rgb(${bg.slice(0, 3).map(Math.round).join(', ')}) = ${ratio.toFixed(2)}:1`);
    }
    return failures;
  });
}

/** What the page's focused element is, in words a failure message can show. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = (globalThis as unknown as { document: { activeElement: { tagName: string; textContent: string | null; getAttribute(n: string): string | null } | null } }).document.activeElement;
    return el ? `${el.tagName.toLowerCase()}[${el.getAttribute('data-focus') ?? el.getAttribute('aria-label') ?? ''}] ${(el.textContent ?? '').slice(0, 60)}` : 'none';
  });
}

describe('accessibility: axe-core on every wizard step, focus, charts, live status', () => {
  const tmp = tempDir();
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });

  beforeAll(async () => {
    session = await openHarnessPage(join(tmp.dir, 'a11y.db'));
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('Languages', async () => {
    await page.waitForSelector('table.languages tbody tr');
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('Phrases', async () => {
    await step('2. Phrases').click();
    await page.getByTestId('aligned-count').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('Model (the bundled demo, inspected)', async () => {
    await step('3. Model').click();
    await page.getByTestId('model-info').waitFor({ timeout: 60_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('Fertility, with its chart: no unnamed role="application" tab stop', async () => {
    await step('4. Fertility').click();
    await page.getByRole('button', { name: /Run fertility/ }).click();
    await page.getByTestId('fertility-results').waitFor({ timeout: 120_000 });
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator('[role=application]').count()).toBe(0);
    expect(await svgTextContrast(page)).toEqual([]);
    // Every tab stop inside a chart has a name.
    const unnamed = await page.locator('figure.chart [tabindex]:not([tabindex="-1"])').evaluateAll((els) => els.filter((e) => !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby') && !(e.textContent ?? '').trim()).length);
    expect(unnamed).toBe(0);
  });

  it('SAEs', async () => {
    await step('5. SAEs').click();
    await page.locator('table.saes tbody tr').first().waitFor({ timeout: 60_000 });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('Run: before, and while running; Run moves focus to the progress, Cancel to the outcome', async () => {
    await step('6. Run').click();
    await page.getByLabel('segment limit').fill('200');
    await page.getByLabel('bootstrap resamples').fill('0');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Run analysis' }).click();
    const progress = page.locator('[data-focus=progress]');
    await progress.waitFor();
    await expect.poll(() => focused(page)).toMatch(/^div\[progress\]/);
    await page.getByTestId('progress-text').filter({ hasText: /\d+\/\d+/ }).waitFor({ timeout: 60_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cancelled').waitFor({ timeout: 60_000 });
    await expect.poll(() => focused(page)).toMatch(/^p\[cancelled\]/);
  });

  it('the live status announces stages and quarters, not every tick', async () => {
    await page.getByLabel('segment limit').fill('4');
    // Record what the polite live region says over a whole run.
    await page.evaluate(() => {
      const g = globalThis as unknown as { said: string[]; document: { querySelector(s: string): { textContent: string | null } | null; body: unknown }; MutationObserver: new (cb: () => void) => { observe(t: unknown, o: Record<string, boolean>): void } };
      g.said = [];
      new g.MutationObserver(() => {
        const text = g.document.querySelector('[data-live=progress]')?.textContent ?? '';
        if (text && g.said.at(-1) !== text) g.said.push(text);
      }).observe(g.document.body, { subtree: true, childList: true, characterData: true });
    });
    const ticks: string[] = [];
    const recordTicks = setInterval(() => {
      void page.getByTestId('progress-text').textContent({ timeout: 50 }).then((t) => t && ticks.at(-1) !== t && ticks.push(t), () => {});
    }, 30);
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByRole('heading', { name: 'Results', level: 2 }).waitFor({ timeout: 300_000 });
    clearInterval(recordTicks);
    const said = await page.evaluate(() => (globalThis as unknown as { said: string[] }).said);
    expect(said.length).toBeGreaterThan(0);
    // Each announcement is a stage with a whole quarter (or "starting"), never "done/total" or an ETA.
    for (const s of said) expect(s).toMatch(/^(starting|[^/]+: (0|25|50|75|100) %)$/);
    expect(said.length).toBeLessThan(Math.max(ticks.length, 6));
    console.log(`live announcements: ${said.length} (${said.join(' | ')}); progress texts seen: ${ticks.length}`);
  }, 320_000);

  it('Results after a short demo analysis: focus on its heading, no serious violation, no application role', async () => {
    await expect.poll(() => focused(page)).toMatch(/^h2/);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator('[role=application]').count()).toBe(0);
    expect(await svgTextContrast(page)).toEqual([]);
  });

  it('opening a top feature moves focus to its detail, and its token activations to them', async () => {
    const row = page.locator('table.top-features tbody tr').first();
    await row.waitFor({ timeout: 60_000 });
    await row.locator('button').first().click();
    const detail = page.locator('.feature-detail');
    await detail.waitFor({ timeout: 60_000 });
    const focusInside = (selector: string) =>
      page.evaluate((sel) => {
        const d = globalThis as unknown as { document: { activeElement: { closest(s: string): unknown } | null } };
        return d.document.activeElement?.closest(sel) != null;
      }, selector);
    await expect.poll(() => focusInside('.feature-detail')).toBe(true);
    await detail.getByRole('button', { name: 'Token activations' }).first().click();
    await page.locator('.token-activations').first().waitFor({ timeout: 60_000 });
    await expect.poll(() => focusInside('.token-activations')).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('the Jobs, Projects and Run history panels and a comparison of two runs: no serious violation, charts named, SVG text readable', async () => {
    await page.getByRole('button', { name: 'Jobs', exact: true }).click();
    await page.locator('#jobs-panel').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator('#jobs-panel').getByRole('button', { name: 'Close' }).click();
    await page.getByRole('button', { name: 'Projects', exact: true }).click();
    await page.getByRole('button', { name: 'Create' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Projects', exact: true }).click();
    // A second run of the same analysis (read from the cache) gives two runs to compare.
    await step('6. Run').click();
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByRole('heading', { name: 'Results', level: 2 }).waitFor({ timeout: 300_000 });
    await page.getByRole('button', { name: 'Run history' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect(await seriousViolations(page)).toEqual([]);
    // Both runs have the same settings, so the same name: ticked by row.
    for (const i of [0, 1]) await page.locator('table.runs tbody tr').nth(i).locator('input[type=checkbox][aria-label^="compare "]').check();
    await page.getByRole('button', { name: 'Compare the two ticked runs' }).click();
    await page.getByTestId('run-compare').waitFor({ timeout: 30_000 });
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.locator('[role=application]').count()).toBe(0);
    expect(await svgTextContrast(page)).toEqual([]);
  }, 320_000);
});

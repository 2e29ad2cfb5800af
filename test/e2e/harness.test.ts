// The real renderer in real Chromium against the real backend (worker thread + SQLite file),
// through the browser harness. Needs `npm run build` (npm test runs it first).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type Harness, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const PAPER = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];

describe('browser harness: Languages -> Phrases -> Model -> Fertility', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'harness.db');
  let session: HarnessPage | undefined;
  let harness: Harness;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    session = await openHarnessPage(dbPath);
    ({ harness, page, problems } = session);
  });

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('serves the renderer with a strict CSP and no node in the page', async () => {
    const response = await page.request.get(harness.url);
    const csp = response.headers()['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(await page.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(await page.evaluate(() => typeof (globalThis as { process?: unknown }).process)).toBe('undefined');
  });

  it('accepts WebSocket connections only from its own origin, with the launch token', async () => {
    const outcome = (url: string, origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { origin });
        ws.on('open', () => {
          ws.close();
          resolve('open');
        });
        ws.on('unexpected-response', (_req, res) => {
          resolve(`refused ${res.statusCode}`);
          ws.terminate();
        });
        ws.on('error', () => resolve('refused'));
      });
    expect(await outcome(harness.apiUrl, 'http://evil.example')).toBe('refused 403');
    expect(await outcome(harness.apiUrl.replace(/token=.*/, 'token=wrong'), harness.origin)).toBe('refused 401');
    expect(await outcome(harness.apiUrl, harness.origin)).toBe('open');
    // The page reached the backend with the token it was opened with (its URL's ?token=).
    expect(page.url()).toBe(harness.url);
    expect((await page.request.get(harness.origin + '/')).status()).toBe(401);
  });

  it('lists the ten paper languages with their tiers, and a tier edit persists in SQLite', async () => {
    await page.waitForSelector('table.languages tbody tr');
    const codes = await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
    expect(codes).toEqual(PAPER);
    await page.getByLabel('tier of Catalan').selectOption('high');
    await expect.poll(() => page.locator('tr[data-code=ca] .badge').count()).toBe(1);
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare('SELECT tier FROM language_tiers WHERE code = ?').get('ca')).toEqual({ tier: 'high' });
    } finally {
      db.close();
    }
    await page.getByLabel('tier of Catalan').selectOption('medium-low');
    await expect.poll(() => page.locator('tr[data-code=ca] .badge').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'languages.png'), fullPage: true });
  });

  it('shows a clear message in place for an unknown language and changes nothing', async () => {
    await page.getByLabel('language code to add').fill('xx');
    await page.getByRole('button', { name: 'Add' }).click();
    const alert = page.locator('form.add-language [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('"xx"');
    expect(await page.locator('table.languages tbody tr').count()).toBe(10);
  });

  it('previews the aligned corpus', async () => {
    await page.getByRole('button', { name: 'Next: Phrases' }).click();
    const count = page.getByTestId('aligned-count');
    await count.waitFor();
    expect(await count.textContent()).toMatch(/\d+\s*aligned segments in 10 languages/);
    await page.screenshot({ path: join(ARTIFACTS, 'corpus.png'), fullPage: true });
  });

  it('runs fertility, draws ten bars, serves the second run from the cache, and exports CSV/SVG/PNG', async () => {
    await page.getByRole('button', { name: 'Next: Model' }).click();
    await page.getByRole('heading', { name: 'Model', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Next: Fertility' }).click();
    await page.getByRole('button', { name: /Run fertility/ }).click();
    await page.getByTestId('fertility-results').waitFor({ timeout: 90_000 });
    expect(await page.locator('.recharts-bar-rectangle').count()).toBe(10);
    expect(await page.locator('table.fertility tbody tr').count()).toBe(10);
    expect(await page.locator('.formula').textContent()).toContain('ratio_to_en');
    await page.screenshot({ path: join(ARTIFACTS, 'fertility.png'), fullPage: true });

    await page.getByRole('button', { name: /Run fertility/ }).click();
    await page.getByTestId('cache-note').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('cache-note').textContent()).toContain('ml');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).toBe('fertility.csv');
    const csvPath = join(ARTIFACTS, 'fertility.csv');
    await csv.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0].split(',').slice(0, 4)).toEqual(['language', 'name', 'tier', 'script']);
    expect(lines[0]).toContain('tokens_per_word');
    expect(lines[0]).toContain('ratio_to_en');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(PAPER);

    const [svg] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'SVG' }).click()]);
    const svgPath = join(ARTIFACTS, 'fertility-chart.svg');
    await svg.saveAs(svgPath);
    const svgText = readFileSync(svgPath, 'utf8');
    expect(svgText.startsWith('<svg')).toBe(true);
    expect(svgText.match(/recharts-bar-rectangle/g)?.length).toBeGreaterThanOrEqual(10);

    const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'PNG' }).click()]);
    const pngPath = join(ARTIFACTS, 'fertility-chart.png');
    await png.saveAs(pngPath);
    expect(readFileSync(pngPath).subarray(1, 4).toString()).toBe('PNG');
  });

  it('shows tokenizer errors in place and leaves the database unchanged', async () => {
    const before = new Database(dbPath, { readonly: true });
    const runs = (before.prepare('SELECT COUNT(*) AS n FROM analysis_runs').get() as { n: number }).n;
    before.close();
    await page.getByLabel('tokenizer path').fill(join(tmp.dir, 'no-such-folder'));
    await page.getByRole('button', { name: /Run fertility/ }).click();
    const alert = page.locator('.results').locator('..').locator('> [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('does not exist');
    await page.getByRole('button', { name: 'Browse…' }).click();
    await page.getByText('No file dialog here: type the folder path.').waitFor();
    const after = new Database(dbPath, { readonly: true });
    expect((after.prepare('SELECT COUNT(*) AS n FROM analysis_runs').get() as { n: number }).n).toBe(runs);
    after.close();
    await page.screenshot({ path: join(ARTIFACTS, 'fertility-error.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'fertility-error.png'))).toBe(true);
  });

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

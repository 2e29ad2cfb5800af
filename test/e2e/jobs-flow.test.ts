// Jobs as a user meets them in real Chromium against the real backend (served harness, real
// SQLite), on the bundled demo: a reload mid-run reattaches the Run step's monitor to the same
// job and it finishes once; two tabs asking for the same analysis share one job; a closed tab's
// job is listed in another tab's Jobs panel and cancelled from there. Needs `npm run build`.
// Each scenario keeps a different number of features per phrase: a separate activation-cache key,
// so no run is served from an earlier one's cache.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/shared/dto';
import { startHarness } from '../../src/main/harness/server';
import { launchChromium } from '../helpers/browser';
import { RawClient } from '../helpers/harness-process';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const DEMO = join(ROOT, 'resources', 'demo');

describe('jobs in the browser: reload, two tabs, a closed tab', () => {
  const tmp = tempDir();
  let harness: Awaited<ReturnType<typeof startHarness>>;
  let browser: Browser;
  let first: Page;
  let monitor: RawClient;
  const problems: string[] = [];

  /** The backend's job list, read over a connection of its own. */
  const jobsList = async (): Promise<JobInfo[]> => {
    const answer = await monitor.call('jobs.list', {});
    if (!answer.ok) throw new Error(answer.error.message);
    return answer.value as JobInfo[];
  };
  const analyses = async (keep: number) => (await jobsList()).filter((j) => j.method === 'analysis.run' && j.summary.includes(`keepFeatures=${keep}`));

  const step = (page: Page, name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });

  /** The bundled demo, chosen as a new user does: its model and SAEs inspected, then the Run step
   * with a segment limit and a features-kept setting. */
  const prepare = async (page: Page, limit: number, keep: number) => {
    // The app may move to the reopened project's step after it loads: each step is clicked until
    // it shows what is waited for.
    const visit = (name: string, shown: () => Promise<unknown>) =>
      expect
        .poll(async () => {
          await step(page, name).click();
          return shown().catch(() => null);
        }, { timeout: 60_000, interval: 500 })
        .toBeTruthy();
    await visit('3. Model', async () => (await page.getByTestId('model-info').textContent({ timeout: 500 }))?.includes(join(DEMO, 'model')));
    await visit('5. SAEs', async () => (await page.locator('table.saes tbody tr').count()) === 6);
    await visit('6. Run', () => page.getByLabel('segment limit').isVisible());
    await page.getByLabel('segment limit').fill(String(limit));
    await page.getByLabel('bootstrap resamples').fill('20');
    await page.getByLabel('features kept').fill(String(keep));
  };
  const runAndWaitForProgress = async (page: Page) => {
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 60_000, interval: 50 }).toMatch(/^extracting \d+\/\d+/);
  };
  /** A tab of the one browser context (tabs share nothing but the backend; sessionStorage is per tab). */
  const openPage = async () => {
    const contexts = browser.contexts();
    const context = contexts[0] ?? (await browser.newContext({ viewport: { width: 1280, height: 900 } }));
    const page = await context.newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(harness.url);
    return page;
  };

  beforeAll(async () => {
    // A copy of the built renderer: a parallel build replacing out/ (new asset names) cannot
    // break a page reloaded mid-test.
    const renderer = join(tmp.dir, 'renderer');
    cpSync(join(ROOT, 'out', 'renderer'), renderer, { recursive: true });
    harness = await startHarness({ port: 0, dbPath: join(tmp.dir, 'jobs.db'), rendererDir: renderer });
    browser = await launchChromium();
    first = await openPage();
    monitor = await RawClient.open(harness.apiUrl, harness.origin);
  }, 120_000);

  afterAll(async () => {
    // Nothing may be left running when the backend worker is ended (onnxruntime aborts the process).
    if (monitor) {
      for (const j of await jobsList()) if (j.state === 'running') await monitor.call('jobs.cancel', { jobId: j.jobId });
      for (let i = 0; i < 600 && (await jobsList()).some((j) => j.state === 'running'); i++) await new Promise((r) => setTimeout(r, 200));
    }
    monitor?.close();
    await browser?.close();
    await harness?.close();
    tmp.cleanup();
  }, 180_000);

  it('a reload mid-run reattaches the Run step to the same job, which finishes once', async () => {
    const page = first;
    await prepare(page, 10, 129);
    await runAndWaitForProgress(page);
    const [running] = await analyses(129);
    expect(running).toMatchObject({ state: 'running', clients: 1 });

    await page.reload();
    // The step bar says where work runs, from any step; the Run step shows the same job's progress.
    await page.getByTestId('step-busy-run').waitFor({ timeout: 30_000 });
    await step(page, '6. Run').click();
    await page.getByTestId('run-reattached').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-reattached').textContent()).toContain('10 languages, 6 SAEs, limit 10');
    await expect.poll(() => page.getByTestId('progress-text').textContent(), { timeout: 30_000 }).toMatch(/^[a-z][a-z ()]* \d+\/\d+/);
    expect(await page.getByRole('button', { name: 'Run analysis' }).isDisabled()).toBe(true);
    // Still one job, now followed by the reloaded page.
    expect((await analyses(129)).map((j) => `${j.jobId}:${j.state}:${j.clients}`)).toEqual([`${running.jobId}:running:1`]);

    await page.getByTestId('analysis-results').waitFor({ timeout: 180_000 });
    expect(await page.getByTestId('results-overview').textContent()).toMatch(/^10 languages, 10 aligned segments, 6 layers/);
    expect((await jobsList()).filter((j) => j.method === 'analysis.run')).toHaveLength(1);
    const after = await analyses(129);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ jobId: running.jobId, state: 'done', joined: 0 });
    // The job names the stored run it produced.
    expect(after[0].ownerRun).toMatch(/^\d+$/);
    await expect.poll(() => page.getByTestId('step-busy-run').count()).toBe(0);
    // Reloading again after the end starts nothing: the stored id was cleared at the end.
    await page.reload();
    await step(page, '6. Run').click();
    expect(await page.getByTestId('run-reattached').count()).toBe(0);
    expect(await analyses(129)).toHaveLength(1);
  }, 300_000);

  it('two tabs asking for the same analysis share one job and show the same result', async () => {
    const a = first;
    const b = await openPage();
    await prepare(a, 6, 130);
    await prepare(b, 6, 130);
    await runAndWaitForProgress(a);
    await runAndWaitForProgress(b);
    const [shared] = await analyses(130);
    expect(shared).toMatchObject({ state: 'running', joined: 1, clients: 2 });
    // Both tabs edit one project: a tab told of the other's save may show the project's stored
    // (earlier) run for a moment, so wait for this run's figures (6 segments) in each tab.
    const overview = (p: Page) => p.getByTestId('results-overview').textContent({ timeout: 1_000 }).catch(() => '');
    await expect.poll(() => overview(a), { timeout: 180_000, interval: 500 }).toMatch(/, 6 aligned segments,/);
    await expect.poll(() => overview(b), { timeout: 180_000, interval: 500 }).toMatch(/, 6 aligned segments,/);
    expect(await overview(b)).toBe(await overview(a));
    // Both tabs got the one computation: nothing was read from a second job's cache.
    expect(await b.getByTestId('settings-used').textContent()).toBe(await a.getByTestId('settings-used').textContent());
    expect(await a.getByTestId('settings-used').textContent()).toMatch(/[1-9]\d* phrases computed, 0 from the cache/);
    expect((await jobsList()).filter((j) => j.method === 'analysis.run')).toHaveLength(2);
    const jobs = await analyses(130);
    expect(jobs.map((j) => `${j.jobId}:${j.state}:${j.joined}`)).toEqual([`${shared.jobId}:done:1`]);
  }, 300_000);

  it("a closed tab's job is listed in another tab's Jobs panel and cancelled from there", async () => {
    const closing = await openPage();
    await prepare(closing, 40, 131);
    await runAndWaitForProgress(closing);
    const [orphan] = await analyses(131);
    await closing.close();
    await expect.poll(async () => (await analyses(131))[0].clients, { timeout: 30_000 }).toBe(0);
    expect((await analyses(131))[0].state).toBe('running');

    const page = first;
    // The other tab runs nothing itself, yet its step bar marks the Run step.
    await page.getByTestId('step-busy-run').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: /^Jobs/ }).click();
    // Focus moves to the panel it opened.
    expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement?.textContent)).toBe('Jobs');
    const panel = page.getByRole('region', { name: 'Jobs' });
    const row = panel.locator(`li[data-job-id="${orphan.jobId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('running');
    expect(await row.locator('.job-summary').textContent()).toContain('keepFeatures=131');
    // Progress moves in the panel while it is open.
    const shown = await row.getByTestId('job-progress').textContent();
    await expect.poll(() => row.getByTestId('job-progress').textContent(), { timeout: 30_000 }).not.toBe(shown);
    await row.getByRole('button', { name: /^Cancel job/ }).click();
    await expect.poll(() => row.getAttribute('data-state'), { timeout: 60_000 }).toBe('cancelled');
    expect(await row.locator('.job-outcome').getAttribute('data-code')).toBe('CANCELLED');
    expect((await analyses(131)).map((j) => j.state)).toEqual(['cancelled']);
    await expect.poll(() => page.getByTestId('step-busy-run').count()).toBe(0);
    // Every analysis this file started is listed once.
    expect((await jobsList()).filter((j) => j.method === 'analysis.run').map((j) => j.state).sort()).toEqual(['cancelled', 'done', 'done']);
  }, 300_000);

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

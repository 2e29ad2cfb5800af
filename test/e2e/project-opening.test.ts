// The wizard while the app's project is still opening, in real Chromium against the real backend
// (browser harness, a SQLite file). The backend's answer to `projects.open` is held back in the
// page's WebSocket (the backend computes it; the test only delays its delivery), the way a loaded
// machine delays it. Until it lands the steps take no input and the bar says the project is
// opening: a click that would have unchecked a language (and been silently replaced by the
// project's state) changes nothing. Once open, the same edit is taken and saved. Needs
// `npx electron-vite build`.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness } from '../../src/main/harness/server';
import { launchChromium, type Harness } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const DEMO = 'LinguaScope demo';

describe('browser harness: the wizard waits for the project to open', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'harness.db');
  let harness: Harness | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  /** Releases the held `projects.open` answer (set once the page asked for it). */
  let release: (() => void) | null = null;
  let heldCall: Promise<void>;

  const storedLanguages = (): string[] => {
    const db = new Database(dbPath, { readonly: true });
    try {
      const row = db.prepare('SELECT state_json FROM projects WHERE name = ?').get(DEMO) as { state_json: string };
      return (JSON.parse(row.state_json) as { languages: string[] }).languages;
    } finally {
      db.close();
    }
  };
  const hindi = () => page.getByRole('checkbox', { name: 'use Hindi', exact: true });
  /** A user's click where the element is drawn: the mouse, not an element-targeted action. */
  const clickAt = async (selector: string) => {
    const box = (await page.locator(selector).boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  };

  beforeAll(async () => {
    harness = await startHarness({ port: 0, dbPath });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    let held = false;
    let asked: () => void;
    heldCall = new Promise((r) => (asked = r));
    await page.routeWebSocket(/\/api\?/, (ws) => {
      const server = ws.connectToServer();
      let openId: number | null = null;
      ws.onMessage((m) => {
        const call = JSON.parse(String(m)) as { id: number; method: string };
        if (!held && call.method === 'projects.open') openId = call.id;
        server.send(m);
      });
      server.onMessage((m) => {
        const message = JSON.parse(String(m)) as { kind: string; id?: number };
        if (!held && message.kind === 'result' && message.id === openId) {
          // Only the first page's first open is held; a reload opens at once.
          held = true;
          release = () => ws.send(m);
          asked();
          return;
        }
        ws.send(m);
      });
    });
    await page.goto(harness.url);
  });

  afterAll(async () => {
    await browser?.close();
    await harness?.close();
    tmp.cleanup();
  });

  it('takes no input on the steps while the project opens, and says so', async () => {
    await heldCall;
    await page.waitForSelector('table.languages tbody tr');
    expect(await hindi().isChecked()).toBe(true);
    // The click lands on the drawn checkbox; while opening it must not change it (before the fix it
    // unchecked Hindi, and the project's state put it back when it landed).
    await clickAt('tr[data-code=hi] input[type=checkbox]');
    expect(await hindi().isChecked(), 'a click unchecked Hindi while the project was opening').toBe(true);
    // Keyboard: the checkbox cannot be focused and toggled either.
    await page.locator('tr[data-code=hi] input[type=checkbox]').evaluate((el) => (el as unknown as { focus(): void }).focus());
    await page.keyboard.press('Space');
    expect(await hindi().isChecked(), 'Space unchecked Hindi while the project was opening').toBe(true);
    // Moving to another step is a choice the project stores too.
    await clickAt('nav[aria-label="wizard steps"] li:nth-child(8) button');
    expect(await page.getByRole('heading', { name: 'Languages', level: 2 }).count(), 'the step changed while the project was opening').toBe(1);
    expect(await page.getByTestId('project-name').textContent()).toBe('…');
    expect(await page.getByTestId('project-opening').textContent()).toContain('opening project…');
  });

  it('takes the same edit once the project is open, and saves it to the project', async () => {
    release!();
    await expect.poll(() => page.getByTestId('project-name').textContent(), { timeout: 30_000 }).toBe(DEMO);
    expect(await page.getByTestId('project-opening').count()).toBe(0);
    expect(storedLanguages()).toContain('hi');
    await clickAt('tr[data-code=hi] input[type=checkbox]');
    expect(await hindi().isChecked()).toBe(false);
    await expect.poll(storedLanguages, { timeout: 10_000 }).not.toContain('hi');
    // Reopened (this time at once), the project shows the saved choice.
    await page.reload();
    await expect.poll(() => page.getByTestId('project-name').textContent(), { timeout: 30_000 }).toBe(DEMO);
    await page.waitForSelector('tr[data-code=hi]');
    expect(await hindi().isChecked()).toBe(false);
    expect(problems).toEqual([]);
  });
});

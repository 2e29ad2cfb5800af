// Debian's Chromium driven by playwright-core (never a downloaded browser).
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHarness } from '../../src/main/harness/server';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;

export interface HarnessPage {
  harness: Harness;
  browser: Browser;
  page: Page;
  /** Console errors (CSP violations among them) and uncaught page errors, in order: any fails a flow. */
  problems: string[];
  /** Closes the browser, then the harness. */
  close(): Promise<void>;
}

/** The browser harness on a SQLite file at `dbPath`, and Chromium showing its renderer in a
 * 1280x900 page that records its problems. */
export async function openHarnessPage(dbPath: string): Promise<HarnessPage> {
  const harness = await startHarness({ port: 0, dbPath });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    await page.goto(harness.url);
    const opened = browser;
    return {
      harness,
      browser,
      page,
      problems,
      close: async () => {
        await opened.close();
        await harness.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await harness.close();
    throw e;
  }
}

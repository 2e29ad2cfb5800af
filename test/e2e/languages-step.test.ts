// The Languages and Fertility steps in real Chromium against the real backend through the browser
// harness: a language added under another spelling is refused in place, an added language is
// removed with its button (presets have none), and the fertility figures name the chosen model's
// own tokenizer. Needs `npx electron-vite build`.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const DEMO_MODEL = resolve(import.meta.dirname, '..', '..', 'resources', 'demo', 'model');
const PAPER = ['en', 'zh', 'ru', 'es', 'it', 'id', 'ca', 'mr', 'ml', 'hi'];

describe('browser harness: adding and removing languages, fertility with the model tokenizer', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'harness.db');
  let session: HarnessPage | undefined;
  let page: Page;
  let problems: string[];

  const rowCodes = () => page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')));
  const addAlert = () => page.locator('form.add-language [role=alert]');
  const add = async (code: string) => {
    await page.getByLabel('language code to add').fill(code);
    await page.getByRole('button', { name: 'Add' }).click();
  };
  const customRows = () => {
    const db = new Database(dbPath, { readonly: true });
    try {
      return db.prepare('SELECT corpus_code, tier FROM custom_languages').all();
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    session = await openHarnessPage(dbPath);
    ({ page, problems } = session);
    await page.waitForSelector('table.languages tbody tr');
  });

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('keeps English the one reference: no tier choice for it, no reference choice for others, no remove button on presets', async () => {
    expect(await rowCodes()).toEqual(PAPER);
    expect(await page.getByLabel('tier of English').count()).toBe(0);
    expect(await page.locator('tr[data-code=en]').getByTestId('reference-tier').textContent()).toContain('(fixed)');
    const options = await page.getByLabel('tier of Chinese (Simplified)').locator('option').evaluateAll((o) => o.map((x) => (x as unknown as { value: string }).value));
    expect(options).toEqual(['high', 'medium-low']);
    expect(await page.getByRole('button', { name: /^remove / }).count()).toBe(0);
  });

  it('adds "DE" as de, refuses it again under other spellings in place, and refuses a second English', async () => {
    await add('DE');
    await page.locator('tr[data-code=de]').waitFor();
    expect(await rowCodes()).toEqual([...PAPER, 'de']);
    expect(await page.getByLabel('language code to add').inputValue()).toBe('');
    expect(await page.getByText('11 selected').count()).toBe(1);
    for (const [spelling, registered] of [['deu_1996', 'de'], ['EN', 'en'], ['zh_Hans', 'zh']]) {
      await add(spelling);
      await expect.poll(async () => (await addAlert().count()) && addAlert().textContent()).toContain(`already in the registry as "${registered}"`);
      expect(await rowCodes()).toEqual([...PAPER, 'de']);
    }
    expect(customRows()).toEqual([{ corpus_code: 'deu_1996', tier: 'medium-low' }]);
    await page.screenshot({ path: join(ARTIFACTS, 'languages-added.png'), fullPage: true });
  });

  it('removes the added language with its button, from the table, the selection and SQLite', async () => {
    await page.getByRole('button', { name: 'remove German, Standard (1996)' }).click();
    await expect.poll(rowCodes).toEqual(PAPER);
    expect(await page.getByText('10 selected').count()).toBe(1);
    expect(customRows()).toEqual([]);
    expect(await page.getByRole('button', { name: /^remove / }).count()).toBe(0);
  });

  it("runs fertility on the chosen model's own tokenizer and names it on the figures", async () => {
    await page.getByRole('button', { name: '4. Fertility' }).click();
    const plan = page.getByTestId('tokenizer-plan');
    await expect.poll(() => plan.getAttribute('data-kind')).toBe('model');
    expect(await plan.textContent()).toContain(`the chosen model's own tokenizer, ${join(DEMO_MODEL, 'tokenizer.json')}`);
    // sha256 of tokenizer.json then tokenizer_config.json, computed here from the files.
    const sha = createHash('sha256')
      .update(readFileSync(join(DEMO_MODEL, 'tokenizer.json')))
      .update('\0tokenizer_config\0')
      .update(readFileSync(join(DEMO_MODEL, 'tokenizer_config.json')))
      .digest('hex');
    // Inspect with the field empty shows the tokenizer a run would measure: the model's.
    await page.getByRole('button', { name: 'Inspect' }).click();
    await expect.poll(() => page.locator('.tokenizer-info').count()).toBe(1);
    expect(await page.locator('.tokenizer-info').textContent()).toMatch(new RegExp(`^${DEMO_MODEL}: .*sha256 ${sha.slice(0, 12)}$`));
    await page.getByRole('button', { name: /Run fertility/ }).click();
    const label = page.getByTestId('fertility-tokenizer');
    await label.waitFor({ timeout: 90_000 });
    expect(await label.getAttribute('data-origin')).toBe('model');
    expect(await label.textContent()).toBe(`Every figure is for the model's own tokenizer, ${join(DEMO_MODEL, 'tokenizer.json')} (sha256 ${sha.slice(0, 12)}).`);
    expect(await page.locator('table.fertility tbody tr').count()).toBe(10);
    expect(await page.locator('.formula').textContent()).toContain(`tokenizer sha256 ${sha.slice(0, 12)}`);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV' }).click()]);
    const csvPath = join(ARTIFACTS, 'fertility-model-tokenizer.csv');
    await csv.saveAs(csvPath);
    const lines = readFileSync(csvPath, 'utf8').trim().split('\n');
    expect(lines[0].split(',').slice(-3)).toEqual(['tokenizer_origin', 'tokenizer_path', 'tokenizer_sha256']);
    expect(lines.slice(1).every((l) => l.endsWith(`,model,${join(DEMO_MODEL, 'tokenizer.json')},${sha}`))).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'fertility-model-tokenizer.png'), fullPage: true });
  });

  it('says when a typed tokenizer folder replaces the model one', async () => {
    await page.getByLabel('tokenizer path').fill(join(tmp.dir, 'some-tokenizer'));
    const plan = page.getByTestId('tokenizer-plan');
    await expect.poll(() => plan.getAttribute('data-kind')).toBe('tokenizer');
    expect(await plan.textContent()).toContain(`the tokenizer in ${join(tmp.dir, 'some-tokenizer')}`);
  });

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

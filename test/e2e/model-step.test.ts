// The Model step in real Chromium against the real backend through the browser harness: a model
// folder typed into the path field (the harness has no native dialog), what the step shows, and
// typed errors in place that keep the previous choice. Needs `npm run build`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const MODELS = resolve(import.meta.dirname, '..', 'fixtures', 'models');
const GEMMA2 = join(MODELS, 'gemma2');

describe('browser harness: the Model step', () => {
  const ROOT_DIR = join(import.meta.dirname, '..', '..');
const tmp = tempDir();
  let session: HarnessPage | undefined;
  let page: Page;
  let problems: string[];

  const field = (name: string) => page.locator(`table.model-info tr[data-field=${name}] td`);
  const inspect = async (path: string) => {
    await page.getByLabel('model path').fill(path);
    await page.getByLabel('model path').press('Enter');
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    session = await openHarnessPage(join(tmp.dir, 'harness.db'));
    ({ page, problems } = session);
  });

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('sits between Phrases and Fertility and opens on the bundled demo model', async () => {
    const steps = await page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button').allTextContents();
    expect(steps).toEqual(['1. Languages', '2. Phrases', '3. Model', '4. Fertility', '5. SAEs', '6. Run', '7. Results', '8. Fine-tune', '9. Evaluate']);
    await page.getByRole('button', { name: '3. Model' }).click();
    await page.getByText('Gemma2ForCausalLM').first().waitFor();
    expect(await page.getByLabel('model path').inputValue()).toBe(join(ROOT_DIR, 'resources', 'demo', 'model'));
    await page.getByRole('button', { name: 'Browse…' }).click();
    await page.getByText('No file dialog here: type the folder path.').waitFor();
  });

  it('lists the execution providers with the CPU available and the one "auto" uses', async () => {
    const cpu = page.locator('table.providers tr[data-provider=cpu]');
    await cpu.waitFor();
    expect(await cpu.getAttribute('data-available')).toBe('true');
    expect(await cpu.locator('td').nth(1).textContent()).toBe('yes');
    expect(await cpu.locator('td').nth(2).textContent()).toBeTruthy();
    expect(await page.locator('table.providers tbody tr').count()).toBe(5);
    expect(await page.getByTestId('preferred-provider').textContent()).toMatch(/"auto" will use (CPU|CUDA|DirectML|CoreML|WebGPU)\./);
    expect(await page.locator('table.providers .badge').count()).toBe(1);
  });

  it('inspects a typed model folder: architecture, layers, dtype, memory', async () => {
    await inspect(GEMMA2);
    await page.getByTestId('model-info').waitFor();
    expect(await field('architecture').textContent()).toBe('Gemma2ForCausalLM (gemma2)');
    expect(await field('layers').textContent()).toBe('4');
    expect(await field('dModel').textContent()).toBe('64');
    expect(await field('heads').textContent()).toBe('4 query, 2 key/value (grouped-query)');
    expect(await field('vocab').textContent()).toBe('256');
    expect(await field('parameters').textContent()).toBe('165 K (164,928)');
    expect(await field('dtype').textContent()).toBe('F32');
    expect(await field('weights').textContent()).toBe('644 KiB in 1 file');
    expect(await field('context').textContent()).toBe('64 tokens');
    expect(await field('slidingWindow').textContent()).toBe('2 of 4');
    expect(await field('tokenizer').textContent()).toContain('none in the folder');
    await page.getByTestId('memory').waitFor();
    expect(await page.getByTestId('memory').textContent()).toMatch(/A run needs about 676 KiB; this machine has .+ free of .+\./);
    expect(await page.getByTestId('memory-warning').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'model.png'), fullPage: true });
  });

  it('shows typed errors in place and keeps the previous model', async () => {
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    await inspect(empty);
    const alert = page.locator('form.model-folder [role=alert]');
    await alert.waitFor();
    expect(await alert.getAttribute('data-code')).toBe('WEIGHTS_NOT_FOUND');
    expect(await alert.textContent()).toBe(`${empty}: has no config.json`);
    expect(await page.getByTestId('kept-model').textContent()).toContain(GEMMA2);
    expect(await field('architecture').textContent()).toBe('Gemma2ForCausalLM (gemma2)');

    // A Gemma-2 config over Llama weights: the error names the file and the missing tensor.
    const mixed = join(tmp.dir, 'mixed');
    mkdirSync(mixed);
    copyFileSync(join(GEMMA2, 'config.json'), join(mixed, 'config.json'));
    copyFileSync(join(MODELS, 'llama', 'model.safetensors'), join(mixed, 'model.safetensors'));
    await inspect(mixed);
    await expect.poll(() => alert.getAttribute('data-code')).toBe('WEIGHTS_INVALID');
    expect(await alert.textContent()).toMatch(/^model\.safetensors: has no tensor '.+', which Gemma2ForCausalLM needs$/);
    expect(await field('layers').textContent()).toBe('4');
    await page.screenshot({ path: join(ARTIFACTS, 'model-error.png'), fullPage: true });
  });

  it('keeps the chosen model in the wizard state across steps', async () => {
    await page.getByRole('button', { name: '4. Fertility' }).click();
    await page.getByRole('button', { name: '3. Model' }).click();
    expect(await page.getByLabel('model path').inputValue()).toBe(GEMMA2);
    expect(await field('architecture').textContent()).toBe('Gemma2ForCausalLM (gemma2)');
    expect(await page.locator('form.model-folder [role=alert]').count()).toBe(0);
  });

  it('raised no CSP violation, console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

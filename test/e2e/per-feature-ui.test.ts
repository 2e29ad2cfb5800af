// Per-feature figures in the wizard (issue 15): the real renderer in real Chromium against the real
// backend (browser harness, a SQLite file), on the tiny random Gemma-2 and random SAEs the CLI
// builds. The dataset is the per-feature fixture's corpus.tsv with its phrases.json beside it
// (segments f<feature>.<n>, provenance 1-/2-linguascope-res-256: layers 1 and 2), copied to a
// fresh folder. The Run step offers the phrases only when the backend finds the file beside the
// corpus, on by default; the Results table's cells are the stored summary's per_feature figures
// (read through the backend API), formatted, and those figures equal the fixture's independent
// reference; its CSV holds them unrounded; SAEs of another width
// show the backend's warnings; unticked, the run measures no per-feature figures and the section
// is gone. axe-core on both steps. Needs `npm run build`.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisRunRecord, DisparitySummary } from '../../src/shared/dto';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';
import { chooseLanguages, wizardStep } from '../helpers/wizard-page';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'per-feature');
const LANGUAGES = ['en', 'es', 'it', 'hi', 'ml'];
const OPTION = 'Measure each feature on its own phrases (phrases.json)';

/** How the Results step writes a figure (the renderer's project is not this one's): 4 significant
 * digits (whole numbers from 1000 up), percentages to 0.1 with ' %', 'n/a' where undefined. */
const num = (v: number | null | undefined) => (v == null ? 'n/a' : Math.abs(v) >= 1000 ? v.toFixed(0) : String(Number(v.toPrecision(4))));
const pct = (v: number | null | undefined) => (v == null ? 'n/a' : `${v.toFixed(1)} %`);

describe('browser harness: per-feature figures from the Run step to the Results table', () => {
  const tmp = tempDir();
  const MODEL = join(tmp.dir, 'model');
  const SAES = join(tmp.dir, 'saes');
  const WIDE_SAES = join(tmp.dir, 'saes-512');
  const DATASET = join(tmp.dir, 'dataset');
  const CORPUS = join(DATASET, 'corpus.tsv');
  const PHRASES = join(DATASET, 'phrases.json');
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => wizardStep(page, name);

  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: join(tmp.dir, 'setup.db') }, timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
  };
  /** The newest stored analysis's summary, through the backend API the page uses. */
  const lastSummary = async (): Promise<DisparitySummary> => {
    const api = await session!.harness.backendApi();
    const runs = await api.runs.list({ kind: 'analysis' });
    const newest = runs.reduce((a, b) => (b.id > a.id ? b : a));
    return ((await api.runs.get({ id: newest.id })) as AnalysisRunRecord).summary;
  };
  const useSaes = async (folder: string) => {
    await step('5. SAEs').click();
    await page.getByLabel('sae path').fill(folder);
    await page.getByLabel('sae path').press('Enter');
    await expect.poll(() => page.getByTestId('sae-summary').textContent(), { timeout: 30_000 }).toContain(folder);
  };
  const run = async () => {
    const before = (await (await session!.harness.backendApi()).runs.list({ kind: 'analysis' })).length;
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('analysis-results').waitFor({ timeout: 300_000 });
    await expect.poll(async () => (await (await session!.harness.backendApi()).runs.list({ kind: 'analysis' })).length).toBe(before + 1);
    return lastSummary();
  };

  beforeAll(async () => {
    cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3');
    cli('make-random-saes', '--model', MODEL, '--width', '256', '--out', SAES, '--seed', '5');
    cli('make-random-saes', '--model', MODEL, '--width', '512', '--out', WIDE_SAES, '--seed', '5');
    mkdirSync(DATASET);
    copyFileSync(join(FIXTURE, 'corpus.tsv'), CORPUS);
    copyFileSync(join(FIXTURE, 'phrases.json'), PHRASES);
    session = await openHarnessPage(join(tmp.dir, 'harness.db'));
    page = session.page;
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 30_000 });
  }, 300_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('offers nothing on the bundled UDHR', async () => {
    await chooseLanguages(page, LANGUAGES);
    await step('3. Model').click();
    await page.getByLabel('model path').fill(MODEL);
    await page.getByLabel('model path').press('Enter');
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 30_000 }).toContain(MODEL);
    await useSaes(SAES);
    await step('6. Run').click();
    expect(await page.getByTestId('run-corpus').textContent()).toContain('UDHR');
    // Give the backend's answer time to arrive, had one been asked.
    await page.waitForTimeout(500);
    expect(await page.getByTestId('run-phrases').count()).toBe(0);
  }, 60_000);

  it('offers the phrases.json beside the chosen corpus file, ticked, naming the file', async () => {
    await step('2. Phrases').click();
    await page.getByLabel('corpus file path').fill(CORPUS);
    await page.getByRole('button', { name: 'Use this file' }).click();
    await expect.poll(() => page.getByTestId('corpus-source').textContent()).toContain(CORPUS);
    await step('6. Run').click();
    const option = page.getByTestId('run-phrases');
    await option.waitFor({ timeout: 30_000 });
    expect(await page.getByLabel(OPTION).isChecked()).toBe(true);
    expect(await option.locator('code').textContent()).toBe(PHRASES);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 60_000);

  it('runs with it: the Results table shows the stored per_feature figures, formatted; the CSV holds them unrounded', async () => {
    await page.getByLabel('segment limit').fill('');
    await page.getByLabel('bootstrap resamples').fill('0');
    await page.getByLabel('reduction').selectOption('mean');
    const summary = await run();
    expect(summary.per_feature_phrases).toMatchObject({ file: PHRASES, features: 3, warnings: [] });
    const figures = summary.per_feature!;
    expect(figures.map((f) => [f.layer, f.feature])).toEqual([[1, 139], [1, 145], [2, 17]]);

    const section = page.getByTestId('per-feature');
    await section.waitFor();
    expect(await section.locator('h3').textContent()).toBe('Each feature on its own phrases');
    expect(await page.getByTestId('per-feature-warnings').count()).toBe(0);
    const codes = summary.languages.map((l) => l.code);
    // In the summary's order (the table's columns follow it).
    expect([...codes].sort()).toEqual([...LANGUAGES].sort());
    const table = page.getByTestId('per-feature-table');
    expect(await table.locator('thead th').allTextContents()).toEqual(
      ['Layer', 'Feature', 'Segments', ...codes.map((c) => `mean ${c}`), ...codes.map((c) => `deficit ${c}`), 'Gap'].map((h) => `${h} ↕`),
    );
    const shown = await table.locator('tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ text: [...tr.children].map((c) => (c.textContent ?? '').trim()), values: [...tr.children].map((c) => c.getAttribute('data-value')) })),
    );
    expect(shown.map((r) => r.text)).toEqual(
      figures.map((f) => [String(f.layer), String(f.feature), String(f.segments), ...codes.map((c) => num(f.mean_activation[c])), ...codes.map((c) => pct(f.deficit_vs_en[c])), pct(f.gap_percent)]),
    );
    // The cells carry the summary's numbers themselves (String(null) where undefined).
    expect(shown.map((r) => r.values.slice(3))).toEqual(figures.map((f) => [...codes.map((c) => String(f.mean_activation[c])), ...codes.map((c) => String(f.deficit_vs_en[c])), String(f.gap_percent)]));
    // And the figures are right: the independent reference (HF transformers + SAELens, see
    // scripts/reference/make_per_feature_fixtures.py) on the same model, SAEs and phrases, mean
    // reduction, at per-feature-cli.test.ts's tolerance.
    const reference = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as { figures: { mean: { layer: number; feature: number; segments: number; mean_activation: Record<string, number> }[] } };
    const want = [...reference.figures.mean].sort((a, b) => a.layer - b.layer || a.feature - b.feature);
    expect(figures.map((f) => [f.layer, f.feature, f.segments])).toEqual(want.map((f) => [f.layer, f.feature, f.segments]));
    figures.forEach((f, i) => {
      for (const c of LANGUAGES) expect(Math.abs(f.mean_activation[c]! - want[i].mean_activation[c]), `feature ${f.feature} m(${c})`).toBeLessThanOrEqual(2e-5 * Math.max(1, Math.abs(want[i].mean_activation[c])));
    });

    // Sorting by a column orders the rows by the summary's figure.
    await table.getByRole('button', { name: /^mean hi/ }).click();
    const byHi = [...figures].sort((a, b) => (b.mean_activation.hi ?? -Infinity) - (a.mean_activation.hi ?? -Infinity)).map((f) => String(f.feature));
    const order = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-feature')));
    expect([order, [...order].reverse()]).toContainEqual(byHi);

    const [csv] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'CSV' }).click()]);
    expect(csv.suggestedFilename()).toBe('per_feature.csv');
    const lines = readFileSync((await csv.path())!, 'utf8').trim().split('\n').map((l) => l.split(','));
    expect(lines[0]).toEqual(['layer', 'feature', 'source', 'language', 'tier', 'segments', 'segments_dropped', 'mean_activation', 'deficit_vs_en', 'gap_percent']);
    const cell = (v: number | null) => (v === null ? '' : v);
    expect(lines.slice(1).map((r) => [Number(r[0]), Number(r[1]), r[2], r[3], r[4], Number(r[5]), Number(r[6]), r[7] === '' ? '' : Number(r[7]), r[8] === '' ? '' : Number(r[8]), r[9] === '' ? '' : Number(r[9])])).toEqual(
      figures.flatMap((f) =>
        summary.languages.map((l) => [f.layer, f.feature, f.source, l.code, l.tier, f.segments, f.segments_dropped, cell(f.mean_activation[l.code]), cell(f.deficit_vs_en[l.code]), cell(f.gap_percent)]),
      ),
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 360_000);

  it('shows the backend\'s warnings when the SAEs are not the width the phrases\' source names', async () => {
    await useSaes(WIDE_SAES);
    await step('6. Run').click();
    await page.getByTestId('run-phrases').waitFor({ timeout: 30_000 });
    const summary = await run();
    const warnings = summary.per_feature_phrases!.warnings;
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.join('\n')).toMatch(/has 512 features, but .*width 256/);
    expect(await page.getByTestId('per-feature-warnings').locator('li').allTextContents()).toEqual(warnings);
    expect(await page.getByTestId('per-feature-table').locator('tbody tr').count()).toBe(summary.per_feature!.length);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 360_000);

  it('unticked: the run sends no phrases, the summary has no per_feature, the section is gone; the choice stays', async () => {
    await useSaes(SAES);
    await step('6. Run').click();
    await page.getByTestId('run-phrases').waitFor({ timeout: 30_000 });
    await page.getByLabel(OPTION).uncheck();
    const summary = await run();
    expect(summary.per_feature).toBeUndefined();
    expect(summary.per_feature_phrases).toBeUndefined();
    expect(await page.getByTestId('per-feature').count()).toBe(0);
    await step('6. Run').click();
    await page.getByTestId('run-phrases').waitFor();
    expect(await page.getByLabel(OPTION).isChecked()).toBe(false);
    expect(session!.problems).toEqual([]);
  }, 360_000);
});

// The Phrases step as a user builds a dataset: the real renderer in real Chromium against the real
// backend (browser harness, a SQLite file). The FLORES+ parquet fixture's dev split is imported in
// en/hi/ml; the project's fourth language (zh) is translated with the tiny opus-mt fixture and its
// >>cmn_Hans<< token; the reports are checked cell by cell against the import.json and
// translation.json the backend wrote, and the preview table against corpus.tsv on disk; the dataset
// is used in the project (stored in the project's row), the Run step names it, and an analysis run
// from the Run step reads it (its stored request and segment count). Then bad input: a FLORES
// folder without a chosen language shows its typed error in place, writes nothing and keeps the
// dataset and the project's corpus; form problems are named before anything is sent. axe-core on
// the step. Needs `npm run build`.
import Database from 'better-sqlite3';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetImportResult, DatasetTranslateResult } from '../../src/shared/dataset';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';
import { chooseLanguages, wizardStep } from '../helpers/wizard-page';

const FLORES = join(import.meta.dirname, '..', 'fixtures', 'parallel', 'flores_plus');
const MARIAN = join(import.meta.dirname, '..', 'fixtures', 'marian', 'tiny-en-mul-bin');
const NEURONPEDIA = join(import.meta.dirname, '..', 'fixtures', 'neuronpedia');
const DEMO_MODEL = join(import.meta.dirname, '..', '..', 'resources', 'demo', 'model');
/** The phrases the Python reference (scripts/reference/make_neuronpedia_fixtures.py) cut from the fixture export. */
const reference = JSON.parse(readFileSync(join(NEURONPEDIA, 'expected.json'), 'utf8')) as {
  sources: { sourceId: string; modelId: string; features: number[]; cases: Record<string, { phrases: { feature: number; text: string }[] }> }[];
};
const demoSource = reference.sources.find((x) => x.sourceId === '3-demo-res-512')!;

describe('browser harness: the Phrases step imports FLORES+, translates a language, and the project uses the dataset', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'phrases.db');
  const IMPORT = join(tmp.dir, 'flores-dev');
  const TRANSLATED = join(tmp.dir, 'translated');
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => wizardStep(page, name);
  /** What the step says of the translated dataset (its languages as the backend lists them). */
  let translatedSummary = '';

  /** The project's stored state and its runs, read from the database file itself. */
  const db = <T>(read: (d: Database.Database) => T): T => {
    const d = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      return read(d);
    } finally {
      d.close();
    }
  };
  const projectCorpus = () =>
    db((d) => {
      const rows = d.prepare('SELECT state_json FROM projects').all() as { state_json: string }[];
      return rows.map((r) => (JSON.parse(r.state_json) as { corpus: string }).corpus);
    });
  /** A table's body as text, row by row (header cell first). */
  const tableRows = (selector: string) => page.locator(`${selector} tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
  const corpusTsv = (dir: string) => {
    const rows = readFileSync(join(dir, 'corpus.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    const bySegment = new Map<string, Record<string, string>>();
    for (const [segment, language, text] of rows) bySegment.set(segment, { ...bySegment.get(segment), [language]: text });
    return bySegment;
  };

  beforeAll(async () => {
    session = await openHarnessPage(dbPath);
    page = session.page;
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 30_000 });
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('is step 2, "Phrases", and shows the corpus the project reads (the bundled UDHR)', async () => {
    await chooseLanguages(page, ['en', 'zh', 'ml', 'hi']);
    await step('2. Phrases').click();
    await page.getByRole('heading', { level: 2, name: 'Phrases' }).waitFor();
    await expect.poll(() => page.getByTestId('aligned-count').textContent()).toMatch(/aligned segments in 4 languages/);
    expect(await page.getByTestId('corpus-source').textContent()).toContain('Universal Declaration of Human Rights');
  });

  it('imports the FLORES+ dev split in en/hi/ml with a per-language report equal to the one written', async () => {
    await page.getByLabel('files to import').fill(FLORES);
    await page.getByLabel('languages to import').fill('en, hi, ml');
    await page.getByLabel('FLORES split').selectOption('dev');
    await page.getByLabel('dataset folder', { exact: true }).fill(IMPORT);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const report = page.getByTestId('import-report');
    await report.waitFor({ timeout: 120_000 });

    const written = JSON.parse(readFileSync(join(IMPORT, 'import.json'), 'utf8')) as DatasetImportResult;
    expect(written.languages.map((l) => l.code)).toEqual(['en', 'hi', 'ml']);
    expect(await tableRows('[data-testid=import-report] table')).toEqual(written.languages.map((l) => [l.code, l.label, String(l.read), String(l.kept), 'none']));
    expect(await report.locator('h4').textContent()).toBe(`Import: flores-parquet (dev), ${written.segments.kept} of ${written.segments.read} segments kept`);
    const skipped = await report.locator('ul[aria-label="not imported"] li').allTextContents();
    expect(skipped).toEqual(written.skipped.map((k) => `Not imported: ${k.label} (${k.rows} rows): ${k.why}`));
    expect(skipped.join('\n')).toMatch(/cmn_Hans \(3 rows\): zh was not chosen/);
    expect(await page.getByTestId('phrases-dataset-summary').textContent()).toBe(`Dataset ${join(IMPORT, 'corpus.tsv')} in en, hi, ml.`);
    // The project still reads the UDHR: an import is not used until the user says so.
    expect(projectCorpus()).toEqual(['udhr']);
  }, 180_000);

  it('offers the language the import lacks (zh) and names what is missing before sending', async () => {
    const translate = page.getByTestId('phrases-translate');
    expect(await translate.locator('legend').textContent()).toBe('Translate the languages it lacks (zh)');
    expect(await translate.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-code')))).toEqual(['zh']);
    await page.getByLabel('zh target token').fill('cmn_Hans');
    await page.getByRole('button', { name: 'Translate', exact: true }).click();
    const problems = page.getByTestId('phrases-problems');
    await problems.waitFor();
    expect(await problems.locator('li').allTextContents()).toEqual(['zh: choose the opus-mt folder that translates into it.']);
    await page.getByLabel('zh opus-mt folder').fill(MARIAN);
    await page.getByRole('button', { name: 'Translate', exact: true }).click();
    await expect.poll(() => problems.locator('li').allTextContents()).toEqual([expect.stringMatching(/^zh target token \(like >>cmn_Hans<<\): /)]);
    expect(existsSync(TRANSLATED)).toBe(false);
    // A try with a folder that is not an opus-mt folder: the backend's typed error, in the row.
    await page.getByLabel('zh target token').fill('>>cmn_Hans<<');
    await page.getByLabel('zh opus-mt folder').fill(IMPORT);
    await page.getByRole('button', { name: 'Try zh' }).click();
    const tryError = page.locator('tr[data-code=zh] p.error[role=alert]');
    await tryError.waitFor({ timeout: 60_000 });
    expect(await tryError.getAttribute('data-code')).toMatch(/^[A-Z_]+$/);
    expect(await tryError.textContent()).toContain(IMPORT.split('/').pop());
    await page.getByLabel('zh opus-mt folder').fill(MARIAN);
  });

  it('translates zh with the opus-mt folder and >>cmn_Hans<<; the report and the preview equal what was written', async () => {
    await page.getByLabel('zh target token').fill('>>cmn_Hans<<');
    await page.getByLabel('translated dataset folder').fill(TRANSLATED);
    await page.getByLabel('beams').fill('2');
    // A try of the first segment's English text, before translating everything.
    const first = [...corpusTsv(IMPORT).entries()][0];
    await page.getByLabel('sample text').fill(first[1].en);
    await page.getByRole('button', { name: 'Try zh' }).click();
    const tried = page.getByTestId('try-zh');
    await tried.waitFor({ timeout: 120_000 });
    const triedText = (await tried.textContent())!;
    expect(await page.locator('tr[data-code=zh] p.error').count()).toBe(0);
    await page.getByRole('button', { name: 'Translate', exact: true }).click();
    const report = page.getByTestId('translate-report');
    await report.waitFor({ timeout: 300_000 });
    expect(await page.getByTestId('phrases-problems').count()).toBe(0);

    const written = JSON.parse(readFileSync(join(TRANSLATED, 'translation.json'), 'utf8')) as DatasetTranslateResult;
    expect(written.languages.map((l) => [l.code, l.count, l.empty, l.settings.targetToken, l.settings.numBeams])).toEqual([['zh', 3, 0, '>>cmn_Hans<<', 2]]);
    const zh = written.languages[0];
    expect(await tableRows('[data-testid=translate-report] table')).toEqual([
      ['zh', MARIAN, `beams 2, max length ${zh.settings.maxLength}, token >>cmn_Hans<<`, '3', String(zh.cached), '0', zh.seconds.toFixed(1), 'none (a language added)'],
    ]);
    expect(await report.locator('h4').textContent()).toBe('Translation from en: 3 of 3 segments kept');
    // The import's report stays beside the translation's.
    expect(await page.getByTestId('import-report').count()).toBe(1);
    // The languages the import had (as the backend lists them, the source first), then the translated one.
    expect(written.languagesKept[0]).toBe('en');
    expect([...written.languagesKept].sort()).toEqual(['en', 'hi', 'ml']);
    translatedSummary = `Dataset ${join(TRANSLATED, 'corpus.tsv')} in ${[...written.languagesKept, 'zh'].join(', ')}.`;
    expect(await page.getByTestId('phrases-dataset-summary').textContent()).toBe(translatedSummary);
    expect(await page.getByTestId('phrases-complete').textContent()).toContain('every language of the project');

    // The preview: segment, then one column per language (the project's order), every cell the file's.
    const tsv = corpusTsv(TRANSLATED);
    expect(tsv.size).toBe(3);
    const preview = page.getByTestId('phrases-preview');
    await expect.poll(() => preview.locator('tbody tr').count()).toBe(3);
    const columns = await preview.locator('thead th').allTextContents();
    expect(columns[0]).toBe('Segment');
    expect(new Set(columns.slice(1))).toEqual(new Set(['en', 'hi', 'ml', 'zh']));
    const rows = await tableRows('[data-testid=phrases-preview] table');
    expect(rows).toEqual([...tsv.entries()].map(([segment, texts]) => [segment, ...columns.slice(1).map((c) => texts[c])]));
    // The zh texts are the model's (non-empty), the en/hi/ml ones the import's.
    const imported = corpusTsv(IMPORT);
    for (const [segment, texts] of tsv) {
      expect(texts.zh.length).toBeGreaterThan(0);
      expect({ en: texts.en, hi: texts.hi, ml: texts.ml }).toEqual(imported.get(segment));
    }
    expect(await page.getByTestId('phrases-position').textContent()).toBe('Segments 1–3 of 3');
    // The try gave what the translation wrote for that segment (same folder, token and beams).
    expect(tsv.get(first[0])!.zh).toBe(triedText.replace(/[\t\r\n]+/g, ' ').trim());
    expect(zh.cached).toBeGreaterThanOrEqual(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 360_000);

  it('uses the dataset in the project: stored, read by the step and named by the Run step', async () => {
    await page.getByRole('button', { name: 'Use this dataset in the project' }).click();
    const corpus = join(TRANSLATED, 'corpus.tsv');
    await expect.poll(() => page.getByTestId('phrases-used').textContent()).toBe(`The project now reads ${corpus}.`);
    await expect.poll(() => projectCorpus()).toEqual([corpus]);
    await expect.poll(() => page.getByTestId('aligned-count').textContent()).toMatch(/^Corpus file corpus\.tsv: 3 aligned segments in 4 languages/);
    expect(await page.getByRole('button', { name: 'The project uses this dataset' }).isDisabled()).toBe(true);
    await step('6. Run').click();
    expect(await page.getByTestId('run-corpus').textContent()).toContain(corpus);
  });

  it('an analysis run from the Run step reads the saved corpus', async () => {
    await page.getByLabel('segment limit').fill('');
    await page.getByLabel('bootstrap resamples').fill('20');
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('analysis-results').waitFor({ timeout: 300_000 });
    const run = db((d) => d.prepare("SELECT request_json, summary_json FROM runs WHERE kind = 'analysis' ORDER BY id DESC LIMIT 1").get() as { request_json: string; summary_json: string } | undefined);
    expect(run).toBeDefined();
    expect(JSON.parse(run!.request_json).corpus).toBe(join(TRANSLATED, 'corpus.tsv'));
    expect(JSON.parse(run!.summary_json).segments).toBe(3);
  }, 360_000);

  it('a FLORES folder without a chosen language: its typed error in place, nothing written, the dataset and the project corpus kept', async () => {
    await step('2. Phrases').click();
    const bad = join(tmp.dir, 'flores-ru');
    await page.getByLabel('languages to import').fill('en, hi, ru');
    await page.getByLabel('dataset folder', { exact: true }).fill(bad);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const error = page.locator('.phrases-builder p.error[role=alert]');
    await error.waitFor({ timeout: 120_000 });
    expect(await error.getAttribute('data-code')).toBe('LANGUAGE_NOT_IN_CORPUS');
    expect(await error.textContent()).toMatch(/has no text in ru \(it has /);
    expect(existsSync(bad)).toBe(false);
    expect(await page.getByTestId('phrases-dataset-summary').textContent()).toBe(translatedSummary);
    expect(await page.getByTestId('translate-report').count()).toBe(1);
    expect(projectCorpus()).toEqual([join(TRANSLATED, 'corpus.tsv')]);

    // A form problem is named before anything is sent, and replaces the backend's error.
    await page.getByLabel('dataset folder', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await expect.poll(() => page.getByTestId('phrases-problems').locator('li').allTextContents()).toEqual(['Dataset folder: type the folder the imported corpus is written to.']);
    expect(await error.count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 180_000);

  it('reopens on the Phrases step with the saved corpus after a reload', async () => {
    await page.reload();
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('nav[aria-label="wizard steps"] button[aria-current=step]').textContent()).toBe('2. Phrases');
    await expect.poll(() => page.getByTestId('corpus-source').textContent()).toContain(join(TRANSLATED, 'corpus.tsv'));
    // The step's choices are the project's: stored in its row and shown again.
    const stored = db((d) => JSON.parse((d.prepare('SELECT state_json FROM projects').get() as { state_json: string }).state_json) as { phrases?: { targets: Record<string, unknown>; importForm: { path: string } } });
    expect(stored.phrases?.targets.zh).toEqual({ model: MARIAN, targetToken: '>>cmn_Hans<<' });
    expect(await page.getByLabel('files to import').inputValue()).toBe(FLORES);
    expect(session!.problems).toEqual([]);
  });

  it('extracts Neuronpedia phrases (equal to the Python reference), translates them, and previews them by feature segment', async () => {
    await chooseLanguages(page, ['en', 'hi', 'zh']);
    await step('2. Phrases').click();
    await page.getByLabel('A Neuronpedia export').check();
    const out = join(tmp.dir, 'neuronpedia.jsonl');
    await page.getByLabel('Neuronpedia export folder').fill(NEURONPEDIA);
    await page.getByLabel('Neuronpedia source').fill('3-demo-res-512');
    await page.getByLabel('feature indices').fill('7, 300');
    await page.getByLabel('tokenizer folder').fill(DEMO_MODEL);
    await page.getByLabel('phrases file written').fill(out);
    await page.getByRole('button', { name: 'Extract phrases' }).click();
    const report = page.getByTestId('extract-report');
    await report.waitFor({ timeout: 120_000 });
    const want = demoSource.cases.default.phrases;
    const lines = readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { feature: number; text: string });
    expect(lines.map((l) => [l.feature, l.text])).toEqual(want.map((p) => [p.feature, p.text]));
    expect(await report.locator('h4').textContent()).toBe(`Neuronpedia: ${want.length} phrases from 2 features of ${demoSource.modelId}/3-demo-res-512`);
    const rows = await tableRows('[data-testid=extract-report] table');
    expect(rows.map((r) => [r[0], r[5]])).toEqual(demoSource.features.map((f) => [String(f), String(want.filter((p) => p.feature === f).length)]));
    expect(await page.getByTestId('phrases-dataset-summary').textContent()).toBe(`Phrases ${out} (English): translate them to make a corpus.`);

    // hi and zh are missing; zh's opus-mt folder and token are the project's (chosen before the reload).
    const translate = page.getByTestId('phrases-translate');
    expect(await translate.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-code')))).toEqual(['zh', 'hi']);
    expect(await page.getByLabel('zh opus-mt folder').inputValue()).toBe(MARIAN);
    expect(await page.getByLabel('zh target token').inputValue()).toBe('>>cmn_Hans<<');
    await page.getByLabel('hi opus-mt folder').fill(MARIAN);
    await page.getByLabel('hi target token').fill('>>hin<<');
    const dir = join(tmp.dir, 'neuronpedia-translated');
    await page.getByLabel('translated dataset folder').fill(dir);
    await page.getByRole('button', { name: 'Translate', exact: true }).click();
    await expect.poll(() => page.getByTestId('translate-report').locator('tbody tr').count(), { timeout: 300_000 }).toBe(2);
    await page.getByTestId('phrases-dataset-summary').getByText(join(dir, 'corpus.tsv')).waitFor();
    // The extraction's report stays; segments are f<feature>.<n>, and phrases.json maps them to features.
    expect(await report.count()).toBe(1);
    const features = JSON.parse(readFileSync(join(dir, 'phrases.json'), 'utf8')) as { segment: string; feature: number }[];
    expect(features.every((f) => f.segment.startsWith(`f${f.feature}.`))).toBe(true);
    const tsv = corpusTsv(dir);
    expect([...tsv.keys()]).toEqual(features.map((f) => f.segment));
    const preview = page.getByTestId('phrases-preview');
    await expect.poll(() => preview.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')))).toEqual(features.map((f) => f.segment).slice(0, 10));
    const columns = (await preview.locator('thead th').allTextContents()).slice(1);
    expect(columns).toEqual(['en', 'zh', 'hi']);
    const cells = await tableRows('[data-testid=phrases-preview] table');
    expect(cells).toEqual([...tsv.entries()].slice(0, 10).map(([segment, texts]) => [segment, ...columns.map((c) => texts[c])]));
    // Not used until the user says so: the project still reads the FLORES dataset.
    expect(projectCorpus()).toEqual([join(TRANSLATED, 'corpus.tsv')]);
    expect(await seriousAxeViolations(page)).toEqual([]);
  }, 420_000);

  it('pages through a larger import ten segments at a time', async () => {
    await page.getByLabel('FLORES-200 / FLORES+ or a table').check();
    const csv = join(tmp.dir, 'wide-23.csv');
    const n = 23;
    writeFileSync(csv, 'id,en,hi,zh\n' + Array.from({ length: n }, (_, i) => `s${i + 1},Sentence ${i + 1}.,वाक्य ${i + 1}।,句子${i + 1}。`).join('\n') + '\n');
    await page.getByLabel('files to import').fill(csv);
    await page.getByLabel('languages to import').fill('');
    await page.getByLabel('dataset folder', { exact: true }).fill(join(tmp.dir, 'csv-23'));
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByTestId('phrases-dataset-summary').getByText(join(tmp.dir, 'csv-23', 'corpus.tsv')).waitFor({ timeout: 120_000 });
    const position = page.getByTestId('phrases-position');
    const keys = () => page.getByTestId('phrases-preview').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')));
    const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `s${from + i}`);
    await expect.poll(() => position.textContent()).toBe('Segments 1–10 of 23');
    expect(await keys()).toEqual(ids(1, 10));
    expect(await page.getByTestId('phrases-complete').count()).toBe(1);
    const pager = page.getByRole('group', { name: 'phrase pages' });
    await pager.getByRole('button', { name: 'Next' }).click();
    await expect.poll(() => position.textContent()).toBe('Segments 11–20 of 23');
    expect(await keys()).toEqual(ids(11, 20));
    await pager.getByRole('button', { name: 'Last' }).click();
    await expect.poll(() => position.textContent()).toBe('Segments 21–23 of 23');
    expect(await keys()).toEqual(ids(21, 23));
    expect(await pager.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: 'First' }).click();
    await expect.poll(() => position.textContent()).toBe('Segments 1–10 of 23');
    expect(session!.problems).toEqual([]);
  }, 180_000);

  it('cancels a translation: the job ends, nothing is written, the dataset shown stays the phrases file', async () => {
    const many = join(tmp.dir, 'many.jsonl');
    const words = ['river', 'mountain', 'child', 'law', 'school', 'market', 'song', 'winter', 'garden', 'letter'];
    const lines = Array.from({ length: 4000 }, (_, i) => JSON.stringify({ feature: i % 50, language: 'en', text: `The ${words[i % 10]} number ${i} is near the ${words[(i * 7) % 10]} of ${words[(i * 3) % 10]}.` }));
    writeFileSync(many, lines.join('\n') + '\n');
    await page.getByLabel('Neuronpedia phrases already extracted').check();
    await page.getByLabel('phrases file', { exact: true }).fill(many);
    await page.getByRole('button', { name: 'Use these phrases' }).click();
    await expect.poll(() => page.getByTestId('phrases-dataset-summary').textContent()).toBe(`Phrases ${many} (English): translate them to make a corpus.`);
    const dir = join(tmp.dir, 'cancelled');
    await page.getByLabel('translated dataset folder').fill(dir);
    await page.getByRole('button', { name: 'Translate', exact: true }).click();
    const progress = page.getByRole('group', { name: 'translation progress' });
    await progress.waitFor({ timeout: 60_000 });
    await progress.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Cancelled; the dataset shown is the one before.').waitFor({ timeout: 120_000 });
    expect(await progress.count()).toBe(0);
    expect(existsSync(dir)).toBe(false);
    expect(await page.getByTestId('phrases-dataset-summary').textContent()).toBe(`Phrases ${many} (English): translate them to make a corpus.`);
    expect(await page.getByTestId('translate-report').count()).toBe(0);
    expect(projectCorpus()).toEqual([join(TRANSLATED, 'corpus.tsv')]);
    expect(session!.problems).toEqual([]);
  }, 240_000);
});

// The Evaluate step as a user runs it: the real renderer in real Chromium against the real backend
// (browser harness, a SQLite file) on the bundled demo model. A tiny generic multiple-choice set
// (data/en/test.jsonl: 5 items, data/hi/test.jsonl: 4) is evaluated from the step; the table is
// checked cell by cell against the results.json the backend wrote; the chart draws one bar per
// language (two with an adapter) and exports; a reload shows the same evaluation again; the original
// Okapi preset shows its note and the backend's cached answer to the same request. Then the
// project's fine-tune (a 2-step run made through the API in this test) is offered as the adapter:
// evaluated with it, the page is reloaded while the job runs and the step follows the same job to
// its before/after table with the paired differences; the backend's own answer to the same request
// (from the cache) equals what the page shows. Missing choices, refused numbers and the backend's
// refusals (a task or language the files lack, a missing path, another model's adapter, an output
// folder LinguaScope did not write) are named in place. axe-core on the step. Needs `npm run build`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalResult, EvalScores } from '../../src/shared/eval';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';
import { chooseLanguages, wizardStep } from '../helpers/wizard-page';

const DEMO = join(import.meta.dirname, '..', '..', 'resources', 'demo');
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

const ITEMS: Record<string, { context: string; choices: string[]; gold: number }[]> = {
  en: [
    { context: 'The sun rises in the', choices: ['east', 'west', 'north', 'south'], gold: 0 },
    { context: 'Two plus two is', choices: ['four', 'five', 'three'], gold: 0 },
    { context: 'A cat says', choices: ['woof', 'meow', 'moo', 'quack'], gold: 1 },
    { context: 'The capital of France is', choices: ['Berlin', 'Madrid', 'Paris'], gold: 2 },
    { context: 'Ice is made of frozen', choices: ['sand', 'water', 'glass', 'air'], gold: 1 },
  ],
  hi: [
    { context: 'सूरज उगता है', choices: ['पूर्व में', 'पश्चिम में', 'उत्तर में', 'दक्षिण में'], gold: 0 },
    { context: 'दो और दो होते हैं', choices: ['चार', 'पाँच', 'तीन'], gold: 0 },
    { context: 'बिल्ली बोलती है', choices: ['भौं', 'म्याऊँ', 'मू'], gold: 1 },
    { context: 'भारत की राजधानी है', choices: ['मुंबई', 'नई दिल्ली', 'कोलकाता', 'चेन्नई'], gold: 1 },
  ],
};

const pct = (v: number | null) => (typeof v === 'number' && Number.isFinite(v) ? (100 * v).toFixed(2) : 'n/a');
const pm = (s: EvalScores, m: 'acc' | 'acc_norm') => `${pct(s[m])} ± ${pct(s[`${m}_stderr`])}`;
const diff = (d: { difference: number; ci: [number, number] | null }) => `${d.difference > 0 ? '+' : ''}${pct(d.difference)}${d.ci ? ` [${pct(d.ci[0])}, ${pct(d.ci[1])}]` : ' (no interval)'}`;

describe('browser harness: the Evaluate step, its table and chart, a reload, an adapter', () => {
  const tmp = tempDir();
  const DATA = join(tmp.dir, 'bench', 'data');
  const OUT = join(tmp.dir, 'eval-base');
  const OUT_ADAPTED = join(tmp.dir, 'eval-adapted');
  const RUN = join(tmp.dir, 'ft-run');
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => wizardStep(page, name);
  const resultsJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as EvalResult;

  /** Every table row against the backend's result: n, acc and acc_norm ± stderr, and with an
   * adapter the after columns and the paired differences with their intervals. */
  async function expectTableEquals(result: EvalResult) {
    expect(await page.locator('table.eval-table tbody tr').count()).toBe(result.results.length);
    for (const r of result.results) {
      const cells = await page.locator(`tr[data-task="${r.task}"][data-language="${r.language}"] td`).allTextContents();
      const want = [String(r.n), pm(r.before, 'acc'), pm(r.before, 'acc_norm')];
      if (r.after && r.difference) want.push(pm(r.after, 'acc'), diff(r.difference.acc), pm(r.after, 'acc_norm'), diff(r.difference.acc_norm));
      expect(cells, `${r.task}/${r.language}`).toEqual(want);
    }
  }

  beforeAll(async () => {
    for (const [lang, items] of Object.entries(ITEMS)) {
      mkdirSync(join(DATA, lang), { recursive: true });
      writeFileSync(join(DATA, lang, 'test.jsonl'), items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    }
    session = await openHarnessPage(join(tmp.dir, 'evaluate.db'));
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('comes after Fine-tune and names what is missing before anything is sent', async () => {
    await chooseLanguages(page, ['en', 'hi']);
    const steps = await page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button').allTextContents();
    expect(steps.slice(-2)).toEqual(['8. Fine-tune', '9. Evaluate']);
    await step('9. Evaluate').click();
    await page.getByRole('heading', { name: 'Evaluate', level: 2 }).waitFor();
    expect(await page.getByTestId('evaluate-step').textContent()).toContain("the project's languages (en, hi)");
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    expect(await page.getByTestId('evaluate-problems').textContent()).toContain('type the task data');
    // Without a finished fine-tune in the project, its adapter cannot be chosen.
    await page.getByRole('radio', { name: /the project's fine-tune/ }).check();
    await page.getByLabel('task data').fill(DATA);
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    expect(await page.getByTestId('evaluate-problems').textContent()).toContain('the Fine-tune step has no finished run');
    await page.getByRole('radio', { name: /^none/ }).check();
    // Classes of bad text in the number fields are named beside them and not taken.
    for (const [label, bad] of [['item limit', '0'], ['item limit', '2.5'], ['few-shot examples', 'two'], ['few-shot examples', '101']] as const) {
      const field = page.getByLabel(label, { exact: true });
      await field.fill(bad);
      expect(await field.getAttribute('aria-invalid'), `${label} = ${bad}`).toBe('true');
    }
    await page.getByLabel('item limit', { exact: true }).fill('');
    await page.getByLabel('few-shot examples', { exact: true }).fill('');
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
  }, 120_000);

  it("names the backend's refusals in place: a task the files lack, a missing path, another model's adapter, a language the files lack, a foreign output folder", async () => {
    const alert = page.getByTestId('evaluate-step').locator('p.error[role=alert]');
    const refused = async (code: string | null, text: string) => {
      await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
      await alert.waitFor({ timeout: 60_000 });
      if (code) expect(await alert.getAttribute('data-code')).toBe(code);
      else expect(await alert.getAttribute('data-code')).toBeTruthy();
      expect(await alert.textContent()).toContain(text);
    };
    await page.getByLabel('task', { exact: true }).selectOption('arc');
    await refused(null, 'arc');
    await page.getByLabel('task', { exact: true }).selectOption('all');
    await page.getByLabel('task data').fill(join(tmp.dir, 'no-such-folder'));
    await refused(null, 'no such file');
    await page.getByLabel('task data').fill(DATA);
    // The 4-layer, 64-wide Gemma-2 fixture's adapter on the 128-wide demo model.
    await page.getByRole('radio', { name: 'another PEFT adapter folder' }).check();
    await page.getByLabel('adapter folder', { exact: true }).fill(join(import.meta.dirname, '..', 'fixtures', 'adapters', 'gemma2-lora'));
    await refused(null, 'an adapter for another model?');
    await page.getByRole('radio', { name: /^none/ }).check();
    await chooseLanguages(page, ['en', 'hi', 'ml']);
    await step('9. Evaluate').click();
    await refused('LANGUAGE_NOT_IN_CORPUS', 'no file in language ml');
    await chooseLanguages(page, ['en', 'hi']);
    await step('9. Evaluate').click();
    // A folder LinguaScope did not write (the test's folder holds the database) is never replaced.
    await page.getByLabel('output folder').fill(tmp.dir);
    await refused('OUTPUT_EXISTS', 'only replaces empty folders');
    await page.getByLabel('output folder').fill('');
    // Nothing was written and no result is shown for a refused request.
    expect(await page.getByTestId('eval-results').count()).toBe(0);
  }, 120_000);

  it('evaluates the demo model: the table is results.json, with the cache figures, the preset note and a chart that exports', async () => {
    await page.getByLabel('output folder').fill(OUT);
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await page.getByTestId('eval-results').waitFor({ timeout: 120_000 });
    const result = resultsJson(OUT);
    expect(result.results.map((r) => `${r.task}/${r.language}/${r.n}`).sort()).toEqual(['mc/en/5', 'mc/hi/4']);
    await expectTableEquals(result);
    expect(await page.getByTestId('eval-cache').textContent()).toBe(`${result.cache.items} items; of their scorings, ${result.cache.scored} computed and ${result.cache.cached} read from the cache`);
    expect(result.cache.items).toBe(9);
    expect(await page.getByTestId('eval-preset-note').textContent()).toBe(result.presetNote);
    expect(await page.getByTestId('eval-out-files').textContent()).toContain(join(OUT, 'items.jsonl'));
    // One bar per language with its error bar.
    const chart = page.getByTestId('eval-chart-mc');
    expect(await chart.locator('.recharts-bar-rectangle').count()).toBe(2);
    expect(await chart.locator('.recharts-errorBar').count()).toBe(2);
    // The chart's CSV holds the backend's numbers in percent (8 significant digits); SVG and PNG come as files.
    const figure = page.locator('figure', { has: chart });
    const [csv] = await Promise.all([page.waitForEvent('download'), figure.getByRole('button', { name: 'CSV' }).click()]);
    const csvPath = join(tmp.dir, 'chart.csv');
    await csv.saveAs(csvPath);
    const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
    expect(header).toBe('language,n,before,before_stderr,after,after_stderr');
    for (const line of lines) {
      const [language, n, before, se] = line.split(',');
      const r = result.results.find((x) => x.language === language)!;
      expect(Number(n)).toBe(r.n);
      expect(Number(before)).toBeCloseTo(100 * r.before.acc, 5);
      expect(Number(se)).toBeCloseTo(100 * r.before.acc_stderr, 5);
    }
    const [svg] = await Promise.all([page.waitForEvent('download'), figure.getByRole('button', { name: 'SVG' }).click()]);
    expect(svg.suggestedFilename()).toBe('eval_mc_acc.svg');
    const svgPath = join(tmp.dir, 'chart.svg');
    await svg.saveAs(svgPath);
    const svgText = readFileSync(svgPath, 'utf8');
    expect(svgText).toContain('multiple choice: acc per language (%)');
    expect(svgText).toContain('recharts-bar-rectangle');
    const [png] = await Promise.all([page.waitForEvent('download'), figure.getByRole('button', { name: 'PNG' }).click()]);
    expect(png.suggestedFilename()).toBe('eval_mc_acc.png');
    // acc_norm charted on request.
    await page.getByRole('radio', { name: 'acc_norm' }).check();
    expect(await figure.locator('figcaption').textContent()).toContain('acc_norm per language');
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
  }, 180_000);

  it('after a reload shows the same evaluation again (the project keeps its job)', async () => {
    await page.reload();
    await page.getByTestId('eval-results').waitFor({ timeout: 60_000 });
    await expectTableEquals(resultsJson(OUT));
    expect(await page.getByLabel('output folder').inputValue()).toBe(OUT);
    expect(await page.getByLabel('task data').inputValue()).toBe(DATA);
  }, 90_000);

  it("evaluates with the original Okapi preset: its note, and the table equals the backend's answer to the same request", async () => {
    await page.getByLabel('preset', { exact: true }).selectOption('okapi-original');
    expect(await page.getByTestId('evaluate-step').textContent()).toContain('(default: 25 for ARC and MMLU, 0 for HellaSwag)');
    await page.getByLabel('output folder').fill('');
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await expect.poll(() => page.getByTestId('eval-preset-note').textContent().catch(() => null), { timeout: 120_000 }).toMatch(/^okapi-original: /);
    const api = await session!.harness.backendApi();
    const answer = await api.eval.run({ model: join(DEMO, 'model'), data: DATA, languages: ['en', 'hi'], preset: 'okapi-original' });
    expect(answer.cache).toMatchObject({ items: 9, cached: 9, scored: 0 });
    expect(await page.getByTestId('eval-preset-note').textContent()).toBe(answer.presetNote);
    await expectTableEquals(answer);
    expect(await page.getByTestId('eval-out-files').count()).toBe(0);
    await page.getByLabel('preset', { exact: true }).selectOption('lm-eval-okapi');
  }, 150_000);

  it("evaluates with the project's fine-tune adapter; a reload mid-run follows the same job to its before/after table", async () => {
    // A 2-step fine-tune of the demo model (through the API), made the project's run in the Fine-tune step.
    const corpus = join(tmp.dir, 'pairs.tsv');
    const en = ['all people are free', 'everyone has rights', 'no one shall be a slave', 'everyone may travel', 'the family is protected', 'everyone may work', 'everyone may rest', 'education is free'];
    const hi = ['सभी लोग स्वतंत्र हैं', 'सबके अधिकार हैं', 'कोई दास नहीं होगा', 'हर कोई यात्रा कर सकता है', 'परिवार सुरक्षित है', 'हर कोई काम कर सकता है', 'हर कोई आराम कर सकता है', 'शिक्षा निःशुल्क है'];
    writeFileSync(corpus, ['segment\tlanguage\ttext', ...en.flatMap((t, i) => [`s${i}\ten\t${t}`, `s${i}\thi\t${hi[i]}`])].join('\n') + '\n');
    const api = await session!.harness.backendApi();
    const tuned = await api.finetune.run({
      model: join(DEMO, 'model'),
      saes: join(DEMO, 'saes'),
      languages: ['en', 'hi'],
      corpus,
      outDir: RUN,
      settings: { steps: 2, data: { batchPairs: 2, heldOut: 0.3 }, lora: { rank: 4, alpha: 8 }, optim: { lr: 0.05, warmup: 0 }, monitor: { evalEvery: 2, checkpointEvery: 2 } },
    });
    await step('8. Fine-tune').click();
    await page.getByLabel('run folder').fill(RUN);
    await step('9. Evaluate').click();
    await expect.poll(() => page.getByTestId('finetune-adapter').textContent().catch(() => null), { timeout: 30_000 }).toBe(tuned.adapterDir);
    const fromFinetune = page.getByRole('radio', { name: /the project's fine-tune/ });
    await fromFinetune.click();
    await expect.poll(() => fromFinetune.isChecked()).toBe(true);
    await page.getByLabel('output folder').fill(OUT_ADAPTED);
    const before = new Set((await api.jobs.list({})).map((j) => j.jobId));
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    // The job is in the backend (and its id in the project) before the page goes.
    let job = null as Awaited<ReturnType<typeof api.jobs.list>>[number] | null;
    await expect.poll(async () => (job = (await api.jobs.list({})).find((j) => j.method === 'eval.run' && !before.has(j.jobId)) ?? null)?.jobId ?? null, { timeout: 30_000, interval: 50 }).not.toBeNull();
    const runningAtReload = job!.state === 'running';
    await page.reload();
    if (runningAtReload) console.log('evaluate-flow: reloaded while the evaluation ran');
    await page.getByTestId('eval-results').waitFor({ timeout: 120_000 });
    const result = resultsJson(OUT_ADAPTED);
    expect(result.adapter).toBe(tuned.adapterDir);
    await expectTableEquals(result);
    expect(await page.getByTestId('eval-chart-mc').locator('.recharts-bar-rectangle').count()).toBe(4);
    expect(await page.getByTestId('eval-chart-mc').locator('.recharts-errorBar').count()).toBe(4);
    // The page followed the job it started (one evaluation ran), it did not start another after the reload.
    expect((await api.jobs.list({})).filter((j) => j.method === 'eval.run' && !before.has(j.jobId)).map((j) => j.jobId)).toEqual([job!.jobId]);
    // The base model's items came from the cache (scored in the first evaluation); the adapter's were computed.
    expect(result.cache).toMatchObject({ items: 9, cached: 9, scored: 9 });
    // The backend's own answer to the same request: every figure from the cache, the same numbers.
    const again = await api.eval.run({ model: result.model, adapter: tuned.adapterDir, data: DATA, languages: ['en', 'hi'], preset: 'lm-eval-okapi' });
    expect(again.cache).toMatchObject({ items: 9, cached: 18, scored: 0 });
    expect(again.results).toEqual(result.results);
    await page.screenshot({ path: join(ARTIFACTS, 'evaluate.png'), fullPage: true });
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
    expect(session!.problems).toEqual([]);
  }, 300_000);
});

// The study's experiments on the Evaluate step, as a user runs them: the real renderer in real
// Chromium against the real backend (browser harness, a SQLite file) on the bundled demo model.
// (a) An analysis (Run step, 4 segments) and an evaluation (a tiny generic multiple-choice set in
// five languages) are made from the pages; the correlation panel pairs them: its per-layer r and ρ
// with their intervals and n equal the backend's own eval.correlate answer read through the API in
// this test (same run, the same results.json), the scatter labels each language the answer plots,
// and its CSV holds the answer's points; a run deleted meanwhile is refused in place
// (RUN_NOT_FOUND). (b) Bad grid input is named in place before anything is sent (a list that does
// not parse, a repeated or negative α, a layer beyond the model, a repeated or empty set, no loss
// space) and the backend's typed refusal of a foreign sweep folder is shown in place with its code;
// then a 2-point sweep of 2-step fine-tunes on 12 segments, each evaluated, shows one comparison row
// per point equal to sweep.json, and again after a reload. axe-core on the step. Needs
// `npm run build`.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorrelationStat, EvalResult, SweepResult } from '../../src/shared/eval';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';
import { chooseLanguages, wizardStep } from '../helpers/wizard-page';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const LANGUAGES = ['en', 'zh', 'ru', 'es', 'hi'];

// Six items per language, choices of differing lengths so acc and acc_norm can differ.
const ITEMS: Record<string, [string, string[], number][]> = {
  en: [['The sun rises in the', ['east', 'west', 'north'], 0], ['Two plus two is', ['four', 'five', 'three'], 0], ['A cat says', ['woof', 'meow', 'moo'], 1], ['Ice is frozen', ['sand', 'water', 'glass'], 1], ['Birds can', ['fly', 'swim deep', 'read'], 0], ['Night is', ['bright', 'dark', 'loud'], 1]],
  zh: [['太阳从哪边升起', ['东边', '西边', '北边'], 0], ['二加二等于', ['四', '五', '三'], 0], ['猫会说', ['汪', '喵', '哞'], 1], ['冰是冻结的', ['沙子', '水', '玻璃'], 1], ['鸟会', ['飞', '深潜', '读书'], 0], ['夜晚是', ['明亮的', '黑暗的', '吵闹的'], 1]],
  ru: [['Солнце встаёт на', ['востоке', 'западе', 'севере'], 0], ['Два плюс два', ['четыре', 'пять', 'три'], 0], ['Кошка говорит', ['гав', 'мяу', 'му'], 1], ['Лёд это замёрзшая', ['пыль', 'вода', 'глина'], 1], ['Птицы умеют', ['летать', 'нырять глубоко', 'читать'], 0], ['Ночью', ['светло', 'темно', 'шумно'], 1]],
  es: [['El sol sale por el', ['este', 'oeste', 'norte'], 0], ['Dos más dos es', ['cuatro', 'cinco', 'tres'], 0], ['Un gato dice', ['guau', 'miau', 'mu'], 1], ['El hielo es agua', ['seca', 'congelada', 'caliente'], 1], ['Los pájaros pueden', ['volar', 'bucear hondo', 'leer'], 0], ['La noche es', ['clara', 'oscura', 'ruidosa'], 1]],
  hi: [['सूरज उगता है', ['पूर्व में', 'पश्चिम में', 'उत्तर में'], 0], ['दो और दो होते हैं', ['चार', 'पाँच', 'तीन'], 0], ['बिल्ली बोलती है', ['भौं', 'म्याऊँ', 'मू'], 1], ['बर्फ जमा हुआ', ['रेत', 'पानी', 'काँच'], 1], ['पक्षी कर सकते हैं', ['उड़ान', 'गहरा गोता', 'पढ़ाई'], 0], ['रात होती है', ['उजली', 'अँधेरी', 'शोर भरी'], 1]],
};

/** The backend's coefficient as the panel words it (formatting only: the figure is the API's). */
const stat = (s: CorrelationStat) =>
  s.value === null ? `undefined (${s.reason})` : s.ci ? `${s.value.toFixed(3)} [${s.ci[0].toFixed(3)}, ${s.ci[1].toFixed(3)}]` : `${s.value.toFixed(3)} (no interval${s.reason ? `: ${s.reason}` : ''})`;

describe("browser harness: the Evaluate step's experiments (correlation with an analysis, a sweep)", () => {
  const tmp = tempDir();
  const DATA = join(tmp.dir, 'bench', 'data');
  const OUT = join(tmp.dir, 'eval');
  const SWEEP = join(tmp.dir, 'sweep');
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => wizardStep(page, name);

  beforeAll(async () => {
    for (const [lang, items] of Object.entries(ITEMS)) {
      mkdirSync(join(DATA, lang), { recursive: true });
      writeFileSync(join(DATA, lang, 'test.jsonl'), items.map(([context, choices, gold]) => JSON.stringify({ context, choices, gold })).join('\n') + '\n');
    }
    session = await openHarnessPage(join(tmp.dir, 'experiments.db'));
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it("correlates an evaluation with a stored analysis: r, ρ, intervals and n are the backend's, the scatter labels every language", async () => {
    await chooseLanguages(page, LANGUAGES);
    await step('3. Model').click();
    await page.getByTestId('model-info').waitFor({ timeout: 30_000 });
    await step('5. SAEs').click();
    await page.locator('table.saes tbody tr').first().waitFor({ timeout: 30_000 });
    await step('6. Run').click();
    await page.getByLabel('segment limit').fill('4');
    await page.getByLabel('bootstrap resamples').fill('50');
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await page.getByTestId('analysis-results').waitFor({ timeout: 60_000 });

    await step('9. Evaluate').click();
    await page.getByLabel('task data').fill(DATA);
    await page.getByLabel('output folder').fill(OUT);
    await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
    await page.getByTestId('eval-results').waitFor({ timeout: 90_000 });
    const evaluation = JSON.parse(readFileSync(join(OUT, 'results.json'), 'utf8')) as EvalResult;
    expect(evaluation.results.map((r) => r.language).sort()).toEqual([...LANGUAGES].sort());

    // The run history's analysis (the one just made) is offered.
    const api = await session!.harness.backendApi();
    const [run] = (await api.runs.list({})).filter((r) => r.kind === 'analysis');
    const panel = page.getByTestId('correlation-panel');
    await expect.poll(() => panel.getByLabel('analysis run').inputValue(), { timeout: 30_000 }).toBe(String(run.id));
    await panel.getByRole('button', { name: 'Correlate' }).click();
    const results = page.getByTestId('correlation-results');
    await results.waitFor({ timeout: 30_000 });

    // The backend's own answer to the same question: the stored run, the evaluation's results.json.
    const answer = await api.eval.correlate({ analysis: { runId: run.id }, eval: { path: OUT }, task: 'mc', metric: 'acc', measure: 'deficit', model: 'base' });
    expect(answer.per_layer.length).toBeGreaterThan(0);
    expect(answer.per_layer.some((l) => l.pearson.value !== null), 'a defined r on some layer').toBe(true);
    for (const l of answer.per_layer) {
      const cells = await results.locator(`tr[data-layer="${l.layer}"] td`).allTextContents();
      expect(cells, `layer ${l.layer}`).toEqual([String(l.n), stat(l.pearson), stat(l.spearman)]);
    }
    expect(await page.getByTestId('correlation-small-n').textContent()).toContain(`across ${Math.max(...answer.per_layer.map((l) => l.n))} languages`);
    for (const w of answer.warnings) expect(await results.textContent()).toContain(w);

    // The scatter of the first layer: one labelled point per language with a measure there.
    const layer = answer.layers[0];
    const plotted = answer.points.filter((p) => p.measure[0] !== null).map((p) => p.language);
    const scatter = page.getByTestId('correlation-scatter');
    await expect.poll(() => scatter.getAttribute('data-points')).toBe(String(plotted.length));
    // Languages drawn on one spot share a label ("en, es").
    const labels = (await scatter.locator('.recharts-label-list text').allTextContents()).flatMap((t) => t.split(/,\s/)).filter(Boolean);
    expect(labels.sort()).toEqual([...plotted].sort());
    expect(await scatter.locator('.recharts-scatter-symbol').count()).toBe(plotted.length);
    // Its CSV: the answer's measure and accuracy (in percent) per language; SVG and PNG as files.
    const figure = page.locator('figure', { has: scatter });
    expect(await figure.locator('figcaption').textContent()).toContain(`Layer ${layer}: deficit against acc (mc)`);
    const [csv] = await Promise.all([page.waitForEvent('download'), figure.getByRole('button', { name: 'CSV' }).click()]);
    const csvPath = join(tmp.dir, 'scatter.csv');
    await csv.saveAs(csvPath);
    const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
    expect(header).toBe('language,tier,measure,accuracy,items');
    expect(lines).toHaveLength(plotted.length);
    for (const line of lines) {
      const [language, , measure, accuracy, items] = line.split(',');
      const p = answer.points.find((x) => x.language === language)!;
      expect(Number(measure)).toBeCloseTo(p.measure[0]!, 5);
      expect(Number(accuracy)).toBeCloseTo(100 * p.accuracy, 5);
      expect(Number(items)).toBe(p.items);
    }
    const [svg] = await Promise.all([page.waitForEvent('download'), figure.getByRole('button', { name: 'SVG' }).click()]);
    expect(svg.suggestedFilename()).toBe(`correlation_mc_acc_deficit_layer-${layer}.svg`);
    const svgPath = join(tmp.dir, 'scatter.svg');
    await svg.saveAs(svgPath);
    for (const code of plotted) expect(readFileSync(svgPath, 'utf8')).toContain(`>${code}</`);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');

    // A run deleted meanwhile (another window) is the backend's typed refusal, in place.
    await api.runs.delete({ id: run.id });
    await panel.getByRole('button', { name: 'Correlate' }).click();
    const alert = panel.locator('p.error[role=alert]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-code')).toBe('RUN_NOT_FOUND');
    expect(await page.getByTestId('correlation-results').count()).toBe(0);
  }, 240_000);

  it('names bad grid input in place, shows the backend\'s typed refusal of a foreign folder, then runs a 2-point sweep: one comparison row per point', async () => {
    // Every point shares the Fine-tune step's segment limit (12 UDHR segments: quick points).
    await step('8. Fine-tune').click();
    await page.getByLabel('fine-tune segment limit').fill('12');
    await step('9. Evaluate').click();
    const panel = page.getByTestId('sweep-panel');
    const problems = page.getByTestId('sweep-problems');
    const run = () => panel.getByRole('button', { name: 'Run sweep' }).click();
    await panel.getByLabel('training steps per point').fill('2');
    await panel.getByLabel('sweep folder').fill(SWEEP);
    // A typed list that does not parse is named beside its field.
    await panel.getByLabel('α values').fill('0.5, two');
    expect(await panel.getByLabel('α values').getAttribute('aria-invalid')).toBe('true');
    // Classes of grid fault, named before anything is sent.
    for (const [alphas, sets, text] of [
      ['1, 1', '0-1', 'α values: 1 listed twice'],
      ['-1', '0-1', 'α values: -1 outside 0..1e6'],
      ['1', '0-1 | 9', 'set 2 names layer 9; the model has layers 0..5'],
      ['1', '0,1 | 1,0', 'listed twice (after sorting)'],
      ['1', '0 |', 'set 2 is empty'],
    ] as const) {
      await panel.getByLabel('α values').fill(alphas);
      await panel.getByLabel('adapted-layer sets').fill(sets);
      await run();
      expect(await problems.textContent(), `${alphas} / ${sets}`).toContain(text);
    }
    const codes = panel.getByRole('checkbox', { name: /^sae-codes/ });
    await codes.uncheck();
    await run();
    expect(await problems.textContent()).toContain('loss spaces: choose at least one');
    await codes.check();
    // The backend's typed refusal, in place: a folder LinguaScope did not write (it holds the database).
    await panel.getByLabel('α values').fill('0.5, 2');
    await panel.getByLabel('adapted-layer sets').fill('0-1');
    await panel.getByLabel('sweep folder').fill(tmp.dir);
    await run();
    const alert = panel.locator('p.error[role=alert]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-code')).toBe('OUTPUT_EXISTS');
    expect(await panel.getByTestId('sweep-problems').count()).toBe(0);

    await panel.getByLabel('sweep folder').fill(SWEEP);
    await panel.getByLabel('sweep evaluation data').fill(DATA);
    await panel.getByLabel('sweep item limit').fill('3');
    await run();
    const comparison = page.getByTestId('sweep-comparison');
    await comparison.waitFor({ timeout: 120_000 });
    const result = JSON.parse(readFileSync(join(SWEEP, 'sweep.json'), 'utf8')) as SweepResult;
    expect(result.points.map((p) => [p.alpha, p.adaptLayers, p.steps])).toEqual([
      [0.5, [0, 1], 2],
      [2, [0, 1], 2],
    ]);
    const rows = comparison.locator('table[data-testid=sweep-table] tbody tr');
    expect(await rows.count()).toBe(result.points.length);
    for (const p of result.points) {
      const row = comparison.locator(`tr[data-point="${p.name}"]`);
      expect(await row.locator('[data-figure=mean-gain]').textContent()).toBe(p.mean_gain_percent === null ? 'n/a' : p.mean_gain_percent.toFixed(2));
      const r = p.retention_percent;
      expect(await row.locator('[data-figure=retention]').textContent()).toBe(r.value === null ? 'n/a' : `${r.value.toFixed(2)}${r.ci ? ` [${r.ci[0].toFixed(2)}, ${r.ci[1].toFixed(2)}]` : ''}`);
      // Each point was evaluated (base against adapted) on every language of the data, 3 items each.
      expect(p.accuracy.filter((a) => a.metric === 'acc').map((a) => `${a.language}/${a.n}`).sort()).toEqual(LANGUAGES.map((l) => `${l}/3`).sort());
      const hi = p.accuracy.find((a) => a.metric === 'acc' && a.language === 'hi')!;
      const d = (100 * hi.difference).toFixed(2);
      expect(await row.locator('[data-figure="acc-mc/hi"]').textContent()).toBe(`${hi.difference > 0 ? '+' : ''}${d}${hi.ci ? ` [${(100 * hi.ci[0]).toFixed(2)}, ${(100 * hi.ci[1]).toFixed(2)}]` : ''}`);
    }
    const drawn = result.points.filter((p) => p.mean_gain_percent !== null && p.retention_percent.value !== null).length;
    expect(await page.getByTestId('sweep-gain-retention').getAttribute('data-points')).toBe(String(drawn));
    await page.screenshot({ path: join(ARTIFACTS, 'evaluate-experiments.png'), fullPage: true });
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');

    // A reload shows the tab's sweep again (the backend's stored value of the same job) with the grid as typed.
    const api = await session!.harness.backendApi();
    const sweeps = async () => (await api.jobs.list({})).filter((j) => j.method === 'sweep.run').map((j) => j.jobId);
    const before = await sweeps();
    await page.reload();
    await page.getByTestId('sweep-comparison').waitFor({ timeout: 60_000 });
    expect(await page.locator('table[data-testid=sweep-table] tbody tr').count()).toBe(result.points.length);
    expect(await page.getByTestId('sweep-panel').getByLabel('α values').inputValue()).toBe('0.5, 2');
    expect(await page.getByTestId('sweep-panel').getByLabel('sweep folder').inputValue()).toBe(SWEEP);
    expect(await sweeps()).toEqual(before);
    expect(session!.problems).toEqual([]);
  }, 240_000);
});

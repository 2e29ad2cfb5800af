// The Fine-tune step as a user runs it: the real renderer in real Chromium against the real backend
// (browser harness, a SQLite file) on the bundled demo model and SAEs. A short fine-tune (en + hi,
// 12 segments (those with a phrase over the fine-tune's token limit are left out; 2 held out), 6 steps of 8 pairs, an evaluation and a checkpoint every 3 steps) is started from the
// step; the curves grow with every logged step; the page is reloaded mid-run and the monitor shows
// the whole log again from the run folder and follows the same backend job to its end; the results
// show the held-out gain and English retention with intervals; a second reload shows it all again
// from the folder alone; "resume from here" reruns from a checkpoint; the merged model is exported;
// "measure with this adapter" hands the adapter to the Run step. A folder that cannot take a run is
// named in place (OUTPUT_EXISTS); a refused setting is named beside its field. The folder's steps.jsonl is the reference the page is checked
// against. axe-core on the step before, during and after the run. Needs `npm run build`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/shared/finetune';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { tempDir } from '../helpers/temp';

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

describe('browser harness: the Fine-tune step, its live monitor, a reload, the results', () => {
  const tmp = tempDir();
  const RUN = join(tmp.dir, 'run-1');
  let session: HarnessPage | undefined;
  let page: Page;
  const step = (name: string) => page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name });
  const folderLog = (): LogRecord[] =>
    readFileSync(join(RUN, 'steps.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as LogRecord);
  const loggedSteps = async () => Number(/^(\d+) steps logged/.exec((await page.getByTestId('logged-steps').textContent()) ?? '')?.[1] ?? -1);
  const points = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-points'));

  beforeAll(async () => {
    session = await openHarnessPage(join(tmp.dir, 'finetune.db'));
    page = session.page;
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    tmp.cleanup();
  });

  it('comes after Results, proposes a run folder and shows each setting with its meaning, default and the loss formula', async () => {
    // The demo project opens first (the steps take no input until it has landed).
    await expect.poll(() => page.getByTestId('project-name').textContent(), { timeout: 30_000 }).toBe('LinguaScope demo');
    await step('1. Languages').click();
    await page.waitForSelector('table.languages tbody tr');
    for (const code of await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')!))) {
      const box = page.locator(`tr[data-code=${code}] input[type=checkbox]`);
      if (code === 'en' || code === 'hi') await box.check();
      else await box.uncheck();
    }
    const steps = await page.getByRole('navigation', { name: 'wizard steps' }).getByRole('button').allTextContents();
    expect(steps[7]).toBe('8. Fine-tune');
    // The demo's model must be inspected for the layer defaults.
    await step('3. Model').click();
    await page.getByTestId('model-info').waitFor({ timeout: 60_000 });
    await step('8. Fine-tune').click();
    await page.getByRole('heading', { name: 'Fine-tune', level: 2 }).waitFor();
    await expect.poll(() => page.getByLabel('run folder').inputValue()).toMatch(/[\\/]finetune[\\/][a-z0-9-]+-\d{8}-\d{6}$/);
    // hi is a medium/low-resource language: a target by default.
    expect(await page.getByRole('checkbox', { name: 'hi (medium-low)', exact: true }).isChecked()).toBe(true);
    const text = await page.getByTestId('finetune-step').textContent();
    expect(text).toContain('(default: 16)');
    expect(text).toContain("(default: 0..4, the paper's 21 of 26 layers as a share of this model's 6)");
    expect(text).toContain('the SAE layers within the adapted range');
    expect(await page.getByTestId('loss-formula').textContent()).toContain('L = Σ_layers [ (1/P) Σ_pairs (1/n) Σ_f w·|sg(u) − v| + 1 · (1/P)');
    await page.getByLabel('retention weight α').fill('0.5');
    await expect.poll(() => page.getByTestId('loss-formula').textContent()).toContain('+ 0.5 · (1/P)');
    await page.getByLabel('retention weight α').fill('1');
    // A refused value is named beside the field and not taken.
    await page.getByLabel('rank', { exact: true }).fill('0');
    expect(await page.getByLabel('rank', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('rank', { exact: true }).fill('16');
    // Classes of bad text: a decimal where a count goes, a word, a backwards layer range, a limit below 2.
    for (const [label, bad] of [['batch pairs', '2.5'], ['learning rate', 'fast'], ['adapted layers', '4-1'], ['fine-tune segment limit', '1']] as const) {
      const field = page.getByLabel(label, { exact: true });
      await field.fill(bad);
      expect(await field.getAttribute('aria-invalid'), `${label} = ${bad}`).toBe('true');
      await field.fill('');
    }
    await page.getByLabel('batch pairs', { exact: true }).fill('8');
    await page.getByLabel('learning rate', { exact: true }).fill('0.001');
    // The formula still shows the default α (a refused value never replaces a setting).
    await expect.poll(() => page.getByTestId('loss-formula').textContent()).toContain('+ 1 · (1/P)');
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe("[]");
  }, 120_000);

  it('names a folder that cannot take a run in place (a non-empty folder that is not a run: OUTPUT_EXISTS)', async () => {
    await page.getByLabel('fine-tune segment limit').fill('12');
    // The test's temporary folder holds the database: not empty, not a run.
    await page.getByLabel('run folder').fill(tmp.dir);
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    const alert = page.getByTestId('finetune-step').locator('p.error[role=alert]');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-code')).toBe('OUTPUT_EXISTS');
    expect(await alert.textContent()).toContain('is not empty and is not a fine-tune run');
  }, 60_000);

  it('starts a short run and draws every logged step as it comes', async () => {
    await page.getByLabel('run folder').fill(RUN);
    await page.getByLabel('steps', { exact: true }).fill('6');
    // 8 pairs a step: on the demo's BPE ids (far fewer than bytes) steps of 2 pairs ended the run
    // before the next test could reload the page mid-run.
    await page.getByLabel('batch pairs').fill('8');
    await page.getByLabel('evaluate every').fill('3');
    await page.getByLabel('checkpoint every').fill('3');
    await page.getByRole('button', { name: 'Start fine-tune' }).click();
    await page.getByTestId('finetune-monitor').waitFor({ timeout: 30_000 });
    await expect.poll(loggedSteps, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe("[]");
    // Every step logged so far is a point of the loss curve (none dropped, none invented).
    const n = await loggedSteps();
    expect(await points('curve-loss')).toBeGreaterThanOrEqual(n);
    expect(await page.getByTestId('curve-loss').getAttribute('data-first')).toBe('1');
    expect(await page.getByTestId('run-clock').textContent()).toMatch(/^step \d\/6, \d+:\d\d < (\d+:\d\d|\?)/);
  }, 120_000);

  it('after a reload mid-run shows the whole log from the run folder and follows the same job to its end', async () => {
    expect(folderLog().filter((r) => r.kind === 'step').length).toBeLessThan(6);
    await page.reload();
    // The project reopens on this step and reattaches to the job that kept running.
    await page.getByTestId('finetune-reattached').waitFor({ timeout: 30_000 });
    await page.getByTestId('finetune-results').waitFor({ timeout: 120_000 });
    const log = folderLog();
    const steps = log.filter((r) => r.kind === 'step');
    const evals = log.filter((r) => r.kind === 'eval');
    expect(steps.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(evals.map((r) => r.step)).toEqual([3, 6]);
    expect(await loggedSteps()).toBe(6);
    for (const id of ['curve-loss', 'curve-term1', 'curve-term2', 'curve-lr', 'curve-grad-norm']) expect(await points(id), id).toBe(6);
    expect(await points('curve-heldout')).toBe(2);
    expect(await points('curve-gain')).toBe(2);
    // Six dots on the loss curve, drawn by recharts.
    expect(await page.locator('figure[aria-label="Training loss"] .recharts-line-dots circle').count()).toBe(6);
    // The CSV of the loss curve holds the folder's numbers.
    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('figure[aria-label="Training loss"]').getByRole('button', { name: 'CSV' }).click()]);
    const csvPath = join(tmp.dir, 'loss.csv');
    await csv.saveAs(csvPath);
    const csvRows = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/).slice(1).map((l) => l.split(',').map(Number));
    expect(csvRows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6]);
    steps.forEach((r, i) => expect(csvRows[i][1]).toBeCloseTo((r as { loss: number }).loss, 10));
    // The debiased moving average, worked here from the folder's losses: s_t = β s_{t-1} + (1-β) x_t, ŝ_t = s_t / (1 - β^t).
    await page.getByRole('radio', { name: 'debiased EMA β = 0.9', exact: true }).check();
    expect(await page.locator('figure[aria-label="Training loss"] .recharts-line-curve').count()).toBe(2);
    const [smoothCsv] = await Promise.all([page.waitForEvent('download'), page.locator('figure[aria-label="Training loss"]').getByRole('button', { name: 'CSV' }).click()]);
    await smoothCsv.saveAs(csvPath);
    const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
    expect(header).toBe('step,loss,loss_ema');
    let sm = 0;
    steps.forEach((r, i) => {
      sm = 0.9 * sm + 0.1 * (r as { loss: number }).loss;
      expect(Number(lines[i].split(',')[2])).toBeCloseTo(sm / (1 - 0.9 ** (i + 1)), 6);
    });
    await page.getByRole('radio', { name: 'raw only' }).check();
    await page.screenshot({ path: join(ARTIFACTS, 'finetune.png'), fullPage: true });
  }, 240_000);

  it('shows the before/after: gain for hi and English retention and cosine with intervals, the outcome, the files', async () => {
    const result = JSON.parse(readFileSync(join(RUN, 'report', 'result.json'), 'utf8'));
    expect(await page.getByTestId('finetune-outcome').getAttribute('data-outcome')).toBe(result.outcome);
    const gain = page.locator('tr[data-gain=hi] td');
    expect(Number(await gain.nth(0).textContent())).toBeCloseTo(result.report.gain_percent.hi.value, 2);
    // Two held-out segments: a bootstrap interval, shown as the report has it.
    const [lo, hi] = result.report.gain_percent.hi.ci as [number, number];
    expect(await gain.nth(1).textContent()).toBe(`${lo.toFixed(2)} … ${hi.toFixed(2)}`);
    const retention = page.getByTestId('retention-row').locator('td');
    expect(Number(await retention.nth(0).textContent())).toBeCloseTo(result.report.retention_percent.value, 2);
    const [rlo, rhi] = result.report.retention_percent.ci as [number, number];
    expect(await retention.nth(1).textContent()).toBe(`${rlo.toFixed(2)} … ${rhi.toFixed(2)}`);
    expect(Number(await page.getByTestId('cosine-row').locator('td').nth(0).textContent())).toBeCloseTo(result.report.retention_cosine.value, 4);
    expect(await page.getByTestId('finetune-files').textContent()).toContain(join(RUN, 'adapter'));
    expect(await page.getByTestId('before-after-chart').locator('.recharts-line-curve').count()).toBe(4);
    const config = JSON.parse(readFileSync(join(RUN, 'finetune.json'), 'utf8'));
    expect(await page.getByTestId('run-config').textContent()).toContain(`${config.split.trainPairs} training pairs`);
    for (const note of config.notes) expect(await page.getByTestId('run-config').textContent()).toContain(note);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe("[]");
  }, 60_000);

  it('after another reload shows the finished run again from the folder alone', async () => {
    await page.reload();
    await page.getByTestId('finetune-results').waitFor({ timeout: 60_000 });
    expect(await loggedSteps()).toBe(6);
    expect(await points('curve-loss')).toBe(6);
    expect(await page.getByTestId('checkpoints').locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-step')))).toEqual(['3', '6']);
    // A run folder that holds a run cannot be started over.
    expect(await page.getByRole('button', { name: 'Start fine-tune' }).isDisabled()).toBe(true);
  }, 90_000);

  it('resumes from the step-3 checkpoint with the same arguments: the log after it is rewritten', async () => {
    await page.getByRole('button', { name: 'Resume from here (step 3)' }).click();
    await page.getByTestId('finetune-monitor').getByRole('group', { name: 'fine-tune progress' }).waitFor({ timeout: 30_000 });
    await page.getByTestId('finetune-results').waitFor({ timeout: 120_000 });
    expect(folderLog().map((r) => `${r.kind}${r.step}`)).toEqual(['step1', 'step2', 'step3', 'eval3', 'step4', 'step5', 'step6', 'eval6']);
    expect(await loggedSteps()).toBe(6);
    expect(await points('curve-loss')).toBe(6);
  }, 180_000);

  it('exports the merged model (base + adapter) to the proposed folder', async () => {
    expect(await page.getByLabel('merged model folder').inputValue()).toBe(join(RUN, 'merged'));
    await page.getByRole('button', { name: 'Export merged model' }).click();
    await page.getByTestId('merged').waitFor({ timeout: 60_000 });
    expect(readFileSync(join(RUN, 'merged', 'config.json'), 'utf8')).toContain('Gemma2ForCausalLM');
  }, 90_000);

  it('hands the adapter to the Run step for a new measurement', async () => {
    await page.getByRole('button', { name: 'Measure with this adapter' }).click();
    await page.getByTestId('adapter-set').getByRole('button', { name: 'run the analysis with it' }).click();
    expect(await page.getByLabel('adapter path').inputValue()).toBe(join(RUN, 'adapter'));
    expect(session!.problems).toEqual([]);
  }, 30_000);
});

// Projects and the run history as a user meets them, in real Chromium against the real backend on
// one SQLite file: the bundled demo runs from the Run step at once; the app reopens on the same
// step with the same choices after a reload and after the backend restarts; two runs with
// different settings are compared side by side; an evaluation made through the API is listed with
// its kind, refused for comparison and opened from the store; two windows editing one project; a
// damaged project row; a model folder that moved. Needs `npm run build`.
import Database from 'better-sqlite3';
import { cpSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seriousAxeViolations } from '../helpers/axe';
import { openHarnessPage, type HarnessPage } from '../helpers/browser';
import { writePairsCorpus } from '../helpers/pairs-corpus';
import { tempDir } from '../helpers/temp';

const ROOT = join(import.meta.dirname, '..', '..');
const DEMO = join(ROOT, 'resources', 'demo');
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const LANGUAGES = ['en', 'es', 'hi'];

describe('projects and run history in the browser', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'projects.db');
  let session: HarnessPage | undefined;
  let page: Page;
  const problems: string[] = [];

  /** The stored state of a project, read from the database file itself. */
  const stored = (name: string) => {
    const db = new Database(dbPath, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT id, revision, state_json FROM projects WHERE name = ?').get(name) as { id: number; revision: number; state_json: string } | undefined;
      return row ? { id: row.id, revision: row.revision, state: JSON.parse(row.state_json) as Record<string, unknown> } : null;
    } finally {
      db.close();
    }
  };
  const step = (p: Page, name: string) => p.getByRole('navigation', { name: 'wizard steps' }).getByRole('button', { name, exact: false });
  const currentStep = (p: Page) => p.locator('nav[aria-label="wizard steps"] button[aria-current=step]').textContent();

  const open = async () => {
    session = await openHarnessPage(dbPath);
    page = session.page;
    page.on('dialog', (d) => void d.accept());
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 30_000 });
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await open();
  }, 120_000);

  afterAll(async () => {
    if (session) problems.push(...session.problems);
    await session?.close();
    tmp.cleanup();
  });

  it('opens a fresh database on the demo project, runnable from the Run step without visiting Model or SAEs', async () => {
    expect(await page.getByTestId('project-name').textContent()).toBe('LinguaScope demo');
    await step(page, '6. Run').click();
    await expect.poll(() => page.getByTestId('run-model').textContent(), { timeout: 30_000 }).toMatch(/Gemma2ForCausalLM, 6 layers/);
    await expect.poll(() => page.getByTestId('run-saes').textContent()).toMatch(/^6 layers \(0, 1, 2, 3, 4, 5\)/);
    expect(await page.getByRole('button', { name: 'Run analysis' }).isEnabled()).toBe(true);
  });

  it('runs two short analyses with different settings (max, then mean); each is a stored run', async () => {
    await step(page, '1. Languages').click();
    await page.waitForSelector('table.languages tbody tr');
    for (const code of await page.locator('table.languages tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code')!))) {
      const box = page.locator(`tr[data-code=${code}] input[type=checkbox]`);
      if (LANGUAGES.includes(code)) await box.check();
      else await box.uncheck();
    }
    await step(page, '6. Run').click();
    await page.getByLabel('segment limit').fill('2');
    await page.getByLabel('bootstrap resamples').fill('20');
    for (const reduction of ['max', 'mean']) {
      await step(page, '6. Run').click();
      await page.getByLabel('reduction').selectOption(reduction);
      await page.getByRole('button', { name: 'Run analysis' }).click();
      await expect.poll(async () => (await page.getByTestId('settings-used').textContent()) ?? '', { timeout: 90_000 }).toContain(`${reduction} over the phrase's tokens`);
    }
    await page.getByRole('button', { name: 'Run history' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(2);
    expect(await page.locator('table.runs tbody tr td.run-digest').evaluateAll((cells) => cells.map((c) => c.getAttribute('data-reduction')))).toEqual(['mean', 'max']);
    expect(await page.locator('table.runs tbody tr td.run-kind').allTextContents()).toEqual(['analysis', 'analysis']);
    await page.getByRole('button', { name: 'Run history' }).click();
    // Saved with the step and the run shown.
    await expect.poll(() => stored('LinguaScope demo')?.state.step, { timeout: 10_000 }).toBe('results');
    await expect.poll(() => stored('LinguaScope demo')?.state.runId).not.toBeNull();
  });

  it('reopens on the same step with the same choices and results after a reload, without recomputing', async () => {
    const overview = await page.getByTestId('results-overview').textContent();
    await page.reload();
    await expect.poll(() => currentStep(page), { timeout: 30_000 }).toBe('7. Results');
    await expect.poll(() => page.getByTestId('results-overview').textContent(), { timeout: 30_000 }).toBe(overview);
    expect(await page.getByTestId('settings-used').textContent()).toContain("mean over the phrase's tokens");
    await page.getByRole('button', { name: 'Run history' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(2);
    await page.getByRole('button', { name: 'Run history' }).click();
  });

  it('survives a backend restart: same project, same step, same choices', async () => {
    if (session) problems.push(...session.problems);
    await session!.close();
    session = undefined;
    await open();
    expect(await page.getByTestId('project-name').textContent()).toBe('LinguaScope demo');
    await expect.poll(() => currentStep(page), { timeout: 30_000 }).toBe('7. Results');
    await expect.poll(() => page.getByTestId('results-overview').textContent(), { timeout: 30_000 }).toMatch(/^3 languages, 2 aligned segments, 6 layers/);
    await step(page, '6. Run').click();
    expect(await page.getByTestId('run-languages').textContent()).toContain('en, es, hi (3;');
    expect(await page.getByLabel('segment limit').inputValue()).toBe('2');
    expect(await page.getByLabel('bootstrap resamples').inputValue()).toBe('20');
    expect(await page.getByLabel('reduction').inputValue()).toBe('mean');
    await step(page, '7. Results').click();
  });

  it('compares the two runs: gap and mean-activation lines overlaid, differences per layer, the differing setting marked', async () => {
    await page.getByRole('button', { name: 'Run history' }).click();
    const names = await page.locator('table.runs .run-name').allTextContents();
    for (const name of names) await page.getByLabel(`compare ${name}`).check();
    await page.getByRole('button', { name: 'Compare the two ticked runs' }).click();
    const compare = page.getByTestId('run-compare');
    await compare.waitFor({ timeout: 30_000 });
    const differing = await compare.locator('tr[data-differs=true]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-setting')));
    expect(differing).toEqual(['reduction']);
    expect(await compare.locator('tr[data-setting=reduction] td').allTextContents()).toEqual(['mean', 'max']);
    expect(await compare.locator('tr[data-setting=languages]').getAttribute('data-differs')).toBe('false');
    expect(await compare.locator('figure[aria-label^="Gap per layer"] .recharts-line-curve').count()).toBe(2);
    expect(await compare.locator('figure[aria-label^="Mean activation per layer"] .recharts-line-curve').count()).toBe(2 * LANGUAGES.length);
    const table = compare.getByTestId('compare-differences');
    expect(await table.locator('tbody tr').count()).toBe(6 * (1 + LANGUAGES.length));
    // A is the newer run (mean), B the max. SAE codes are >= 0 and max over a phrase's tokens >=
    // their mean, feature by feature: every language's mean activation rises from A to B.
    const deltas = await table.locator('tbody tr:not([data-series=gap]) td[data-delta]').evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-delta'))));
    expect(deltas).toHaveLength(6 * LANGUAGES.length);
    for (const d of deltas) expect(d).toBeGreaterThanOrEqual(0);
    expect(deltas.some((d) => d > 0)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'run-compare.png'), fullPage: true });
  });

  it('opens a stored run in the Results step, renames one and deletes one', async () => {
    const maxRow = page.locator('table.runs tbody tr').nth(1);
    await maxRow.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByTestId('settings-used').textContent(), { timeout: 30_000 }).toContain("max over the phrase's tokens");
    await page.getByRole('button', { name: 'Run history' }).click();
    await page.locator('table.runs tbody tr').nth(1).getByRole('button', { name: 'Rename' }).click();
    const input = page.locator('table.runs tbody tr').nth(1).locator('input[aria-label^="new name"]');
    await input.fill('max over tokens');
    await input.press('Enter');
    await expect.poll(() => page.locator('table.runs .run-name').allTextContents()).toContain('max over tokens');
    await page.locator('table.runs tbody tr').first().getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('table.runs .run-name').allTextContents()).toEqual(['max over tokens']);
    await page.getByRole('button', { name: 'Run history' }).click();
  });

  it('an evaluation is a stored run: listed with its kind, refused for comparison with why, opened read-only from the store, deleted; a project naming it reopens without results and says so', async () => {
    const data = join(tmp.dir, 'mc');
    const items: Record<string, [string, string[], number][]> = {
      en: [['The sun rises in the', ['east', 'west'], 0], ['Two plus two is', ['five', 'four'], 1], ['A cat says', ['woof', 'meow'], 1]],
      hi: [['सूरज उगता है', ['पूर्व में', 'पश्चिम में'], 0], ['दो और दो होते हैं', ['पाँच', 'चार'], 1]],
    };
    for (const [lang, rows] of Object.entries(items)) {
      mkdirSync(join(data, 'data', lang), { recursive: true });
      writeFileSync(join(data, 'data', lang, 'test.jsonl'), rows.map(([context, choices, gold]) => JSON.stringify({ context, choices, gold })).join('\n') + '\n');
    }
    const api = await session!.harness.backendApi();
    const result = await api.eval.run({ model: join(DEMO, 'model'), data, task: 'mc', languages: ['en', 'hi'] });
    // A project naming it as the run its Results step shows (a hand-edited state) reopens without
    // results and says why.
    const [{ id: evalRunId }] = await api.runs.list({ kind: 'evaluation' });
    const demo = stored('LinguaScope demo')!;
    const analysisRunId = demo.state.runId;
    const db = new Database(dbPath);
    db.prepare('UPDATE projects SET state_json = ? WHERE id = ?').run(JSON.stringify({ ...demo.state, runId: evalRunId }), demo.id);
    db.close();
    await page.reload();
    await expect.poll(() => page.getByTestId('project-notice').textContent().catch(() => ''), { timeout: 30_000 }).toMatch(new RegExp(`not an analysis \\(run ${evalRunId} is a stored evaluation\\)`));
    await expect.poll(() => stored('LinguaScope demo')?.state.runId, { timeout: 10_000 }).toBeNull();
    await page.getByRole('button', { name: 'Run history' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(2);
    const row = page.locator('table.runs tbody tr').first();
    expect(await row.getAttribute('data-kind')).toBe('evaluation');
    expect(await page.locator('table.runs tbody tr td.run-kind').allTextContents()).toEqual(['evaluation', 'analysis']);
    expect(await row.locator('td.run-digest').textContent()).toMatch(/^lm-eval-okapi, mc; mean acc \d+\.\d %$/);
    // Only analyses compare: its box is disabled and says why.
    const box = row.locator('input[type=checkbox]');
    expect(await box.isDisabled()).toBe(true);
    expect(await box.getAttribute('title')).toBe('only analyses can be compared (this is an evaluation)');
    expect(await row.getByTestId('compare-refusal').textContent()).toContain('analyses only');
    // Opened from the store: the Evaluate step's results, cell by cell equal to what eval.run returned.
    await row.getByRole('button', { name: 'Open' }).click();
    const view = page.getByTestId('run-view');
    await view.waitFor({ timeout: 30_000 });
    expect(await view.getAttribute('data-kind')).toBe('evaluation');
    const pct = (v: number) => (100 * v).toFixed(2);
    for (const r of result.results) {
      const cells = await view.locator(`table.eval-table tr[data-task="${r.task}"][data-language="${r.language}"] td`).allTextContents();
      expect(cells).toEqual([String(r.n), `${pct(r.before.acc)} ± ${pct(r.before.acc_stderr)}`, `${pct(r.before.acc_norm)} ± ${pct(r.before.acc_norm_stderr)}`]);
    }
    expect(await view.getByTestId('eval-preset-note').textContent()).toBe(result.presetNote);
    expect(await view.getByRole('button', { name: 'Evaluate', exact: true }).count()).toBe(0);
    // The list with an evaluation row (its disabled box and reason) and the opened view: no serious axe violation.
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
    await page.screenshot({ path: join(ARTIFACTS, 'run-evaluation.png'), fullPage: true });
    // Deleting it closes the view and leaves the analysis, which opens in Results again (the project
    // names it once more).
    await row.getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr td.run-kind').allTextContents()).toEqual(['analysis']);
    expect(await page.getByTestId('run-view').count()).toBe(0);
    await page.locator('table.runs tbody tr').first().getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByTestId('settings-used').textContent(), { timeout: 30_000 }).toContain("max over the phrase's tokens");
    await expect.poll(() => stored('LinguaScope demo')?.state.runId, { timeout: 10_000 }).toBe(analysisRunId);
  }, 120_000);

  it('creates, renames and duplicates projects; each reopens with its own choices', async () => {
    await page.getByRole('button', { name: 'Projects' }).click();
    await page.getByLabel('new project name').fill('Second');
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Second');
    expect(await currentStep(page)).toBe('1. Languages');
    await step(page, '6. Run').click();
    expect(await page.getByTestId('run-model').textContent()).toMatch(/none chosen/);
    await expect.poll(() => stored('Second')?.state.step).toBe('run');
    await page.getByRole('button', { name: 'Projects' }).click();
    const row = page.locator('table.projects tbody tr', { hasText: 'Second' });
    await row.getByRole('button', { name: 'Rename' }).click();
    const name = page.getByLabel('new name for Second');
    await name.fill('Second study');
    await name.press('Enter');
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('Second study');
    await page.locator('table.projects tbody tr', { hasText: 'LinguaScope demo' }).getByRole('button', { name: 'Duplicate' }).click();
    await expect.poll(() => page.locator('table.projects tbody tr').count()).toBe(3);
    await page.locator('table.projects tbody tr', { hasText: 'LinguaScope demo (copy)' }).getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByTestId('project-name').textContent()).toBe('LinguaScope demo (copy)');
    await expect.poll(() => currentStep(page)).toBe('7. Results');
    await page.getByRole('button', { name: 'Projects' }).click();
    await page.locator('table.projects tbody tr', { hasText: 'Second study' }).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('table.projects tbody tr').count()).toBe(2);
    expect(stored('Second study')).toBeNull();
    await page.getByRole('button', { name: 'Projects' }).click();
  });

  it('two windows on one project: the later stale save is refused, that window is told and shows the other\'s state', async () => {
    const other = await page.context().newPage();
    other.on('dialog', (d) => void d.accept());
    await other.goto(session!.harness.url);
    await expect.poll(() => other.getByTestId('project-name').textContent(), { timeout: 30_000 }).toBe('LinguaScope demo (copy)');
    const before = stored('LinguaScope demo (copy)')!.revision;
    await step(other, '3. Model').click();
    await expect.poll(() => stored('LinguaScope demo (copy)')?.state.step).toBe('model');
    // The first window still holds the older revision.
    await step(page, '5. SAEs').click();
    await page.getByTestId('project-notice').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('project-notice').textContent()).toMatch(/changed in another window/);
    await expect.poll(() => currentStep(page)).toBe('3. Model');
    expect(stored('LinguaScope demo (copy)')!.revision).toBe(before + 1);
    await other.close();
  });

  it('lists a damaged project row with why, and opens the others', async () => {
    const db = new Database(dbPath);
    const demoId = stored('LinguaScope demo')!.id;
    db.prepare('UPDATE projects SET state_json = ? WHERE id = ?').run('{"step": "model", broken', demoId);
    db.close();
    await page.getByRole('button', { name: 'Projects' }).click();
    const row = page.locator(`table.projects tr[data-project="${demoId}"]`);
    await expect.poll(() => row.locator('[data-code=PROJECT_CORRUPT]').textContent()).toMatch(/not valid JSON/);
    expect(await row.getByRole('button', { name: 'Open' }).isDisabled()).toBe(true);
    await row.getByRole('button', { name: 'Delete' }).click();
    // The demo project comes back, fresh, with the list.
    await expect.poll(() => page.locator('table.projects tbody tr', { hasText: 'LinguaScope demo' }).count()).toBe(2);
    await page.getByRole('button', { name: 'Projects' }).click();
  });

  it('says when the model folder moved and relocates the project to its new place', async () => {
    const moved = join(tmp.dir, 'my-model');
    cpSync(join(DEMO, 'model'), moved, { recursive: true });
    await step(page, '3. Model').click();
    await page.getByLabel('model path').fill(moved);
    await page.getByLabel('model path').press('Enter');
    await expect.poll(() => page.getByTestId('model-info').textContent(), { timeout: 30_000 }).toContain(moved);
    await expect.poll(() => stored('LinguaScope demo (copy)')?.state.modelPath).toBe(moved);
    renameSync(moved, `${moved}-v2`);
    await page.reload();
    const alert = page.getByTestId('moved-model');
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.getAttribute('data-path')).toBe(moved);
    expect(await alert.textContent()).toMatch(/is not there any more/);
    await page.getByLabel('relocate model').fill(join(tmp.dir, 'nowhere'));
    await alert.getByRole('button', { name: 'Relocate' }).click();
    await expect.poll(() => alert.locator('[data-code=WEIGHTS_NOT_FOUND]').count()).toBe(1);
    await page.getByLabel('relocate model').fill(`${moved}-v2`);
    await alert.getByRole('button', { name: 'Relocate' }).click();
    await expect.poll(() => page.getByTestId('moved-model').count(), { timeout: 30_000 }).toBe(0);
    expect(stored('LinguaScope demo (copy)')?.state.modelPath).toBe(`${moved}-v2`);
    await step(page, '6. Run').click();
    await expect.poll(() => page.getByTestId('run-model').textContent(), { timeout: 30_000 }).toContain(`${moved}-v2`);
  });

  it('reopens a project whose stored run was deleted without it (and says so); a damaged last project falls back to the demo', async () => {
    const copy = stored('LinguaScope demo (copy)')!;
    expect(copy.state.runId).not.toBeNull();
    await page.getByRole('button', { name: 'Run history' }).click();
    await page.locator(`table.runs tr[data-run="${copy.state.runId}"]`).getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByTestId('project-notice').textContent(), { timeout: 30_000 }).toMatch(/no longer stored.*run \d+ does not exist/);
    await expect.poll(() => stored('LinguaScope demo (copy)')?.state.runId).toBeNull();

    const db = new Database(dbPath);
    db.prepare('UPDATE projects SET state_json = ? WHERE id = ?').run(JSON.stringify({ ...copy.state, runSettings: 'broken' }), copy.id);
    db.close();
    await page.reload();
    await expect.poll(() => page.getByTestId('project-name').textContent(), { timeout: 30_000 }).toBe('LinguaScope demo');
    expect(await page.locator('.project-bar [role=alert]').getAttribute('data-code')).toBe('PROJECT_CORRUPT');
    expect(await page.locator('.project-bar [role=alert]').textContent()).toMatch(/"LinguaScope demo \(copy\)" .* is damaged \(runSettings/);
  });

  it('a fine-tune and a sweep are stored runs: labelled, not comparable, opened read-only as a figures table and the sweep comparison', async () => {
    const api = await session!.harness.backendApi();
    const common = {
      model: join(DEMO, 'model'),
      saes: join(DEMO, 'saes'),
      languages: ['en', 'hi'],
      corpus: writePairsCorpus(tmp.dir),
      settings: { steps: 2, data: { batchPairs: 4, heldOut: 0.3 }, lora: { rank: 4, alpha: 8 }, monitor: { evalEvery: 2, checkpointEvery: 2 } },
    };
    const ft = await api.finetune.run({ ...common, outDir: join(tmp.dir, 'ft') });
    const sweep = await api.sweep.run({ ...common, alphas: [1], adaptLayerSets: [[0, 1]], spaces: ['sae-codes'], outDir: join(tmp.dir, 'sweep') });
    await page.getByRole('button', { name: 'Run history' }).click();
    const row = (kind: string) => page.locator(`table.runs tbody tr[data-kind=${kind}]`);
    await expect.poll(() => row('sweep').count(), { timeout: 30_000 }).toBe(1);
    expect(await row('finetune').count()).toBe(1);
    expect(await row('finetune').locator('td.run-kind').textContent()).toBe('fine-tune');
    expect(await row('sweep').locator('.run-name').textContent()).toBe('sweep of 1 point, sweep');
    expect(await row('finetune').locator('td.run-digest').textContent()).toMatch(new RegExp(`^${ft.outcome}, 2/2 steps; mean gain `));
    expect(await row('sweep').locator('td.run-digest').textContent()).toBe(`1 point (1 trained now) in ${join(tmp.dir, 'sweep')}`);
    for (const kind of ['finetune', 'sweep']) expect(await row(kind).locator('input[type=checkbox]').isDisabled()).toBe(true);
    await row('finetune').getByRole('button', { name: 'Open' }).click();
    const view = page.getByTestId('run-view');
    await expect.poll(() => view.getAttribute('data-kind'), { timeout: 30_000 }).toBe('finetune');
    const gain = ft.report.gain_percent.hi;
    expect(await view.locator('table.run-figures tbody tr', { hasText: 'activation gain hi %' }).locator('td').allTextContents()).toEqual([
      gain.value === null ? '—' : gain.value.toFixed(2),
      gain.ci ? `[${gain.ci[0].toFixed(2)}, ${gain.ci[1].toFixed(2)}]` : 'none',
    ]);
    expect(await view.getByTestId('finetune-run-summary').textContent()).toContain(ft.adapterDir);
    await row('sweep').getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => view.getAttribute('data-kind'), { timeout: 30_000 }).toBe('sweep');
    expect(await view.locator('[data-testid=sweep-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-point')))).toEqual(sweep.points.map((p) => p.name));
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
    await page.screenshot({ path: join(ARTIFACTS, 'run-sweep.png'), fullPage: true });
    await view.getByRole('button', { name: 'Close' }).click();
    expect(await page.getByTestId('run-view').count()).toBe(0);
    await page.getByRole('button', { name: 'Run history' }).click();
  }, 240_000);

  it('raised no console error or page error', () => {
    expect([...problems, ...(session?.problems ?? [])]).toEqual([]);
  });
});

// The main job as a user meets it afterwards: `linguascope demo` (the built CLI, a fresh SQLite
// file), then `linguascope serve` on the same file in real Chromium. The app opens on the demo
// project; the run history lists the study's measurement, its fine-tune with the two held-out
// analyses and its evaluation, each named as the demo study's and listed as runs.list lists them;
// the fine-tune opens with the gain and retention of study.json's fine-tune report and the
// evaluation with study.json's accuracies; the project's Results, Fine-tune and Evaluate steps show
// the same study; the Run step starts an analysis on the demo (cancelled at once); the evaluation
// deleted from the history, the Evaluate step says so. No demo figure is pinned: the bundled demo is
// rebuilt from time to time. Needs `npx electron-vite build`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunListItem, RunRecord } from '../../src/shared/dto';
import type { EvalScores, EvalTaskResult } from '../../src/shared/eval';
import type { Interval } from '../../src/shared/finetune';
import type { StudyResult } from '../../src/shared/study';
import { seriousAxeViolations } from '../helpers/axe';
import { launchChromium } from '../helpers/browser';
import { runCli } from '../helpers/cli';
import { RawClient, startHarnessProcess, type HarnessProcess } from '../helpers/harness-process';
import { tempDir } from '../helpers/temp';
import { wizardStep } from '../helpers/wizard-page';

const tmp = tempDir('linguascope-demo-study-app-');
const DB = join(tmp.dir, 'app.db');
const OUT = join(tmp.dir, 'report');

// The page's formats, written out here from their definitions (percent with two decimals for
// accuracies, two decimals for gain and retention, four for the cosine).
const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : 'n/a');
const withStderr = (s: EvalScores, m: 'acc' | 'acc_norm') => `${pct(s[m])} ± ${pct(s[`${m}_stderr`])}`;
const fixed = (v: number | null, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const interval = (c: Interval, digits = 2) => (c ? `[${c[0].toFixed(digits)}, ${c[1].toFixed(digits)}]` : 'none');

describe('the demo study in the app (CLI demo, then serve on the same database)', () => {
  let study: StudyResult;
  let serve: HarnessProcess;
  let client: RawClient;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];

  const call = async <T,>(method: string, arg: unknown): Promise<T> => {
    const answer = await client.call(method, arg, 60_000);
    if (!answer.ok) throw new Error(`${method}: ${answer.error.code} ${answer.error.message}`);
    return answer.value as T;
  };
  const openRun = async (id: number) => {
    await page.locator(`table.runs tbody tr[data-run="${id}"]`).getByRole('button', { name: 'Open' }).click();
  };

  beforeAll(async () => {
    const run = runCli(DB, ['demo', '--out', OUT], 600_000);
    if (run.code !== 0) throw new Error(`linguascope demo exited ${run.code}: ${run.stderr.join('\n')}`);
    study = JSON.parse(readFileSync(join(OUT, 'study.json'), 'utf8')) as StudyResult;
    serve = await startHarnessProcess(DB);
    client = await RawClient.open(`ws://127.0.0.1:${serve.port}/api?token=${serve.token}`, serve.origin);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    await page.goto(serve.url);
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 60_000 });
  }, 900_000);

  afterAll(async () => {
    client?.close();
    await browser?.close();
    await serve?.stop();
    tmp.cleanup();
  });

  it('opens on the demo project', async () => {
    expect(await page.getByTestId('project-name').textContent()).toBe('LinguaScope demo');
  });

  it("lists the study's runs as runs.list does, each named as the demo study's: the measurement, the fine-tune and its two held-out analyses, the evaluation", async () => {
    const runs = await call<RunListItem[]>('runs.list', {});
    expect(runs.map((r) => r.kind).sort()).toEqual(['analysis', 'analysis', 'analysis', 'evaluation', 'finetune']);
    for (const r of runs) expect(r.name).toMatch(/^demo study[:,] /);
    const analyses = runs.filter((r) => r.kind === 'analysis');
    expect(analyses.filter((r) => r.outDir === study.analysis.outDir)).toHaveLength(1);
    expect(analyses.map((r) => r.name.replace(/:.*/, '')).sort()).toEqual(['demo study', 'demo study, held-out segments after the fine-tune', 'demo study, held-out segments before the fine-tune']);
    // The analysis with the adapter says so in its name.
    expect(analyses.find((r) => r.name.includes('after the fine-tune'))!.name).toMatch(/^[^:]+: model \+ adapter, /);
    expect(runs.find((r) => r.kind === 'finetune')!.outDir).toBe(study.finetune.outDir);
    expect(runs.find((r) => r.kind === 'evaluation')!.outDir).toBe(study.evaluation.outDir);

    await page.getByRole('button', { name: 'Run history' }).click();
    await expect.poll(() => page.locator('table.runs tbody tr').count(), { timeout: 30_000 }).toBe(runs.length);
    expect(await page.locator('table.runs tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-run'))))).toEqual(runs.map((r) => r.id));
    expect(await page.locator('table.runs tbody tr .run-name').allTextContents()).toEqual(runs.map((r) => r.name));
    expect(await page.locator('table.runs tbody tr td.run-kind').allTextContents()).toEqual(runs.map((r) => (r.kind === 'finetune' ? 'fine-tune' : r.kind)));
  });

  it("opens the fine-tune with study.json's held-out gain and retention", async () => {
    const [ft] = await call<RunListItem[]>('runs.list', { kind: 'finetune' });
    const stored = await call<RunRecord>('runs.get', { id: ft.id });
    expect(stored.kind === 'finetune' && stored.result.report).toEqual(study.finetune.report);
    await openRun(ft.id);
    const view = page.locator(`[data-testid=run-view][data-run="${ft.id}"]`);
    await view.waitFor({ timeout: 30_000 });
    const report = study.finetune.report;
    const expected = [
      ...Object.entries(report.gain_percent).map(([language, g]) => [`activation gain ${language} %`, fixed(g.value), interval(g.ci)]),
      ['English retention %', fixed(report.retention_percent.value), interval(report.retention_percent.ci)],
      ['English retention cosine', fixed(report.retention_cosine.value, 4), interval(report.retention_cosine.ci, 4)],
    ];
    expect(Object.keys(report.gain_percent).sort()).toEqual([...study.targets].sort());
    const rows = await view.locator('table.run-figures tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => c.textContent)));
    expect(rows).toEqual(expected);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
  });

  /** The evaluation tables under `root`, cell by cell, against study.json's results. */
  const expectEvalTables = async (root: ReturnType<Page['locator']>) => {
    const results: EvalTaskResult[] = study.evaluation.results;
    expect(results.length).toBe(study.languages.length);
    for (const r of results) {
      const cells = await root.locator(`table.eval-table tr[data-task="${r.task}"][data-language="${r.language}"] td`).allTextContents();
      expect(cells.slice(0, 3), `${r.task}/${r.language}`).toEqual([String(r.n), withStderr(r.before, 'acc'), withStderr(r.before, 'acc_norm')]);
      expect(cells[3], `${r.task}/${r.language} after`).toBe(withStderr(r.after!, 'acc'));
      expect(cells[5], `${r.task}/${r.language} acc_norm after`).toBe(withStderr(r.after!, 'acc_norm'));
    }
  };

  it("opens the evaluation with study.json's accuracies, before and after the adapter", async () => {
    const [ev] = await call<RunListItem[]>('runs.list', { kind: 'evaluation' });
    await openRun(ev.id);
    const view = page.locator(`[data-testid=run-view][data-run="${ev.id}"]`);
    await view.waitFor({ timeout: 30_000 });
    expect(await view.getAttribute('data-kind')).toBe('evaluation');
    await expectEvalTables(view);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
  });

  it("the project's steps show the same study: Results its measurement, Fine-tune its run, Evaluate its evaluation", async () => {
    await page.getByRole('button', { name: 'Run history' }).click();
    await wizardStep(page, '7. Results').click();
    const overview = page.getByTestId('results-overview');
    await expect.poll(() => overview.textContent().catch(() => ''), { timeout: 30_000 }).toContain(`${study.languages.length} languages, ${study.analysis.summary.segments} aligned segments`);
    const summary = study.analysis.summary;
    for (const [i, layer] of summary.layers.entries()) {
      const g = summary.gap_percent[i];
      expect(await page.locator(`table.gap[data-testid=gap-table] tr[data-layer="${layer}"] [data-testid=gap-value]`).textContent()).toBe(g === null ? 'n/a' : `${g.toFixed(1)} %`);
    }

    await wizardStep(page, '8. Fine-tune').click();
    await expect.poll(() => page.getByTestId('folder-state').textContent(), { timeout: 30_000 }).toMatch(/^This folder holds a fine-tune run \(\d+ steps logged\)/);
    expect(await page.getByRole('textbox', { name: 'run folder', exact: true }).inputValue()).toBe(study.finetune.outDir);
    const gainRows = page.locator('[data-testid=finetune-results] [data-testid=gain-table] tr[data-gain]');
    await expect.poll(() => gainRows.count(), { timeout: 30_000 }).toBe(study.targets.length);
    for (const [language, g] of Object.entries(study.finetune.report.gain_percent)) {
      expect(await page.locator(`[data-testid=finetune-results] tr[data-gain="${language}"] td`).first().textContent()).toBe(g.value === null ? 'n/a' : g.value.toFixed(2));
    }
    expect(await page.getByRole('button', { name: 'Start fine-tune' }).isDisabled()).toBe(true);

    await wizardStep(page, '9. Evaluate').click();
    const results = page.locator('[data-testid=evaluate-step] [data-testid=eval-results]');
    await results.waitFor({ timeout: 30_000 });
    await expectEvalTables(results);
    expect(await page.getByTestId('finetune-adapter').textContent()).toBe(study.finetune.adapterDir);
    expect(await page.getByRole('button', { name: 'Evaluate', exact: true }).isEnabled()).toBe(true);
    expect(JSON.stringify(await seriousAxeViolations(page), null, 1)).toBe('[]');
  });

  it('the Run step starts an analysis on the demo (cancelled once it reports progress)', async () => {
    await wizardStep(page, '6. Run').click();
    await expect.poll(() => page.getByTestId('run-model').textContent(), { timeout: 30_000 }).toContain(study.analysis.summary.model.path);
    await page.getByRole('button', { name: 'Run analysis' }).click();
    await expect.poll(() => page.getByTestId('progress-text').textContent().catch(() => ''), { timeout: 60_000 }).toMatch(/\d+\/\d+/);
    await page.getByRole('group', { name: 'analysis progress' }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('cancelled').waitFor({ timeout: 60_000 });
  }, 120_000);

  it('a stored evaluation deleted from the history: the Evaluate step says so and how to get it back', async () => {
    const [ev] = await call<RunListItem[]>('runs.list', { kind: 'evaluation' });
    await call('runs.delete', { id: ev.id });
    await page.reload();
    await page.locator('.project-bar[data-project]').waitFor({ timeout: 60_000 });
    await wizardStep(page, '9. Evaluate').click();
    await expect
      .poll(() => page.getByTestId('evaluate-note').textContent().catch(() => ''), { timeout: 30_000 })
      .toMatch(new RegExp(`^The project's last evaluation \\(run ${ev.id}\\) cannot be shown: run ${ev.id} does not exist.*Evaluate again`));
    expect(await page.locator('[data-testid=evaluate-step] [data-testid=eval-results]').count()).toBe(0);
  });

  it('raised no console error or page error', () => {
    expect(problems).toEqual([]);
  });
});

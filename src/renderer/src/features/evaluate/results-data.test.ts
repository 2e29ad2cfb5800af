// The Evaluate step's cells and chart rows: percent as the CLI prints them, languages in the
// project's order, a missing interval or an undefined stderr said as such (never a made-up 0).
import { describe, expect, it } from 'vitest';
import type { EvalResult, EvalTaskResult } from '../../../../shared/eval';
import { chartRows, differenceText, languagesOf, percent, tableRows, tasksOf, withStderr } from './results-data';

const scores = (acc: number, accSe: number, norm: number, normSe: number) => ({ acc, acc_stderr: accSe, acc_norm: norm, acc_norm_stderr: normSe });

function result(results: EvalTaskResult[], adapter: string | null = null): EvalResult {
  return { model: '/m', adapter, data: '/d', preset: 'lm-eval-okapi', fewshot: 0, fewshotPerTask: {}, presetNote: 'note', results, files: [], cache: { items: 0, cached: 0, scored: 0 }, seconds: 0, outDir: null };
}

describe('Evaluate results data', () => {
  it('formats fractions as percent with two decimals, and a non-number (JSON null for NaN) as n/a', () => {
    expect(percent(0.41666666)).toBe('41.67');
    expect(percent(1)).toBe('100.00');
    expect(percent(NaN)).toBe('n/a');
    expect(percent(null as unknown as number)).toBe('n/a');
    expect(withStderr(scores(0.5, 0.2236, 0.25, 0.1), 'acc')).toBe('50.00 ± 22.36');
    expect(withStderr(scores(0.5, 0.2236, 0.25, 0.1), 'acc_norm')).toBe('25.00 ± 10.00');
  });

  it('signs a positive difference, keeps a negative one, and says when there is no interval', () => {
    expect(differenceText({ difference: 0.2, ci: [0, 0.4] })).toBe('+20.00 [0.00, 40.00]');
    expect(differenceText({ difference: -0.2, ci: [-0.6, 0.2] })).toBe('-20.00 [-60.00, 20.00]');
    expect(differenceText({ difference: 0, ci: null })).toBe('0.00 (no interval)');
  });

  it("orders languages as the project does, then the result's others; tasks as listed", () => {
    const r = result([
      { task: 'mc', language: 'ta', n: 1, before: scores(1, NaN, 1, NaN) },
      { task: 'arc', language: 'hi', n: 1, before: scores(1, NaN, 1, NaN) },
      { task: 'mc', language: 'en', n: 1, before: scores(1, NaN, 1, NaN) },
    ]);
    expect(languagesOf(r, ['en', 'hi', 'ml'])).toEqual(['en', 'hi', 'ta']);
    expect(tasksOf(r)).toEqual(['mc', 'arc']);
  });

  it('makes one row per language of a task, with the after columns only when adapted', () => {
    const base = result([
      { task: 'mc', language: 'hi', n: 5, before: scores(0.4, 0.2449, 0.6, 0.2449) },
      { task: 'mc', language: 'en', n: 4, before: scores(0.25, 0.25, 0.5, 0.2887) },
    ]);
    expect(tableRows(base, 'mc', ['en', 'hi'])).toEqual([
      { language: 'en', n: 4, acc: '25.00 ± 25.00', acc_norm: '50.00 ± 28.87' },
      { language: 'hi', n: 5, acc: '40.00 ± 24.49', acc_norm: '60.00 ± 24.49' },
    ]);
    const adapted = result(
      [{ task: 'mc', language: 'hi', n: 5, before: scores(0.4, 0.2449, 0.6, 0.2449), after: scores(0.6, 0.2449, 0.6, 0.2449), difference: { acc: { difference: 0.2, ci: [0, 0.6] }, acc_norm: { difference: 0, ci: null } } }],
      '/a',
    );
    expect(tableRows(adapted, 'mc', ['hi'])[0].after).toEqual({ acc: '60.00 ± 24.49', acc_norm: '60.00 ± 24.49', diff_acc: '+20.00 [0.00, 60.00]', diff_acc_norm: '0.00 (no interval)' });
  });

  it('charts the chosen measure in percent with stderr as the error bar, null where the stderr is undefined', () => {
    const r = result(
      [
        { task: 'mc', language: 'hi', n: 1, before: scores(1, NaN, 0, NaN), after: scores(0, NaN, 1, NaN), difference: { acc: { difference: -1, ci: null }, acc_norm: { difference: 1, ci: null } } },
        { task: 'mc', language: 'en', n: 4, before: scores(0.25, 0.25, 0.5, 0.2887), after: scores(0.5, 0.2887, 0.5, 0.2887), difference: { acc: { difference: 0.25, ci: [0, 0.75] }, acc_norm: { difference: 0, ci: [0, 0] } } },
      ],
      '/a',
    );
    const rows = chartRows(r, 'mc', 'acc_norm', ['en', 'hi']);
    expect(rows.map((x) => x.language)).toEqual(['en', 'hi']);
    expect(rows[0]).toEqual({ language: 'en', n: 4, before: 50, before_stderr: expect.closeTo(28.87, 6), after: 50, after_stderr: expect.closeTo(28.87, 6) });
    expect(rows[1]).toEqual({ language: 'hi', n: 1, before: 0, before_stderr: null, after: 100, after_stderr: null });
    const plain = chartRows(result([{ task: 'mc', language: 'en', n: 4, before: scores(0.25, 0.25, 0.5, 0.2887) }]), 'mc', 'acc', ['en']);
    expect(plain).toEqual([{ language: 'en', n: 4, before: 25, before_stderr: 25, after: null, after_stderr: null }]);
  });
});

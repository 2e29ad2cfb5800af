// What the Evaluate step shows of an EvalResult: the table's cells (percent, as the CLI prints
// them) and the grouped bar chart's rows. Plain functions over the backend's result: no figure is
// recomputed here, only scaled to percent and arranged.
import type { EvalResult, EvalScores, EvalTask, EvalTaskResult } from '../../../../shared/eval';

export type Metric = 'acc' | 'acc_norm';
type Difference = NonNullable<EvalTaskResult['difference']>['acc'];

/** A fraction as a percent with two decimals (the CLI's format); "n/a" when not a number. */
export const percent = (v: number): string => (Number.isFinite(v) ? (100 * v).toFixed(2) : 'n/a');

/** "41.67 ± 14.86": the mean and its standard error (sample std / √n), in percent. */
export const withStderr = (scores: EvalScores, metric: Metric): string => `${percent(scores[metric])} ± ${percent(scores[`${metric}_stderr`])}`;

/** "+16.67 [0.00, 33.33]": after − before with its 95 % paired bootstrap interval (none when the
 * bootstrap was off or had too few items). */
export function differenceText(d: Difference): string {
  const sign = Number.isFinite(d.difference) && d.difference > 0 ? '+' : '';
  return `${sign}${percent(d.difference)}${d.ci ? ` [${percent(d.ci[0])}, ${percent(d.ci[1])}]` : ' (no interval)'}`;
}

/** The tasks of a result in the order the backend listed them. */
export function tasksOf(result: EvalResult): EvalTask[] {
  return [...new Set(result.results.map((r) => r.task))];
}

/** The result's languages, the project's order first (so a language keeps its colour across the
 * steps), then the others in the result's order. */
export function languagesOf(result: EvalResult, projectOrder: readonly string[]): string[] {
  const present = [...new Set(result.results.map((r) => r.language))];
  return [...projectOrder.filter((c) => present.includes(c)), ...present.filter((c) => !projectOrder.includes(c))];
}

export interface TableRow {
  language: string;
  n: number;
  acc: string;
  acc_norm: string;
  /** With an adapter. */
  after?: { acc: string; acc_norm: string; diff_acc: string; diff_acc_norm: string };
}

/** One task's rows, by language in `order`. */
export function tableRows(result: EvalResult, task: EvalTask, order: readonly string[]): TableRow[] {
  const rows = result.results.filter((r) => r.task === task);
  return order.flatMap((language) => {
    const r = rows.find((x) => x.language === language);
    if (!r) return [];
    const row: TableRow = { language, n: r.n, acc: withStderr(r.before, 'acc'), acc_norm: withStderr(r.before, 'acc_norm') };
    if (r.after && r.difference) {
      row.after = {
        acc: withStderr(r.after, 'acc'),
        acc_norm: withStderr(r.after, 'acc_norm'),
        diff_acc: differenceText(r.difference.acc),
        diff_acc_norm: differenceText(r.difference.acc_norm),
      };
    }
    return [row];
  });
}

/** A bar chart row (percent): the metric before and after, their standard errors (the error bars),
 * and n. `after` fields are null without an adapter. */
export interface ChartRow {
  language: string;
  n: number;
  before: number;
  /** null where the harness's stderr is undefined (a single item): no bar is drawn, none invented. */
  before_stderr: number | null;
  after: number | null;
  after_stderr: number | null;
}

export const CHART_COLUMNS = ['language', 'n', 'before', 'before_stderr', 'after', 'after_stderr'] as const;

export function chartRows(result: EvalResult, task: EvalTask, metric: Metric, order: readonly string[]): ChartRow[] {
  const rows = result.results.filter((r) => r.task === task);
  const pct = (v: number) => 100 * v;
  const err = (v: number) => (Number.isFinite(v) ? 100 * v : null);
  return order.flatMap((language) => {
    const r = rows.find((x) => x.language === language);
    if (!r) return [];
    return [
      {
        language,
        n: r.n,
        before: pct(r.before[metric]),
        before_stderr: err(r.before[`${metric}_stderr`]),
        after: r.after ? pct(r.after[metric]) : null,
        after_stderr: r.after ? err(r.after[`${metric}_stderr`]) : null,
      },
    ];
  });
}

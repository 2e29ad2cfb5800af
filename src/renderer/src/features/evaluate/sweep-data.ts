// What the sweep panel shows of a SweepResult: one table row per grid point (held-out activation
// gain per target and their mean, English retention, the paired accuracy change per task and
// language, each with its interval) and the chart rows. Every figure is the backend's; here they are
// only formatted (two decimals, as sweep.csv and the CLI) and accuracy fractions scaled to points.
import type { SweepPointResult, SweepResult } from '../../../../shared/eval';
import { layerText } from './sweep-request';

type Interval = [number, number] | null;

/** "12.34 [3.00, 20.50]"; "n/a" for a figure the backend could not give. */
export function figure(v: number | null | undefined, ci: Interval = null, scale = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  const f = (x: number) => (scale * x).toFixed(2);
  return `${f(v)}${ci ? ` [${f(ci[0])}, ${f(ci[1])}]` : ''}`;
}

/** The target languages over the points, in the order first met. */
export const targetsOf = (r: SweepResult) => [...new Set(r.points.flatMap((p) => Object.keys(p.gain_percent)))];

/** The task/language pairs with an acc figure, in the order first met. */
export const accuracyKeysOf = (r: SweepResult) => [...new Set(r.points.flatMap((p) => p.accuracy.filter((a) => a.metric === 'acc').map((a) => `${a.task}/${a.language}`)))];

export interface SweepRow {
  /** "#1", as the charts label the point. */
  label: string;
  name: string;
  alpha: number;
  layers: string;
  space: string;
  status: string;
  outcome: string;
  steps: number;
  /** Per target language, then their mean (the backend's mean_gain_percent). */
  gains: string[];
  meanGain: string;
  retention: string;
  /** Δ acc in percentage points per accuracy key, with its 95 % paired interval. */
  accuracy: string[];
}

export function sweepRows(r: SweepResult): SweepRow[] {
  const targets = targetsOf(r);
  const keys = accuracyKeysOf(r);
  return r.points.map((p, i) => ({
    label: `#${i + 1}`,
    name: p.name,
    alpha: p.alpha,
    layers: layerText(p.adaptLayers),
    space: p.space,
    status: p.status,
    outcome: p.outcome,
    steps: p.steps,
    gains: targets.map((t) => figure(p.gain_percent[t]?.value, p.gain_percent[t]?.ci)),
    meanGain: figure(p.mean_gain_percent),
    retention: figure(p.retention_percent.value, p.retention_percent.ci),
    accuracy: keys.map((k) => {
      const a = p.accuracy.find((x) => x.metric === 'acc' && `${x.task}/${x.language}` === k);
      return a ? `${a.difference > 0 ? '+' : ''}${figure(a.difference, a.ci, 100)}` : 'n/a';
    }),
  }));
}

/** A point of the gain-against-retention chart (and its CSV row). */
export interface GainRetentionRow {
  point: string;
  name: string;
  alpha: number;
  english_retention_percent: number;
  mean_gain_percent: number;
}
export const GAIN_RETENTION_COLUMNS = ['point', 'name', 'alpha', 'english_retention_percent', 'mean_gain_percent'] as const;

/** Points with both figures (a point whose report lacks one is not drawn; the table says n/a). */
export function gainRetentionRows(r: SweepResult): GainRetentionRow[] {
  return r.points.flatMap((p, i) =>
    p.retention_percent.value === null || p.mean_gain_percent === null
      ? []
      : [{ point: `#${i + 1}`, name: p.name, alpha: p.alpha, english_retention_percent: p.retention_percent.value, mean_gain_percent: p.mean_gain_percent }],
  );
}

/** A point of the gain-against-accuracy chart: one per grid point, task and target language with
 * an acc figure and a gain. */
export interface GainAccuracyRow {
  point: string;
  name: string;
  task: string;
  language: string;
  activation_gain_percent: number;
  accuracy_change_pp: number;
}
export const GAIN_ACCURACY_COLUMNS = ['point', 'name', 'task', 'language', 'activation_gain_percent', 'accuracy_change_pp'] as const;

export function gainAccuracyRows(r: SweepResult): GainAccuracyRow[] {
  return r.points.flatMap((p: SweepPointResult, i) =>
    p.accuracy.flatMap((a) => {
      const gain = p.gain_percent[a.language]?.value;
      return a.metric === 'acc' && gain !== null && gain !== undefined ? [{ point: `#${i + 1}`, name: p.name, task: a.task, language: a.language, activation_gain_percent: gain, accuracy_change_pp: 100 * a.difference }] : [];
    }),
  );
}

// A sweep's comparison (beside sweep.json): sweep.csv (long format, one row per point and
// quantity), gain-retention.svg (mean held-out activation gain against English retention, one
// labelled point per grid point), accuracy.svg (activation gain against the paired accuracy change
// per language, with its interval) and sweep.html holding the table and both charts.
import { toCsv } from '../../shared/csv';
import type { SweepPointResult, SweepResult } from '../../shared/eval';
import { languageStyles } from '../../shared/palette';
import { reportHtml } from './report-html';
import { scatterSvg } from './scatter-svg';

/** "0-4", "2", "0-2,5": consecutive layers as ranges. */
export const layerText = (layers: readonly number[]) => {
  const parts: string[] = [];
  for (let i = 0; i < layers.length; ) {
    let j = i;
    while (j + 1 < layers.length && layers[j + 1] === layers[j] + 1) j++;
    parts.push(j > i ? `${layers[i]}-${layers[j]}` : String(layers[i]));
    i = j + 1;
  }
  return parts.join(',');
};

/** "#2 α 1 · 0-4 · sae-codes": what a chart's point label and the table's first column say. */
export const pointLabel = (p: SweepPointResult, i: number) => `#${i + 1} α ${p.alpha} · ${layerText(p.adaptLayers)} · ${p.space}`;

interface CsvRow {
  point: string;
  alpha: number;
  adapt_layers: string;
  loss_layers: string;
  space: string;
  outcome: string;
  steps: number;
  quantity: string;
  task: string;
  language: string;
  value: number | null;
  ci_low: number | null;
  ci_high: number | null;
}

function csvRows(points: readonly SweepPointResult[]): CsvRow[] {
  return points.flatMap((p) => {
    const head = { point: p.name, alpha: p.alpha, adapt_layers: layerText(p.adaptLayers), loss_layers: layerText(p.resolvedLossLayers), space: p.space, outcome: p.outcome, steps: p.steps };
    const row = (quantity: string, language: string, value: number | null, ci: [number, number] | null = null, task = ''): CsvRow => ({ ...head, quantity, task, language, value, ci_low: ci?.[0] ?? null, ci_high: ci?.[1] ?? null });
    return [
      ...Object.entries(p.gain_percent).map(([lang, g]) => row('activation_gain_percent', lang, g.value, g.ci)),
      row('activation_gain_percent', 'mean', p.mean_gain_percent),
      row('english_retention_percent', 'en', p.retention_percent.value, p.retention_percent.ci),
      row('english_retention_cosine', 'en', p.retention_cosine),
      ...p.accuracy.flatMap((a) => [
        row(`${a.metric}_before`, a.language, a.before, null, a.task),
        row(`${a.metric}_after`, a.language, a.after, null, a.task),
        row(`${a.metric}_change`, a.language, a.difference, a.ci, a.task),
      ]),
    ];
  });
}

const fmt = (v: number | null, digits = 2) => (v === null || !Number.isFinite(v) ? null : v.toFixed(digits));
const withCi = (v: number | null, ci: [number, number] | null, scale = 1, digits = 2) =>
  v === null ? null : `${(scale * v).toFixed(digits)}${ci ? ` [${(scale * ci[0]).toFixed(digits)}, ${(scale * ci[1]).toFixed(digits)}]` : ''}`;

export function sweepComparisonFiles(sweep: Pick<SweepResult, 'outDir' | 'points' | 'base' | 'evalData'>): { name: string; content: string }[] {
  const { points } = sweep;
  const targets = [...new Set(points.flatMap((p) => Object.keys(p.gain_percent)))];
  const styles = languageStyles(targets.map((code) => ({ code, tier: 'medium-low' as const })));
  const labelled = points.map((p, i) => ({ p, label: pointLabel(p, i) }));
  const gainRetention = scatterSvg(
    labelled
      .filter(({ p }) => p.retention_percent.value !== null && p.mean_gain_percent !== null)
      .map(({ p, label }, i) => ({ id: p.name, label, x: p.retention_percent.value!, y: p.mean_gain_percent!, xCi: p.retention_percent.ci, color: ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'][i % 7] })),
    {
      title: 'Activation gain against English retention, per grid point',
      desc: `Held-out segments of each point's own split. Gain: mean over ${targets.join(', ')} of 100·(after − before)/before; retention: 100·after_en/before_en with its 95 % bootstrap interval.`,
      xLabel: 'English retention %',
      yLabel: 'mean activation gain %',
      referenceX: { value: 100, label: '100 % retained' },
      referenceY: { value: 0, label: 'no gain' },
      width: 760,
    },
  );
  const files = [
    { name: 'sweep.csv', content: toCsv(csvRows(points), ['point', 'alpha', 'adapt_layers', 'loss_layers', 'space', 'outcome', 'steps', 'quantity', 'task', 'language', 'value', 'ci_low', 'ci_high']) },
    { name: 'gain-retention.svg', content: gainRetention },
  ];
  // Activation gain against accuracy change: one point per grid point and target language found in
  // the evaluation (acc), the paired difference's interval as a vertical whisker.
  const accPoints = labelled.flatMap(({ p }, i) =>
    p.accuracy
      .filter((a) => a.metric === 'acc' && p.gain_percent[a.language]?.value != null)
      .map((a) => ({ id: `${p.name}/${a.task}/${a.language}`, label: `#${i + 1} ${a.language}`, group: a.language, x: p.gain_percent[a.language].value!, y: 100 * a.difference, yCi: a.ci ? ([100 * a.ci[0], 100 * a.ci[1]] as [number, number]) : null, color: styles.get(a.language)!.color, textColor: styles.get(a.language)!.textColor })),
  );
  const accuracySvg = accPoints.length
    ? scatterSvg(accPoints, {
        title: 'Activation gain against accuracy change (acc, after − before)',
        desc: 'One point per grid point and target language; the whisker is the 95 % paired bootstrap interval over items.',
        xLabel: 'activation gain %',
        yLabel: 'accuracy change (percentage points)',
        referenceY: { value: 0, label: 'no change' },
        legend: [{ heading: 'language', items: [...new Set(accPoints.map((a) => a.group))].map((l) => ({ label: l, color: styles.get(l)!.color, textColor: styles.get(l)!.textColor, kind: 'swatch' as const })) }],
        width: 760,
      })
    : null;
  if (accuracySvg) files.push({ name: 'accuracy.svg', content: accuracySvg });

  const accKeys = [...new Set(points.flatMap((p) => p.accuracy.filter((a) => a.metric === 'acc').map((a) => `${a.task}/${a.language}`)))];
  const table = {
    columns: ['point', 'outcome', 'steps', 'loss layers', ...targets.map((t) => `gain ${t} % [CI]`), 'mean gain %', 'English retention % [CI]', 'cosine', ...accKeys.map((k) => `Δ acc ${k} (pp) [CI]`)],
    rows: labelled.map(({ p, label }) => [
      label,
      p.outcome,
      p.steps,
      layerText(p.resolvedLossLayers),
      ...targets.map((t) => withCi(p.gain_percent[t]?.value ?? null, p.gain_percent[t]?.ci ?? null)),
      fmt(p.mean_gain_percent),
      withCi(p.retention_percent.value, p.retention_percent.ci),
      fmt(p.retention_cosine, 4),
      ...accKeys.map((k) => {
        const a = p.accuracy.find((x) => x.metric === 'acc' && `${x.task}/${x.language}` === k);
        return a ? withCi(a.difference, a.ci, 100) : null;
      }),
    ]),
    textColumns: [0, 1, 3],
  };
  const html = reportHtml(
    'LinguaScope sweep',
    { folder: sweep.outDir, points: String(points.length), 'evaluation data': sweep.evalData ?? 'none', 'shared settings': JSON.stringify(sweep.base) },
    [
      { heading: 'Grid points', paragraphs: ['Gain and retention are measured on each point\'s held-out segments (its run folder\'s report); accuracy changes are paired differences (adapted − base) with 95 % bootstrap intervals over items.'], table },
      { heading: 'Activation gain against English retention', svg: gainRetention },
      ...(accuracySvg ? [{ heading: 'Activation gain against accuracy change', svg: accuracySvg }] : []),
    ],
  );
  files.push({ name: 'sweep.html', content: html });
  return files;
}

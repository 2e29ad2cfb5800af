// The study's one report (study.run): the gap, the fine-tune's gain and English retention, the
// accuracy before/after and the gap–accuracy correlation, each figure with its formula and its
// interval, and plain findings that say which targets were met and which were not. Every figure
// here is read from the stages' own results; nothing is recomputed.
import { toCsv } from '../../shared/csv';
import type { CorrelationResult, EvalTaskResult } from '../../shared/eval';
import { languageStyles } from '../../shared/palette';
import type { StudyResult } from '../../shared/study';
import { activationChartSvg } from '../train/finetune-report';
import { barChartSvg } from './bar-chart-svg';
import { gapPercentChartSvg, type ReportFile } from './disparity-report';
import { reportHtml, type ReportSection } from './report-html';

/** Retention the issue asks the demo's fine-tune to keep (English activation after / before). */
export const RETENTION_TARGET = 90;

const FIGURE_COLUMNS = ['figure', 'language', 'layer', 'value', 'ci_low', 'ci_high', 'stderr', 'n'] as const;
type FigureRow = Record<(typeof FIGURE_COLUMNS)[number], string | number | null>;

const fmt = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(digits));
const signed = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`);
const ci = (c: readonly [number, number] | null | undefined, digits = 1) => (c ? `[${c[0].toFixed(digits)}, ${c[1].toFixed(digits)}]` : 'n/a');

function mcResults(r: StudyResult): EvalTaskResult[] {
  return r.evaluation.results.filter((x) => x.task === 'mc');
}

/** The strongest layer of a correlation by |r| (ties: the earlier layer). */
function strongest(c: CorrelationResult) {
  let best: CorrelationResult['per_layer'][number] | null = null;
  for (const l of c.per_layer) if (l.pearson.value !== null && (best === null || Math.abs(l.pearson.value) > Math.abs(best.pearson.value!))) best = l;
  return best;
}

/** What the figures show, in sentences; a target not met is said, never hidden. */
export function studyFindings(r: StudyResult): string[] {
  const s = r.analysis.summary;
  const out: string[] = [];
  const gaps = s.gap_percent.map((g, i) => ({ layer: s.layers[i], g, ci: s.gap_percent_ci[i] })).filter((x): x is { layer: number; g: number; ci: [number, number] | null } => x.g !== null);
  if (gaps.length === 0) out.push(`No gap could be computed: ${s.gap_reason ?? 'no layer has one'}.`);
  else {
    const positive = gaps.filter((x) => x.g > 0).length;
    const sure = gaps.filter((x) => x.ci && x.ci[0] > 0).length;
    const lo = Math.min(...gaps.map((x) => x.g));
    const hi = Math.max(...gaps.map((x) => x.g));
    out.push(
      `Gap (reduction ${s.settings.reduction}): positive in ${positive} of ${gaps.length} layers (${fmt(lo)} % to ${fmt(hi)} %), its 95 % interval above 0 in ${sure}; ${positive * 2 > gaps.length ? 'the medium/low-resource languages activate the features less in most layers' : 'not positive in most layers'}.`,
    );
  }
  const rep = r.finetune.report;
  const gains = r.targets.map((t) => ({ t, g: rep.gain_percent[t] }));
  const notGained = gains.filter((x) => !(x.g && x.g.value !== null && x.g.value > 0)).map((x) => x.t);
  out.push(
    `Fine-tune (${r.finetune.steps} steps, ${r.finetune.outcome}): held-out activation gain ${gains.map((x) => `${x.t} ${signed(x.g?.value)} %`).join(', ')}; ` +
      (notGained.length === 0 ? 'every target language gained.' : `not every target gained (${notGained.join(', ')} did not).`),
  );
  const ret = rep.retention_percent.value;
  // Undefined (no English activation before, on the loss layers) is neither met nor missed.
  out.push(
    ret === null
      ? `English retention could not be computed (the English activation before the fine-tune sums to 0 on the loss layers; cosine ${fmt(rep.retention_cosine.value, 3)}): the ${RETENTION_TARGET} % target is not judged.`
      : `English retention ${fmt(ret)} % ${ci(rep.retention_percent.ci)} (cosine ${fmt(rep.retention_cosine.value, 3)}): ${ret >= RETENTION_TARGET ? `at least the ${RETENTION_TARGET} % aimed for` : `below the ${RETENTION_TARGET} % aimed for`}.`,
  );
  const mc = mcResults(r);
  if (mc.length) {
    const changed = mc.filter((x) => x.difference?.acc.ci && (x.difference.acc.ci[0] > 0 || x.difference.acc.ci[1] < 0));
    out.push(
      `Accuracy on the held-out continuation task (${r.task.items} items per language, ${r.task.choices} choices, chance ${fmt(100 / r.task.choices)} %): ` +
        mc.map((x) => `${x.language} ${fmt(100 * x.before.acc)} → ${fmt(100 * (x.after?.acc ?? Number.NaN))} %`).join(', ') +
        `; ${changed.length === 0 ? 'no change is outside its 95 % paired interval' : `a change outside its 95 % paired interval for ${changed.map((x) => x.language).join(', ')}`}.`,
    );
  }
  const best = strongest(r.correlation.base);
  if (best) {
    out.push(
      `Correlation of the deficit against English with the base model's accuracy: strongest at layer ${best.layer}, Pearson r ${fmt(best.pearson.value, 2)} ${ci(best.pearson.ci, 2)}, Spearman ρ ${fmt(best.spearman.value, 2)} ${ci(best.spearman.ci, 2)}, over ${best.n} languages — a small n, read the intervals.`,
    );
  } else out.push(`No correlation could be computed: ${r.correlation.base.per_layer[0]?.pearson.reason ?? 'no layer pairs a measure with an accuracy'}.`);
  return out;
}

function accuracyChartSvg(r: StudyResult): string {
  const mc = mcResults(r);
  const styles = languageStyles(r.analysis.summary.languages);
  const bars = mc.flatMap((x) => [
    { label: `${x.language} before`, value: 100 * x.before.acc, color: `${styles.get(x.language)?.color ?? '#6b7280'}80` },
    { label: `${x.language} after`, value: 100 * (x.after?.acc ?? 0), color: styles.get(x.language)?.color ?? '#6b7280' },
  ]);
  return barChartSvg(bars, { title: 'Accuracy before and after the fine-tune', yLabel: 'accuracy (%)', width: Math.max(760, 40 * bars.length + 120), referenceLine: { value: 100 / r.task.choices, label: 'chance' } });
}

function figureRows(r: StudyResult): FigureRow[] {
  const s = r.analysis.summary;
  const rows: FigureRow[] = [];
  const row = (figure: string, language: string | null, layer: number | string | null, value: number | null, c: readonly [number, number] | null = null, stderr: number | null = null, n: number | null = null) =>
    rows.push({ figure, language, layer, value, ci_low: c?.[0] ?? null, ci_high: c?.[1] ?? null, stderr, n });
  s.layers.forEach((layer, i) => row('gap_percent', null, layer, s.gap_percent[i], s.gap_percent_ci[i], null, s.segments));
  for (const l of s.languages) s.layers.forEach((layer, i) => row('mean_activation', l.code, layer, s.mean_activation[l.code][i], s.mean_activation_ci[l.code]?.[i] ?? null, null, s.segments));
  const rep = r.finetune.report;
  for (const t of r.targets) row('activation_gain_percent', t, 'loss layers', rep.gain_percent[t]?.value ?? null, rep.gain_percent[t]?.ci ?? null, null, rep.segments);
  row('english_retention_percent', 'en', 'loss layers', rep.retention_percent.value, rep.retention_percent.ci, null, rep.segments);
  row('english_retention_cosine', 'en', 'loss layers', rep.retention_cosine.value, rep.retention_cosine.ci, null, rep.segments);
  for (const x of mcResults(r)) {
    row('accuracy_before', x.language, null, x.before.acc, null, x.before.acc_stderr, x.n);
    if (x.after) row('accuracy_after', x.language, null, x.after.acc, null, x.after.acc_stderr, x.n);
    if (x.difference) row('accuracy_difference', x.language, null, x.difference.acc.difference, x.difference.acc.ci, null, x.n);
  }
  for (const [which, c] of Object.entries(r.correlation)) {
    for (const l of c.per_layer) {
      row(`pearson_${which}`, null, l.layer, l.pearson.value, l.pearson.ci, null, l.n);
      row(`spearman_${which}`, null, l.layer, l.spearman.value, l.spearman.ci, null, l.n);
    }
  }
  return rows;
}

export function studyReportHtml(r: StudyResult, charts: { gap: string; activation: string; accuracy: string }): string {
  const s = r.analysis.summary;
  const rep = r.finetune.report;
  const mc = mcResults(r);
  const sections: ReportSection[] = [
    { heading: 'Findings', paragraphs: r.findings },
    {
      heading: `1. The gap (${s.segments} aligned segments, reduction ${s.settings.reduction})`,
      svg: charts.gap,
      table: {
        columns: ['layer', 'gap %', '95 % interval', ...s.languages.map((l) => `m(${l.code})`)],
        rows: s.layers.map((layer, i) => [layer, s.gap_percent[i], ci(s.gap_percent_ci[i], 2), ...s.languages.map((l) => s.mean_activation[l.code][i])]),
      },
      // figures.csv's mean-activation intervals, so the report holds every figure it lists.
      tables: [{ columns: ['language', ...s.layers.map((l) => `m, layer ${l}: 95 % interval`)], rows: s.languages.map((l) => [l.code, ...s.layers.map((_, i) => ci(s.mean_activation_ci[l.code]?.[i] ?? null, 2))]) }],
      ...(s.gap_reason ? { warnings: [s.gap_reason] } : {}),
      definitions: s.formulas,
      paragraphs: [`The full analysis report: ${r.analysis.outDir}/report.html`],
    },
    {
      heading: `2. The fine-tune and the re-measurement (${rep.segments} held-out segments)`,
      svg: charts.activation,
      table: {
        columns: ['language', 'activation gain %', '95 % interval'],
        rows: r.targets.map((t) => [t, fmt(rep.gain_percent[t]?.value), ci(rep.gain_percent[t]?.ci)]),
        caption: `loss layers ${rep.layers.join(', ')}; ${rep.bootstrap} bootstrap resamples over held-out segments`,
      },
      tables: [
        {
          columns: ['English retention', 'value', '95 % interval'],
          rows: [
            ['activation, 100 · after / before (%)', fmt(rep.retention_percent.value), ci(rep.retention_percent.ci)],
            ['cosine of English activation vectors', fmt(rep.retention_cosine.value, 4), ci(rep.retention_cosine.ci, 4)],
          ],
        },
      ],
      definitions: { loss: r.finetune.config.formula, ...rep.formulas },
      paragraphs: [`${r.finetune.outcome}: ${r.finetune.reason}. ${r.finetune.steps} of ${r.finetune.stepsPlanned} steps.`, ...r.finetune.config.notes, `The fine-tune's own report: ${r.finetune.reportDir}/report.html`],
    },
    {
      heading: `3. Accuracy before and after (a continuation task cut from the ${r.task.segments.length} held-out segments)`,
      paragraphs: [r.task.rule, `${r.task.items} items per language, the same segments, distractors and gold positions in every language; ${r.task.choices} choices.`],
      svg: charts.accuracy,
      table: {
        columns: ['language', 'n', 'acc before', '± stderr', 'acc after', '± stderr', 'after − before', '95 % paired interval'],
        rows: mc.map((x) => [x.language, x.n, x.before.acc, x.before.acc_stderr, x.after?.acc ?? null, x.after?.acc_stderr ?? null, x.difference?.acc.difference ?? null, ci(x.difference?.acc.ci ?? null, 3)]),
      },
      definitions: {
        acc: "share of items whose highest log-likelihood choice is the gold one (lm-evaluation-harness's acc)",
        stderr: 'sample standard deviation of the 0/1 outcomes / √n',
        'paired interval': 'percentile bootstrap over items of mean(after − before)',
      },
    },
    {
      heading: '4. The deficit against English and the accuracy, across languages',
      table: {
        columns: ['layer', 'n', 'Pearson r (base)', '95 % interval', 'Spearman ρ (base)', '95 % interval', 'Pearson r (adapted)', '95 % interval', 'Spearman ρ (adapted)', '95 % interval'],
        rows: r.correlation.base.per_layer.map((l, i) => {
          const a = r.correlation.adapted.per_layer[i];
          return [l.layer, l.n, l.pearson.value, ci(l.pearson.ci, 2), l.spearman.value, ci(l.spearman.ci, 2), a?.pearson.value ?? null, ci(a?.pearson.ci, 2), a?.spearman.value ?? null, ci(a?.spearman.ci, 2)];
        }),
      },
      warnings: r.correlation.base.warnings,
      definitions: r.correlation.base.formulas,
    },
    {
      heading: 'Stages',
      table: { columns: ['stage', 'seconds'], rows: [...r.stages.map((x) => [x.stage, x.seconds]), ['all', r.seconds]] },
    },
  ];
  return reportHtml('LinguaScope — the study: measure, fine-tune, re-measure, evaluate', { folder: r.outDir, model: s.model.path, languages: r.languages.join(', '), targets: r.targets.join(', ') }, sections);
}

/** report.html, study.json (the whole result), figures.csv (every figure, long form) and the charts. */
export function studyReportFiles(r: StudyResult): ReportFile[] {
  const charts = { gap: gapPercentChartSvg(r.analysis.summary), activation: activationChartSvg(r.finetune), accuracy: accuracyChartSvg(r) };
  return [
    { name: 'charts/gap.svg', content: charts.gap },
    { name: 'charts/activation.svg', content: charts.activation },
    { name: 'charts/accuracy.svg', content: charts.accuracy },
    { name: 'figures.csv', content: toCsv(figureRows(r), [...FIGURE_COLUMNS]) },
    { name: 'study.json', content: `${JSON.stringify({ ...r, files: undefined }, null, 2)}\n` },
    // Last: a study folder with its report is a finished one.
    { name: 'report.html', content: studyReportHtml(r, charts) },
  ];
}

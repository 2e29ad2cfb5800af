// The fine-tune's report folder (report/ in the run folder): result.json (everything, including
// both held-out analyses), report.html (self-contained: configuration and formula, curves over
// the whole run, gain and retention with intervals, gap and mean activation per layer before and
// after), CSVs of the step log and of the before/after figures, and the charts as SVG and PNG.
import { toCsv } from '../../shared/csv';
import type { FinetuneResult, LogRecord, StepRecord, EvalRecord } from '../../shared/finetune';
import { languageStyles } from '../../shared/palette';
import { svgToPng } from '../io/png';
import { lineChartSvg, type LineSeries } from '../analysis/line-chart-svg';
import { reportHtml, type ReportSection } from '../analysis/report-html';
import type { ReportFile } from '../analysis/disparity-report';

const STEP_COLUMNS = ['step', 'loss', 'term1', 'term2', 'lr', 'grad_norm', 'tokens', 'elapsed_s', 'tokens_per_s', 'rss_mib'] as const;
const GAIN_COLUMNS = ['language', 'layer', 'before', 'after', 'gain_percent', 'ci_low', 'ci_high'] as const;

const steps = (log: readonly LogRecord[]) => log.filter((r): r is StepRecord => r.kind === 'step');
const evals = (log: readonly LogRecord[]) => log.filter((r): r is EvalRecord => r.kind === 'eval');

/** The loss curves over every logged step (never a window of the last N). */
export function lossChartSvg(log: readonly LogRecord[]): string {
  const s = steps(log);
  const e = evals(log);
  const x = s.map((r) => r.step);
  const at = new Map(e.map((r) => [r.step, r.heldout_loss]));
  const series: LineSeries[] = [
    { id: 'loss', label: 'loss', name: 'total loss (training batch)', color: '#0072B2', values: s.map((r) => r.loss), emphasis: true },
    { id: 'term1', label: '|u−v|', name: 'alignment term Σ|u − v|', color: '#E69F00', values: s.map((r) => r.term1) },
    { id: 'term2', label: '‖u−u₀‖²', name: 'retention term Σ(u − u_orig)² (before α)', color: '#009E73', values: s.map((r) => r.term2), dash: '4 3' },
    { id: 'heldout', label: 'held-out', name: 'held-out alignment loss', color: '#CC79A7', values: x.map((step) => at.get(step) ?? null) },
  ];
  return lineChartSvg(series, { title: 'Fine-tune loss', desc: 'Loss per step over the whole run, its two terms, and the held-out loss at each evaluation', xLabel: 'step', yLabel: 'loss', x, includeZero: true });
}

function gainRows(result: FinetuneResult) {
  const r = result.report;
  const rows: Record<(typeof GAIN_COLUMNS)[number], string | number | null>[] = [];
  for (const lang of ['en', ...Object.keys(r.gain_percent)]) {
    r.layers.forEach((layer, l) => {
      const gain = lang === 'en' ? r.retention_percent.per_layer[l] : r.gain_percent[lang].per_layer[l];
      rows.push({ language: lang, layer, before: r.mean_activation.before[lang][l], after: r.mean_activation.after[lang][l], gain_percent: lang === 'en' && gain !== null ? gain - 100 : gain, ci_low: null, ci_high: null });
    });
    const all = lang === 'en' ? { value: r.retention_percent.value === null ? null : r.retention_percent.value - 100, ci: r.retention_percent.ci?.map((v) => v - 100) ?? null } : r.gain_percent[lang];
    rows.push({ language: lang, layer: 'all', before: null, after: null, gain_percent: all.value, ci_low: all.ci?.[0] ?? null, ci_high: all.ci?.[1] ?? null });
  }
  return rows;
}

export function activationChartSvg(result: FinetuneResult): string {
  const r = result.report;
  const langs = ['en', ...Object.keys(r.gain_percent)];
  const tiers = result.analysis.before.languages;
  const styles = languageStyles(langs.map((code) => ({ code, tier: tiers.find((t) => t.code === code)?.tier ?? 'high' })));
  const series: LineSeries[] = langs.flatMap((lang) => [
    { id: `${lang}-before`, label: `${lang} before`, color: styles.get(lang)!.color, values: r.mean_activation.before[lang], dash: '4 3' },
    { id: `${lang}-after`, label: `${lang} after`, color: styles.get(lang)!.color, values: r.mean_activation.after[lang], emphasis: lang === 'en' },
  ]);
  return lineChartSvg(series, { title: 'Held-out activation before and after', desc: 'Mean SAE activation per loss layer on the held-out segments, dashed before the fine-tune, solid after', xLabel: 'layer', yLabel: 'mean activation', x: r.layers, includeZero: true });
}

const fmt = (v: number | null, digits = 2) => (v === null ? 'n/a' : v.toFixed(digits));
const ci = (c: [number, number] | null, digits = 2) => (c ? `[${c[0].toFixed(digits)}, ${c[1].toFixed(digits)}]` : '');

export function finetuneReportHtml(result: FinetuneResult, log: readonly LogRecord[], charts: { loss: string; activation: string }): string {
  const r = result.report;
  const c = result.config;
  const s = c.settings;
  const sections: ReportSection[] = [
    {
      heading: 'Outcome',
      paragraphs: [`${result.outcome}: ${result.reason}. ${result.steps} of ${result.stepsPlanned} steps in ${result.seconds.toFixed(1)} s.`, ...c.notes],
      table: {
        columns: ['language', 'activation gain % (held-out)', '95 % interval'],
        rows: Object.entries(r.gain_percent).map(([lang, g]) => [lang, fmt(g.value), ci(g.ci)]),
        caption: `${r.segments} held-out segments, loss layers ${r.layers.join(', ')}, ${r.bootstrap} bootstrap resamples`,
      },
      tables: [
        {
          columns: ['English retention', 'value', '95 % interval'],
          rows: [
            ['activation (100 · after / before) %', fmt(r.retention_percent.value), ci(r.retention_percent.ci)],
            ['cosine of English activation vectors', fmt(r.retention_cosine.value, 4), ci(r.retention_cosine.ci, 4)],
          ],
        },
      ],
      definitions: r.formulas,
    },
    { heading: 'Loss over the run', svg: charts.loss, paragraphs: [`The loss: ${c.formula}`] },
    {
      heading: 'Activation per layer before and after (held-out)',
      svg: charts.activation,
      table: {
        columns: ['layer', 'gap % before', 'gap % after', ...Object.keys(r.mean_activation.before).flatMap((l) => [`${l} before`, `${l} after`])],
        rows: r.layers.map((layer, i) => [layer, r.gap_percent.before[i], r.gap_percent.after[i], ...Object.keys(r.mean_activation.before).flatMap((l) => [r.mean_activation.before[l][i], r.mean_activation.after[l][i]])]),
      },
      ...(r.gap_percent.reason ? { warnings: [r.gap_percent.reason] } : {}),
    },
    {
      heading: 'Disparity analysis of the held-out segments (the analysis pipeline, all SAE layers)',
      table: {
        columns: ['layer', 'gap % without adapter', 'gap % with adapter'],
        rows: result.analysis.before.layers.map((layer, i) => [layer, result.analysis.before.gap_percent[i], result.analysis.after.gap_percent[i]]),
      },
      paragraphs: [result.analysis.before.gap_reason ?? '', `reduction: ${result.analysis.before.settings.reduction}; features: ${result.analysis.before.settings.features}`].filter(Boolean),
    },
    {
      heading: 'Configuration',
      table: {
        columns: ['setting', 'value'],
        textColumns: [1],
        rows: [
          ['model', c.model],
          ['SAEs', c.saes.join(', ')],
          ['languages', c.languages.join(', ')],
          ['adapted layers', c.adaptLayers.join(', ')],
          ['loss layers', c.lossLayers.join(', ')],
          ['LoRA', `rank ${s.lora.rank}, alpha ${s.lora.alpha}${s.lora.rslora ? ' (rsLoRA)' : ''}, scale ${c.scale}, modules ${s.lora.modules.join(' ')} (${c.modules} linears)`],
          ['loss', `space ${s.loss.space}, reduction ${s.loss.reduction}, direction ${s.loss.direction}, normalisation ${s.loss.normalisation}, features ${s.loss.features}, α ${s.loss.alpha}`],
          ['optimiser', `AdamW lr ${s.optim.lr}, betas (${s.optim.beta1}, ${s.optim.beta2}), eps ${s.optim.eps}, weight decay ${s.optim.weightDecay}, clip ${s.optim.clipNorm}, warmup ${s.optim.warmup}, cosine to ${s.optim.minLrRatio}·lr`],
          ['data', `${c.split.trainPairs} training pairs (of ${c.split.availablePairs}) on ${c.split.trainSegments.length} segments, ${c.split.heldOutPairs} held-out pairs on ${c.split.heldOutSegments.length} segments, batches of ${s.data.batchPairs} pairs, seed ${s.data.seed}`],
          ['steps logged', String(log.filter((x) => x.kind === 'step').length)],
        ],
      },
    },
  ];
  return reportHtml('LinguaScope — activation-aware LoRA fine-tune', { 'run folder': result.outDir, adapter: result.adapterDir, model: c.model }, sections);
}

export function finetuneReportFiles(result: FinetuneResult, log: readonly LogRecord[]): ReportFile[] {
  const charts = { loss: lossChartSvg(log), activation: activationChartSvg(result) };
  return [
    { name: 'result.json', content: `${JSON.stringify(result, null, 2)}\n` },
    { name: 'report.html', content: finetuneReportHtml(result, log, charts) },
    { name: 'steps.csv', content: toCsv(steps(log), [...STEP_COLUMNS]) },
    { name: 'gain.csv', content: toCsv(gainRows(result), [...GAIN_COLUMNS]) },
    { name: 'loss.svg', content: charts.loss },
    { name: 'loss.png', content: svgToPng(charts.loss) },
    { name: 'activation.svg', content: charts.activation },
    { name: 'activation.png', content: svgToPng(charts.activation) },
  ];
}

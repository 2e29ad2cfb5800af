// The files of a disparity analysis export, made from its summary alone (pure: the backend writes
// them): summary.json, CSVs, SVG+PNG charts and a self-contained report.html that prints every
// formula beside the figure it defines.
import type { DisparitySummary, Tier } from '../../shared/dto';
import { toCsv } from '../../shared/csv';
import { findings } from '../../shared/findings';
import { FIDELITY_COLUMNS, fidelityRows, PER_FEATURE_COLUMNS, perFeatureRows } from '../../shared/summary-rows';
import { languageStyles as paletteStyles, type LanguageStyle } from '../../shared/palette';
import { TIER_COLORS, TIER_LABELS } from '../../shared/tiers';
import { svgToPng } from '../io/png';
import { heatmapSvg } from './heatmap-svg';
import { lineChartSvg, type LegendGroup, type LineSeries } from './line-chart-svg';
import { reportHtml, type ReportSection } from './report-html';

export interface ReportFile {
  name: string;
  content: string | Buffer;
}

export const MEAN_ACTIVATION_COLUMNS = ['language', 'tier', 'layer', 'mean_activation', 'ci_low', 'ci_high', 'deficit_vs_en'] as const;
export const GAP_PERCENT_COLUMNS = ['layer', 'gap_percent', 'ci_low', 'ci_high'] as const;
export const TOP_FEATURE_COLUMNS = ['layer', 'feature', 'en', 'medium_low', 'difference', 'top_segments'] as const;

export { FIDELITY_COLUMNS, fidelityRows };

type Row<C extends readonly string[]> = Record<C[number], string | number | null>;

/** Which formulas define which figure; any formula not named here is printed in a last section. */
const FIGURE_FORMULAS = {
  mean: ['phrase_feature_activation', 'phrase_activation', 'mean_activation', 'confidence_interval'],
  gap: ['tier_mean', 'gap_percent', 'confidence_interval'],
  deficit: ['mean_activation', 'deficit_vs_en'],
  fidelity: ['explained_variance', 'nmse', 'l0', 'cosine', 'fidelity_warning'],
  top: ['phrase_feature_activation', 'top_features'],
  perFeature: ['per_feature_activation', 'per_feature_mean', 'per_feature_deficit', 'per_feature_gap'],
} as const;

const TIER_ORDER: readonly Tier[] = ['reference', 'high', 'medium-low'];

type Lang = DisparitySummary['languages'][number];
type LangStyle = LanguageStyle;

/** Languages in tier order (stable within a tier), each with its colour (the shared palette, by
 * the summary's language order, as on screen), tier dash and emphasis. */
function languageStyles(summary: DisparitySummary): { ordered: Lang[]; style: Map<string, LangStyle> } {
  const ordered = TIER_ORDER.flatMap((tier) => summary.languages.filter((l) => l.tier === tier));
  return { ordered, style: paletteStyles(summary.languages) };
}

function languageLegend(ordered: readonly Lang[], style: Map<string, LangStyle>): LegendGroup[] {
  return TIER_ORDER.filter((tier) => ordered.some((l) => l.tier === tier)).map((tier) => ({
    heading: TIER_LABELS[tier],
    items: ordered.filter((l) => l.tier === tier).map((l) => ({ label: `${l.code} ${l.name}`, ...style.get(l.code)! })),
  }));
}

type PerLayer<T> = (code: string) => readonly T[] | undefined;

function languageSeries(
  summary: DisparitySummary,
  values: PerLayer<number | null>,
  ci?: PerLayer<[number, number] | null>,
  flags?: PerLayer<string | null>,
): { series: LineSeries[]; legend: LegendGroup[] } {
  const { ordered, style } = languageStyles(summary);
  const series = ordered.map((l) => ({
    id: l.code,
    label: l.code,
    name: `${l.name} (${l.code}, ${TIER_LABELS[l.tier]})`,
    group: l.tier,
    values: values(l.code) ?? [],
    ci: ci?.(l.code),
    flags: flags?.(l.code),
    ...style.get(l.code)!,
  }));
  return { series, legend: languageLegend(ordered, style) };
}

const sig = (v: number) => String(Number(v.toPrecision(4)));
const pct = (v: number) => `${v.toFixed(1)} %`;

export function meanActivationChartSvg(summary: DisparitySummary): string {
  const { series, legend } = languageSeries(summary, (c) => summary.mean_activation[c], (c) => summary.mean_activation_ci[c]);
  return lineChartSvg(series, {
    title: `Mean SAE activation per layer (${summary.segments} aligned segments)`,
    desc: 'One line per language, coloured by tier; English, the reference, is the thick line. Shaded bands: 95 % bootstrap confidence intervals.',
    xLabel: 'layer',
    yLabel: 'mean activation m(L, l)',
    x: summary.layers,
    ci: 'band',
    includeZero: true,
    legend,
    format: sig,
  });
}

export function gapPercentChartSvg(summary: DisparitySummary): string {
  return lineChartSvg(
    [
      {
        id: 'gap',
        label: 'gap',
        name: 'high vs medium/low-resource gap',
        color: TIER_COLORS['medium-low'],
        values: summary.gap_percent,
        ci: summary.gap_percent_ci,
        emphasis: true,
      },
    ],
    {
      title: 'Activation gap between high- and medium/low-resource languages',
      desc: 'gap(l) = 100 (M_high - M_medium-low) / M_high per layer, with 95 % bootstrap confidence intervals as whiskers; above 0, medium/low-resource languages activate the features less.',
      xLabel: 'layer',
      yLabel: 'gap (%)',
      x: summary.layers,
      ci: 'whiskers',
      includeZero: true,
      referenceLine: { value: 0, label: 'no gap' },
      format: pct,
    },
  );
}

export function deficitHeatmapSvg(summary: DisparitySummary): string {
  const { ordered, style } = languageStyles(summary);
  return heatmapSvg({
    title: 'Activation deficit against English per language and layer',
    desc: 'deficit(L, l) = 100 (m(en, l) - m(L, l)) / m(en, l). Red: the language activates the features less than English; blue: more.',
    rows: ordered.map((l) => ({ id: l.code, label: l.code, name: `${l.name} (${l.code})`, group: l.tier, color: style.get(l.code)!.color })),
    columns: summary.layers.map((l) => ({ id: String(l), label: String(l) })),
    values: ordered.map((l) => summary.deficit_vs_en[l.code] ?? []),
    xLabel: 'layer',
    scaleLabel: 'deficit vs English (%)',
    negativeLabel: 'more activation than English',
    positiveLabel: 'less activation than English',
    cellTitle: (row, column, v) => `${row.name}, layer ${column.label}: ${v === null ? 'n/a' : `deficit ${pct(v)} vs English`}`,
    idPrefix: 'deficit-heatmap',
  });
}

function warningsByCell(summary: DisparitySummary): Map<string, string> {
  return new Map(summary.fidelity_warnings.map((w) => [`${w.language}@${w.layer}`, w.message]));
}

export function fidelityChartSvg(summary: DisparitySummary): string {
  const warnings = warningsByCell(summary);
  const { series, legend } = languageSeries(
    summary,
    (c) => summary.fidelity[c]?.explained_variance,
    undefined,
    (c) => summary.layers.map((l) => warnings.get(`${c}@${l}`) ?? null),
  );
  return lineChartSvg(series, {
    title: 'SAE fidelity: explained variance per layer and language',
    desc: 'Explained variance of each layer\'s SAE reconstruction on each language\'s tokens; ringed points raised a fidelity warning.',
    xLabel: 'layer',
    yLabel: 'explained variance',
    x: summary.layers,
    legend,
    format: sig,
  });
}

export function meanActivationRows(summary: DisparitySummary): Row<typeof MEAN_ACTIVATION_COLUMNS>[] {
  return summary.languages.flatMap((l) =>
    summary.layers.map((layer, i) => ({
      language: l.code,
      tier: l.tier,
      layer,
      mean_activation: summary.mean_activation[l.code]?.[i] ?? null,
      ci_low: summary.mean_activation_ci[l.code]?.[i]?.[0] ?? null,
      ci_high: summary.mean_activation_ci[l.code]?.[i]?.[1] ?? null,
      deficit_vs_en: summary.deficit_vs_en[l.code]?.[i] ?? null,
    })),
  );
}

export function gapPercentRows(summary: DisparitySummary): Row<typeof GAP_PERCENT_COLUMNS>[] {
  return summary.layers.map((layer, i) => ({
    layer,
    gap_percent: summary.gap_percent[i] ?? null,
    ci_low: summary.gap_percent_ci[i]?.[0] ?? null,
    ci_high: summary.gap_percent_ci[i]?.[1] ?? null,
  }));
}

export function topFeatureRows(summary: DisparitySummary): Row<typeof TOP_FEATURE_COLUMNS>[] {
  return summary.top_features.map((t) => ({
    layer: t.layer,
    feature: t.feature,
    en: t.en,
    medium_low: t.medium_low,
    difference: t.difference,
    top_segments: t.phrases.map((p) => p.segment).join(' '),
  }));
}


/** The per-feature section: one row per feature, a column per language (m_f(L)), and the gap. */
function perFeatureSection(summary: DisparitySummary, ordered: readonly Lang[], formulas: Record<string, string>): ReportSection {
  const list = summary.per_feature ?? [];
  const phrases = summary.per_feature_phrases!;
  return {
    heading: 'Each feature on its own phrases',
    paragraphs: [`${list.length} features of ${phrases.file} (${phrases.phrases} phrases), each measured only on the segments selected for it, at the SAE of the layer its Neuronpedia source names. Cells: m_f(L); per_feature.csv also holds each deficit against English.`],
    ...(phrases.warnings.length ? { warnings: phrases.warnings } : {}),
    table: {
      columns: ['layer', 'feature', 'source', 'segments', ...ordered.map((l) => l.code), 'gap (%)'],
      rows: list.map((f) => [f.layer, f.feature, f.source, f.segments, ...ordered.map((l) => (f.mean_activation[l.code] == null ? null : sig(f.mean_activation[l.code]!))), f.gap_percent === null ? null : f.gap_percent.toFixed(2)]),
      textColumns: [2],
    },
    definitions: formulas,
  };
}

/** Table cells of CSV rows: numbers formatted, except the layer and feature indices. */
const tableRows = <C extends readonly string[]>(rows: Row<C>[], columns: C, format: (v: number) => string = sig) =>
  rows.map((r) =>
    columns.map((c: C[number]) => {
      const v = r[c];
      return typeof v === 'number' && c !== 'layer' && c !== 'feature' ? format(v) : v;
    }),
  );

/** The report's first section: what was found, in sentences (the Results step's opening). */
export function findingsSection(summary: DisparitySummary): ReportSection {
  const f = findings(summary);
  const g = f.gap;
  const range = g && (g.min.layer === g.max.layer ? `${pct(g.max.value)} at layer ${g.max.layer}` : `from ${pct(g.min.value)} (layer ${g.min.layer}) to ${pct(g.max.value)} (layer ${g.max.layer})`);
  const paragraphs = [
    g
      ? `Gap between the tiers (high vs medium/low-resource): ${range} over ${g.defined === g.total ? `the ${g.total} layers` : `${g.defined} of the ${g.total} layers`}; its 95 % interval lies above 0 at ${g.ciAboveZero} of them.${f.gapReason ? ` ${f.gapReason}` : ''}`
      : `No gap: ${f.gapReason}`,
    f.affected.length
      ? `Most affected languages (mean deficit against English over the layers): ${f.affected.map((a) => `${a.name} (${a.code}, ${TIER_LABELS[a.tier]}) ${pct(a.meanDeficit)} below English, most at layer ${a.worst.layer} (${pct(a.worst.value)})`).join('; ')}.`
      : f.compared
        ? 'Most affected languages: no language activates the features less than English on average.'
        : 'Most affected languages: no other language has a defined deficit against English.',
    f.fidelity.count
      ? `${f.fidelity.count} fidelity ${f.fidelity.count === 1 ? 'warning' : 'warnings'} (${f.fidelity.languages.join(', ')}; ${f.fidelity.layers.length === 1 ? 'layer' : 'layers'} ${f.fidelity.layers.join(', ')}): read those activations with care (see SAE fidelity).`
      : 'No fidelity warning: every SAE reconstructs every language about as well as English.',
    `Why reduction = ${f.reduction.setting}: ${f.reduction.reason}.`,
  ];
  return { heading: 'What was found', paragraphs };
}

export function disparityReportHtml(summary: DisparitySummary, charts: { mean: string; gap: string; heatmap: string; fidelity: string }): string {
  const used = new Set<string>();
  const formulas = (keys: readonly string[]) => {
    const out: Record<string, string> = {};
    for (const k of keys) {
      if (k in summary.formulas) {
        out[k] = summary.formulas[k];
        used.add(k);
      }
    }
    return out;
  };
  const { ordered } = languageStyles(summary);
  const byCode = new Map(summary.languages.map((l) => [l.code, l]));
  const m = summary.model;
  const warnings = warningsByCell(summary);
  const fidelity = fidelityRows(summary);

  const sections: ReportSection[] = [
    findingsSection(summary),
    {
      heading: 'Sparse autoencoders',
      table: {
        columns: ['layer', 'hook', 'format', 'architecture', 'd_sae', 'average L0', 'source', 'fingerprint'],
        rows: summary.saes.map((s) => [s.layer, s.hook, s.format, s.architecture, s.dSae, s.averageL0, s.source, s.fingerprint]),
        textColumns: [1, 2, 3, 6, 7],
      },
    },
    {
      heading: 'Corpus and languages',
      paragraphs: [
        `${summary.corpus.source}: ${summary.corpus.segments} aligned segments; ${summary.segments} entered the analysis.`,
        ...(summary.corpus.skipped?.length
          ? [`Skipped (longer than the model's context in some language): ${summary.corpus.skipped.join(', ')}.`]
          : []),
        ...(summary.corpus.incomplete?.length
          ? [`Left out (no text in every chosen language): ${summary.corpus.incomplete.length} segments: ${summary.corpus.incomplete.slice(0, 50).join(', ')}${summary.corpus.incomplete.length > 50 ? ', …' : ''}.`]
          : []),
      ],
      table: {
        columns: ['language', 'name', 'tier', 'tokens'],
        rows: ordered.map((l) => [l.code, l.name, TIER_LABELS[l.tier], summary.corpus.tokens[l.code] ?? null]),
        textColumns: [1, 2],
      },
    },
    {
      heading: 'Settings',
      definitions: Object.fromEntries(Object.entries(summary.settings).map(([k, v]) => [k, String(v)])),
    },
    ...(summary.precision_gate ? [precisionGateSection(summary.precision_gate)] : []),
    {
      heading: 'Mean activation per layer',
      paragraphs: ['The same aligned text in every language: a line below English means the model\'s SAE features fire less on that language\'s version of the same content.'],
      svg: charts.mean,
      definitions: formulas(FIGURE_FORMULAS.mean),
    },
    {
      heading: 'Gap between high- and medium/low-resource languages',
      ...(summary.gap_reason ? { warnings: [summary.gap_reason] } : {}),
      svg: charts.gap,
      table: { columns: ['layer', 'gap (%)', 'CI low (%)', 'CI high (%)'], rows: tableRows(gapPercentRows(summary), GAP_PERCENT_COLUMNS, (v) => v.toFixed(2)) },
      definitions: formulas(FIGURE_FORMULAS.gap),
    },
    {
      heading: 'Deficit against English',
      paragraphs: ['Hover a cell for its value. Grey cells are undefined (no English-active feature, or English mean activation 0).'],
      svg: charts.heatmap,
      definitions: formulas(FIGURE_FORMULAS.deficit),
    },
    {
      heading: 'SAE fidelity per language',
      warnings: summary.fidelity_warnings.map((w) => w.message),
      paragraphs: summary.fidelity_warnings.length ? [] : ['No fidelity warning: every language is reconstructed about as well as English.'],
      svg: charts.fidelity,
      table: {
        columns: [...FIDELITY_COLUMNS],
        rows: tableRows(fidelity, FIDELITY_COLUMNS),
        highlightRows: fidelity.flatMap((r, i) => (warnings.has(`${r.language}@${r.layer}`) ? [i] : [])),
      },
      definitions: formulas(FIGURE_FORMULAS.fidelity),
    },
    {
      heading: 'Most disparate features',
      paragraphs: summary.top_features.length
        ? [
            'Features English activates most above the medium/low-resource languages, each with the segments where English activates it most and that segment\'s activation and text in every language.',
            'Every value here is exact (float32 as extracted, sums in float64), and so is the ranking: every feature active on some English phrase was compared.',
          ]
        : ['No feature was ranked (no medium/low-resource language, or top features set to 0).'],
      table: { columns: [...TOP_FEATURE_COLUMNS], rows: tableRows(topFeatureRows(summary), TOP_FEATURE_COLUMNS), textColumns: [5] },
      tables: summary.top_features.map((t) => ({
        caption: `Layer ${t.layer}, feature ${t.feature}: English ${sig(t.en)}, medium/low ${sig(t.medium_low)}, difference ${sig(t.difference)}`,
        columns: ['segment', 'language', 'tier', 'activation', 'text'],
        rows: t.phrases.flatMap((p) =>
          ordered
            .filter((l) => l.code in p.values || l.code in p.text)
            .map((l) => {
              const v = p.values[l.code];
              return [p.segment, l.code, TIER_LABELS[byCode.get(l.code)!.tier], v === undefined ? null : sig(v), p.text[l.code] ?? ''];
            }),
        ),
        textColumns: [1, 2, 4],
      })),
      definitions: formulas(FIGURE_FORMULAS.top),
    },
  ];
  if (summary.per_feature && summary.per_feature_phrases) sections.push(perFeatureSection(summary, ordered, formulas(FIGURE_FORMULAS.perFeature)));
  const rest = Object.keys(summary.formulas).filter((k) => !used.has(k));
  if (rest.length) sections.push({ heading: 'Other formulas', definitions: formulas(rest) });
  sections.push({
    heading: 'Activation cache',
    table: {
      columns: ['phrases computed', 'phrases from the cache', 'phrases run again for exact top-feature values', 'bytes per phrase', 'seconds'],
      rows: [[summary.cache.phrases_computed, summary.cache.phrases_cached, summary.cache.phrases_recomputed_for_top_features ?? 0, summary.cache.bytes_per_phrase, summary.cache.seconds]],
    },
  });

  return reportHtml(
    'LinguaScope — SAE activation disparity',
    {
      model: `${m.architecture} (${m.arch}), ${m.layers} layers, d_model ${m.dModel}, ${m.parameters} parameters, ${m.dtype}`,
      'model path': m.path,
      'model fingerprint': m.fingerprint,
      SAEs: `${summary.saes.length} (layers ${summary.saes.map((s) => s.layer).join(', ')})`,
      corpus: `${summary.corpus.source}, ${summary.segments} aligned segments`,
      languages: ordered.map((l) => `${l.code} (${TIER_LABELS[l.tier]})`).join(', '),
    },
    sections,
  );
}

/** A fast run's fidelity gate: what the sample measured against the thresholds it passed. */
function precisionGateSection(g: NonNullable<DisparitySummary['precision_gate']>): ReportSection {
  return {
    heading: 'Fast precision: fidelity gate',
    paragraphs: [
      `This run used int8 projections (precision fast). Before it, ${g.segments} segments (${g.phrases} phrases) ran in float32 and in fast; the run went on because every difference below stayed within its threshold.`,
    ],
    table: {
      columns: ['figure', 'measured', 'threshold', 'worst at'],
      rows: [
        ['mean activation, largest relative difference', g.max_mean_rel_diff, `≤ ${g.thresholds.max_mean_rel_diff}`, g.worst.mean ? `${g.worst.mean.language}, layer ${g.worst.mean.layer}` : ''],
        ['gap, largest difference (points)', g.max_gap_diff_points, `≤ ${g.thresholds.max_gap_diff_points}`, g.worst.gap ? `layer ${g.worst.gap.layer}` : ''],
        [`top-${g.top_k} features, smallest overlap (Jaccard)`, g.min_top_overlap, `≥ ${g.thresholds.min_top_overlap}`, g.worst.overlap ? `${g.worst.overlap.language}, layer ${g.worst.overlap.layer}` : ''],
      ],
      textColumns: [0, 2, 3],
    },
  };
}

export function disparityReportFiles(summary: DisparitySummary): ReportFile[] {
  const charts = {
    mean: meanActivationChartSvg(summary),
    gap: gapPercentChartSvg(summary),
    heatmap: deficitHeatmapSvg(summary),
    fidelity: fidelityChartSvg(summary),
  };
  return [
    { name: 'summary.json', content: JSON.stringify(summary, null, 2) + '\n' },
    { name: 'mean_activation.csv', content: toCsv(meanActivationRows(summary), MEAN_ACTIVATION_COLUMNS) },
    { name: 'gap_percent.csv', content: toCsv(gapPercentRows(summary), GAP_PERCENT_COLUMNS) },
    { name: 'fidelity.csv', content: toCsv(fidelityRows(summary), FIDELITY_COLUMNS) },
    { name: 'top_features.csv', content: toCsv(topFeatureRows(summary), TOP_FEATURE_COLUMNS) },
    ...(summary.per_feature ? [{ name: 'per_feature.csv', content: toCsv(perFeatureRows(summary), PER_FEATURE_COLUMNS) }] : []),
    ...(
      [
        ['mean_activation', charts.mean],
        ['gap_percent', charts.gap],
        ['heatmap', charts.heatmap],
        ['fidelity', charts.fidelity],
      ] as const
    ).flatMap(([base, svg]) => [
      { name: `${base}.svg`, content: svg },
      { name: `${base}.png`, content: svgToPng(svg) },
    ]),
    { name: 'report.html', content: disparityReportHtml(summary, charts) },
  ];
}

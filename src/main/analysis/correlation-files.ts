// The correlation's output folder: correlation.json (the whole result), correlation.csv (r and ρ
// per layer with intervals and n), points.csv (measure and accuracy per language and layer),
// correlation.svg (r and ρ across layers) and one labelled scatter per layer.
import { toCsv } from '../../shared/csv';
import type { CorrelationResult, CorrelationStat } from '../../shared/eval';
import { languageStyles } from '../../shared/palette';
import type { Tier } from '../../shared/dto';
import { lineChartSvg } from './line-chart-svg';
import { scatterSvg } from './scatter-svg';

const MEASURE_LABEL = { gap: 'gap against the high-resource mean %', deficit: 'deficit against English %', mean_activation: 'mean activation' } as const;

const statText = (name: string, s: CorrelationStat) =>
  s.value === null ? `${name} undefined` : `${name} = ${s.value.toFixed(3)}${s.ci ? ` [${s.ci[0].toFixed(2)}, ${s.ci[1].toFixed(2)}]` : ''}`;

/** Least squares of y on x (slope, intercept); null when x is constant or n < 2. */
function leastSquares(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } | null {
  const n = x.length;
  if (n < 2) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  return sxx > 0 ? { slope: sxy / sxx, intercept: my - (sxy / sxx) * mx } : null;
}

export function correlationFiles(r: Omit<CorrelationResult, 'outDir' | 'files'>): { name: string; content: string }[] {
  const styles = languageStyles(r.points.map((p) => ({ code: p.language, tier: p.tier as Tier })));
  const accLabel = `${r.metric} % (${r.task}${r.model === 'adapted' ? ', with the adapter' : ''})`;
  const layerRows = r.per_layer.map((l) => ({
    layer: l.layer,
    n: l.n,
    pearson_r: l.pearson.value,
    pearson_ci_low: l.pearson.ci?.[0] ?? null,
    pearson_ci_high: l.pearson.ci?.[1] ?? null,
    spearman_rho: l.spearman.value,
    spearman_ci_low: l.spearman.ci?.[0] ?? null,
    spearman_ci_high: l.spearman.ci?.[1] ?? null,
    note: [l.pearson.reason, l.spearman.reason].filter((x, i, a) => x && a.indexOf(x) === i).join('; '),
    languages: l.languages.join(' '),
  }));
  const pointRows = r.per_layer.flatMap((l, i) =>
    r.points.map((p) => ({ layer: l.layer, language: p.language, tier: p.tier, measure: r.measure, value: p.measure[i], metric: r.metric, accuracy: p.accuracy, items: p.items })),
  );
  const files = [
    { name: 'correlation.json', content: `${JSON.stringify(r, null, 2)}\n` },
    { name: 'correlation.csv', content: toCsv(layerRows, ['layer', 'n', 'pearson_r', 'pearson_ci_low', 'pearson_ci_high', 'spearman_rho', 'spearman_ci_low', 'spearman_ci_high', 'note', 'languages']) },
    { name: 'points.csv', content: toCsv(pointRows, ['layer', 'language', 'tier', 'measure', 'value', 'metric', 'accuracy', 'items']) },
    {
      name: 'correlation.svg',
      content: lineChartSvg(
        [
          { id: 'pearson', label: 'Pearson r', color: '#0072b2', values: r.per_layer.map((l) => l.pearson.value), ci: r.per_layer.map((l) => l.pearson.ci) },
          { id: 'spearman', label: 'Spearman ρ', color: '#d55e00', dash: '7 4', values: r.per_layer.map((l) => l.spearman.value), ci: r.per_layer.map((l) => l.spearman.ci) },
        ],
        {
          title: `${MEASURE_LABEL[r.measure]} vs ${r.metric} across languages, per layer`,
          desc: `n = ${[...new Set(r.per_layer.map((l) => l.n))].join('/')} languages; 95 % bootstrap intervals over languages. ${r.warnings.join(' ')}`,
          xLabel: 'layer',
          yLabel: 'correlation',
          x: r.per_layer.map((l) => l.layer),
          ci: 'whiskers',
          includeZero: true,
          referenceLine: { value: 0, label: 'no correlation' },
        },
      ),
    },
  ];
  r.per_layer.forEach((l, i) => {
    const usable = r.points.filter((p) => l.languages.includes(p.language));
    const fit = leastSquares(usable.map((p) => p.measure[i]!), usable.map((p) => 100 * p.accuracy));
    files.push({
      name: `scatter-layer-${l.layer}.svg`,
      content: scatterSvg(
        usable.map((p) => ({ id: p.language, label: p.language, group: p.tier, x: p.measure[i]!, y: 100 * p.accuracy, color: styles.get(p.language)!.color, textColor: styles.get(p.language)!.textColor })),
        {
          title: `Layer ${l.layer}: ${statText('r', l.pearson)}, ${statText('ρ', l.spearman)}, n = ${l.n}`,
          desc: `${MEASURE_LABEL[r.measure]} against ${accLabel}, one point per language.${l.n < 4 ? ' Fewer than 4 languages: no interval.' : ''}`,
          xLabel: MEASURE_LABEL[r.measure],
          yLabel: accLabel,
          width: 720,
          ...(fit ? { line: { ...fit, label: `least-squares line: accuracy = ${fit.slope.toPrecision(3)} · x + ${fit.intercept.toPrecision(3)}` } } : {}),
        },
      ),
    });
  });
  return files;
}

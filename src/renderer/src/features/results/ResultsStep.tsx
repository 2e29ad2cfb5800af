import { useState } from 'react';
import type { DisparitySummary } from '../../../../shared/dto';
import type { LegendGroup } from '../../../../shared/chart-parts';
import { TIER_COLORS, TIER_LABELS } from '../../../../shared/tiers';
import { ChartFrame } from '../../components/ChartFrame';
import { FormulaList } from '../../components/FormulaList';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { DeficitHeatmap, GapChart, LanguageLines } from './charts';
import {
  deficitRows,
  FIDELITY_METRICS,
  fidelityChartRows,
  fidelityRows,
  gapRows,
  languageLegend,
  meanActivationRows,
  num,
  pct,
  warningIndex,
  type FidelityMetric,
} from './data';
import { ExportReport } from './ExportReport';
import { Findings } from './Findings';
import { PerFeature } from './PerFeature';
import './results.css';
import { SortHeader, useSorted } from './SortHeader';
import { TopFeatures } from './TopFeatures';

const FIDELITY_LABELS: Record<FidelityMetric, string> = {
  explained_variance: 'explained variance',
  nmse: 'normalised MSE',
  l0: 'L0 (active features per token)',
  cosine: 'cosine(x, x̂)',
};

/** Formula lines joined for ChartFrame (its .formula keeps line breaks). */
function formulaText(summary: DisparitySummary, ...keys: string[]): string {
  return keys.filter((k) => summary.formulas[k]).map((k) => `${k}: ${summary.formulas[k]}`).join('\n');
}

export function ResultsStep() {
  const { summary, request } = useStore(wizard, (s) => s);
  if (!summary || !request) {
    return (
      <section>
        <h2>Results</h2>
        <p className="hint">
          No analysis yet:{' '}
          <button type="button" className="link" onClick={() => wizard.set({ step: 'run' })}>
            run one in the Run step
          </button>
          .
        </p>
      </section>
    );
  }
  return <Results summary={summary} request={request} />;
}

/** The gap chart's legend in an exported file: what the bar colours mean. */
const GAP_LEGEND: LegendGroup[] = [
  {
    items: [
      { label: 'medium/low-resource languages activate less', color: TIER_COLORS['medium-low'], kind: 'swatch' },
      { label: 'they activate more', color: TIER_COLORS.high, kind: 'swatch' },
    ],
  },
];

type GapColumn = 'layer' | 'gap' | 'ci';
type FidelityColumn = 'language' | `layer_${number}`;

function Results({ summary, request }: { summary: DisparitySummary; request: NonNullable<ReturnType<typeof wizard.get>['request']> }) {
  const [showCi, setShowCi] = useState(true);
  const [metric, setMetric] = useState<FidelityMetric>('explained_variance');
  const mean = meanActivationRows(summary);
  const gaps = gapRows(summary);
  const deficits = deficitRows(summary);
  const warned = warningIndex(summary);
  const legend = languageLegend(summary.languages);
  const s = summary.settings;
  const hasGap = summary.gap_percent.some((g) => g !== null);
  const gapTable = useSorted<(typeof gaps)[number], GapColumn>(gaps, (g, key) =>
    key === 'layer' ? (g.layer as number) : key === 'gap' ? (g.gap_percent as number | null) : (g.ci_low as number | null),
  );
  const fidelityTable = useSorted<DisparitySummary['languages'][number], FidelityColumn>(summary.languages, (l, key) =>
    key === 'language' ? l.name : (summary.fidelity[l.code]?.[metric][summary.layers.indexOf(Number(key.slice(6)))] ?? null),
  );

  return (
    <section className="results-step" data-testid="analysis-results">
      <h2>Results</h2>
      <p data-testid="results-overview">
        {summary.languages.length} languages, {summary.segments} aligned segments, {summary.layers.length} layers ({summary.layers.join(', ')}) of{' '}
        {summary.model.architecture} <code>{summary.model.path}</code>.
      </p>
      <Findings summary={summary} />

      <h3>Mean activation per layer</h3>
      <label className="inline-option">
        <input type="checkbox" checked={showCi} onChange={(e) => setShowCi(e.target.checked)} /> 95 % confidence intervals
      </label>
      <ChartFrame
        title="Mean SAE activation per layer, by language"
        basename="mean_activation"
        rows={mean.rows}
        columns={mean.columns}
        legend={legend}
        formula={formulaText(summary, 'mean_activation', 'phrase_activation', 'phrase_feature_activation', 'confidence_interval')}
      >
        <div data-testid="mean-activation-chart">
          <LanguageLines summary={summary} rows={mean.rows} errors={mean.errors} yLabel="mean activation" showCi={showCi} />
        </div>
      </ChartFrame>

      <h3>Gap between the tiers</h3>
      <p className="hint">
        A positive gap (orange bar) means the medium/low-resource languages activate the SAE features less than the high-resource ones at
        that layer; a negative one (blue) means more. Error bars and the table give the 95 % bootstrap interval.
      </p>
      {(summary.gap_reason || !hasGap) && (
        <p className="hint" data-testid="gap-reason">
          {summary.gap_reason ?? 'The gap needs at least one high-resource and one medium/low-resource language.'}
        </p>
      )}
      <ChartFrame title="Gap per layer (high vs medium/low-resource)" basename="gap_percent" rows={gaps} columns={['layer', 'gap_percent', 'ci_low', 'ci_high']} legend={GAP_LEGEND} formula={formulaText(summary, 'gap_percent', 'tier_mean', 'mean_activation', 'phrase_activation', 'phrase_feature_activation', 'confidence_interval')}>
        <GapChart rows={gaps} />
      </ChartFrame>
      <table className="gap" data-testid="gap-table" aria-label="gap per layer">
        <thead>
          <tr>
            <SortHeader column="layer" numeric={false} sort={gapTable.sort} onSort={gapTable.setSort}>Layer</SortHeader>
            <SortHeader column="gap" sort={gapTable.sort} onSort={gapTable.setSort}>Gap</SortHeader>
            <SortHeader column="ci" sort={gapTable.sort} onSort={gapTable.setSort}>95 % CI</SortHeader>
          </tr>
        </thead>
        <tbody>
          {gapTable.sorted.map((g) => (
            <tr key={String(g.layer)} data-layer={String(g.layer)}>
              <td>{g.layer}</td>
              <td className="num" data-testid="gap-value">{pct(g.gap_percent as number | null)}</td>
              <td className="num">{g.ci_low === null ? 'n/a' : `${pct(g.ci_low as number)} … ${pct(g.ci_high as number)}`}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Deficit against English</h3>
      <ChartFrame
        title="Deficit vs English (%), languages by layers"
        basename="deficit_vs_en"
        rows={deficits}
        columns={['language', 'name', 'tier', ...summary.layers.map((l) => `layer_${l}`)]}
        formula={formulaText(summary, 'deficit_vs_en', 'mean_activation', 'phrase_activation', 'phrase_feature_activation')}
      >
        <DeficitHeatmap summary={summary} rows={deficits} />
      </ChartFrame>

      <h3>SAE fidelity</h3>
      <p className="hint">How well each SAE reconstructs each language's residual stream. Activations are only comparable where it does.</p>
      {summary.fidelity_warnings.length > 0 && (
        <ul className="fidelity-warnings" data-testid="fidelity-warnings">
          {summary.fidelity_warnings.map((w) => (
            <li key={`${w.language}|${w.layer}`} className="warning" data-language={w.language} data-layer={w.layer}>
              {w.message}
            </li>
          ))}
        </ul>
      )}
      <label>
        Metric:{' '}
        <select aria-label="fidelity metric" value={metric} onChange={(e) => setMetric(e.target.value as FidelityMetric)}>
          {FIDELITY_METRICS.map((m) => (
            <option key={m} value={m}>
              {FIDELITY_LABELS[m]}
            </option>
          ))}
        </select>
      </label>
      <ChartFrame
        title={`SAE fidelity: ${FIDELITY_LABELS[metric]}`}
        basename="fidelity"
        rows={fidelityRows(summary)}
        columns={['language', 'layer', 'explained_variance', 'nmse', 'l0', 'cosine', 'warning']}
        legend={legend}
        formula={formulaText(summary, metric, 'fidelity_warning')}
      >
        <LanguageLines summary={summary} rows={fidelityChartRows(summary, metric)} yLabel={FIDELITY_LABELS[metric]} />
      </ChartFrame>
      <table className="fidelity" data-testid="fidelity-table" aria-label="SAE fidelity per language and layer">
        <thead>
          <tr>
            <SortHeader column="language" numeric={false} sort={fidelityTable.sort} onSort={fidelityTable.setSort}>Language</SortHeader>
            {summary.layers.map((l) => (
              <SortHeader key={l} column={`layer_${l}` as FidelityColumn} sort={fidelityTable.sort} onSort={fidelityTable.setSort}>
                layer {l}
              </SortHeader>
            ))}
          </tr>
        </thead>
        <tbody>
          {fidelityTable.sorted.map((l) => (
            <tr key={l.code} data-code={l.code}>
              <td>
                {l.name} <code>{l.code}</code> <span className="tier">{TIER_LABELS[l.tier]}</span>
              </td>
              {summary.layers.map((layer, i) => {
                const warning = warned.get(`${l.code}|${layer}`);
                return (
                  <td key={layer} className={warning ? 'num warn' : 'num'} data-layer={layer} data-warning={warning ? 'true' : undefined} title={warning}>
                    {num(summary.fidelity[l.code]?.[metric][i])}
                    {warning && <span className="badge">warning</span>}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>

      <h3>Top disparate features</h3>
      <p className="formula">{formulaText(summary, 'top_features')}</p>
      <TopFeatures summary={summary} />

      <PerFeature summary={summary} />

      <h3>Settings and inputs</h3>
      <dl className="settings-used" data-testid="settings-used">
        <div><dt>Reduction</dt><dd>{s.reduction} over the phrase's tokens</dd></div>
        <div><dt>Features</dt><dd>{s.features === 'english-active' ? 'active on the English phrase' : 'all'}</dd></div>
        <div><dt>BOS</dt><dd>{s.includeBos ? 'included' : 'excluded'}</dd></div>
        <div><dt>Bootstrap</dt><dd>{s.bootstrap} resamples, seed {s.seed}</dd></div>
        <div><dt>Fidelity warning</dt><dd>EV more than {s.fidelityWarnDrop} below English</dd></div>
        <div><dt>Top features</dt><dd>{s.topFeatures} per layer, from the {s.keepFeatures} strongest per phrase and layer</dd></div>
        <div><dt>Corpus</dt><dd>{summary.corpus.source}, {summary.corpus.segments} segments{request.limit ? ` (limit ${request.limit})` : ''}</dd></div>
        <div><dt>Cache</dt><dd>{summary.cache.phrases_computed} phrases computed, {summary.cache.phrases_cached} from the cache, {summary.cache.seconds.toFixed(2)} s</dd></div>
      </dl>
      {summary.corpus.skipped.length > 0 && (
        <p className="hint">Skipped (longer than the model's context in some language): {summary.corpus.skipped.join(', ')}.</p>
      )}
      {(summary.corpus.incomplete?.length ?? 0) > 0 && (
        <p className="hint">Left out (no text in every chosen language): {summary.corpus.incomplete!.length} segments.</p>
      )}
      <details className="saes-used">
        <summary>SAEs used ({summary.saes.length})</summary>
        <table>
          <thead>
            <tr><th>Layer</th><th>Hook</th><th>Source</th><th>Architecture</th><th>d_sae</th><th>Average L0</th></tr>
          </thead>
          <tbody>
            {summary.saes.map((x) => (
              <tr key={x.source}>
                <td>{x.layer}</td><td><code>{x.hook}</code></td><td><code>{x.source}</code></td><td>{x.architecture}</td><td>{x.dSae}</td><td>{x.averageL0 ?? 'unknown'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>

      <h3>Export</h3>
      <p className="hint">The whole report (report.html, summary.json, CSVs, SVG and PNG charts) with the same request; cached phrases are not recomputed.</p>
      <ExportReport request={request} />

      <FormulaList title="All formulas" formulas={Object.entries(summary.formulas)} />
    </section>
  );
}

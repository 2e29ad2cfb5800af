// An eval.correlate answer: the plain small-n note and the backend's warnings, per layer Pearson's r
// and Spearman's ρ with their bootstrap intervals and n, and the scatter of one chosen layer (x = the
// measure, y = accuracy, each point labelled with its language code).
import { useState } from 'react';
import type { Tier } from '../../../../shared/dto';
import type { CorrelationResult } from '../../../../shared/eval';
import { languageStyles } from '../../../../shared/palette';
import { correlationRows, MEASURE_AXIS, SCATTER_COLUMNS, scatterRows, smallSampleNote } from './correlation-data';
import { LabelledScatter } from './LabelledScatter';

export function CorrelationResults({ result, tiers }: { result: CorrelationResult; tiers: Record<string, Tier> }) {
  const [layer, setLayer] = useState<number>(result.layers[0]);
  const shown = result.layers.includes(layer) ? layer : result.layers[0];
  const rows = correlationRows(result);
  const points = scatterRows(result, shown);
  const styles = languageStyles(result.points.map((p) => ({ code: p.language, tier: tiers[p.language] ?? (p.tier === 'medium-low' ? 'medium-low' : 'high') })));
  const color = (code: string) => styles.get(code)?.color ?? '#6b7280';
  const accuracy = `${result.metric} of ${result.task} (%), ${result.model === 'base' ? 'base model' : 'with the adapter'}`;
  const stat = result.per_layer.find((l) => l.layer === shown);
  return (
    <div className="correlation-results" data-testid="correlation-results">
      <p className="notice" data-testid="correlation-small-n">
        {smallSampleNote(result)}
      </p>
      {result.warnings.length > 0 && (
        <ul className="correlation-warnings" aria-label="warnings">
          {result.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      )}
      <table className="eval-table" data-testid="correlation-table">
        <caption>
          {result.measure} against {accuracy} across languages, per layer; 95 % bootstrap intervals over languages ({result.bootstrap.resamples} resamples, seed {result.bootstrap.seed})
        </caption>
        <thead>
          <tr>
            <th scope="col" className="num">layer</th>
            <th scope="col" className="num">n</th>
            <th scope="col">Pearson r [95 % CI]</th>
            <th scope="col">Spearman ρ [95 % CI]</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.layer} data-layer={r.layer}>
              <th scope="row" className="num">{r.layer}</th>
              <td className="num">{r.n}</td>
              <td data-stat="pearson">{r.pearson}</td>
              <td data-stat="spearman">{r.spearman}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <label>
          layer shown in the scatter{' '}
          <select aria-label="scatter layer" value={shown} onChange={(e) => setLayer(Number(e.target.value))}>
            {result.layers.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
        </label>
      </p>
      <LabelledScatter
        title={`Layer ${shown}: ${result.measure} against ${result.metric} (${result.task}), one point per language`}
        basename={`correlation_${result.task}_${result.metric}_${result.measure}_layer-${shown}`}
        points={points.map((p) => ({ label: p.language, x: p.measure, y: p.accuracy, color: color(p.language) }))}
        rows={points}
        columns={SCATTER_COLUMNS}
        xLabel={MEASURE_AXIS[result.measure]}
        yLabel={`${result.metric} (%)`}
        formula={`${result.formulas.measure}; ${result.formulas.accuracy}${stat ? `; r = ${rows.find((r) => r.layer === shown)?.pearson}, ρ = ${rows.find((r) => r.layer === shown)?.spearman}, n = ${stat.n}` : ''}`}
        legend={[{ heading: 'language', items: points.map((p) => ({ label: p.language, color: color(p.language), textColor: styles.get(p.language)?.textColor, kind: 'swatch' as const })) }]}
        testId="correlation-scatter"
      />
      {result.left_out.length > 0 && (
        <p className="hint" data-testid="correlation-left-out">
          Left out: {result.left_out.map((l) => `${l.language} (${l.why})`).join('; ')}
        </p>
      )}
      <details className="formulas">
        <summary>Formulas</summary>
        <ul>
          {Object.entries(result.formulas).map(([k, v]) => (
            <li key={k}>
              {k}: {v}
            </li>
          ))}
        </ul>
      </details>
    </div>
  );
}

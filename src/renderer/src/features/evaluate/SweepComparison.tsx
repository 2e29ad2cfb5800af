// A finished sweep compared: one table row per grid point (gain per target, mean gain, English
// retention, Δ accuracy per task and language, with their intervals), mean gain against English
// retention per point, and (with an evaluation) gain against the accuracy change per point and
// language; both charts export like every chart of the app.
import type { SweepResult } from '../../../../shared/eval';
import { languageStyles } from '../../../../shared/palette';
import { LabelledScatter } from './LabelledScatter';
import { accuracyKeysOf, GAIN_ACCURACY_COLUMNS, GAIN_RETENTION_COLUMNS, gainAccuracyRows, gainRetentionRows, sweepRows, targetsOf } from './sweep-data';

/** Colour-blind-safe hues (Okabe-Ito) for grid points, which have no colour of their own elsewhere. */
const POINT_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#56b4e9', '#000000'];

export function SweepComparison({ result }: { result: SweepResult }) {
  const targets = targetsOf(result);
  const keys = accuracyKeysOf(result);
  const rows = sweepRows(result);
  const gr = gainRetentionRows(result);
  const ga = gainAccuracyRows(result);
  const styles = languageStyles([...new Set(ga.map((a) => a.language))].map((code) => ({ code, tier: 'medium-low' as const })));
  return (
    <div className="sweep-comparison" data-testid="sweep-comparison">
      <p data-testid="sweep-summary">
        {result.points.length} grid points in <code>{result.outDir}</code>, {result.seconds} s; {result.points.filter((p) => p.status === 'done before').length} read back from earlier runs.
      </p>
      <table className="eval-table" data-testid="sweep-table">
        <caption>
          Per grid point, on its held-out segments: activation gain = 100·(after − before)/before per target language, English retention = 100·after/before (95 % bootstrap
          intervals){keys.length > 0 && '; Δ acc = adapted − base in percentage points, paired over items, with its 95 % interval'}
        </caption>
        <thead>
          <tr>
            <th scope="col">point</th>
            <th scope="col" className="num">α</th>
            <th scope="col">adapted layers</th>
            <th scope="col">loss space</th>
            <th scope="col">outcome</th>
            <th scope="col" className="num">steps</th>
            {targets.map((t) => (
              <th key={t} scope="col" className="num">
                gain {t} %
              </th>
            ))}
            <th scope="col" className="num">mean gain %</th>
            <th scope="col" className="num">English retention %</th>
            {keys.map((k) => (
              <th key={k} scope="col" className="num">
                Δ acc {k} (pp)
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.name} data-point={r.name}>
              <th scope="row">{r.label}</th>
              <td className="num">{r.alpha}</td>
              <td>{r.layers}</td>
              <td>{r.space}</td>
              <td>
                {r.outcome}
                {r.status === 'done before' && ' (read back)'}
              </td>
              <td className="num">{r.steps}</td>
              {r.gains.map((g, i) => (
                <td key={targets[i]} className="num">
                  {g}
                </td>
              ))}
              <td className="num" data-figure="mean-gain">{r.meanGain}</td>
              <td className="num" data-figure="retention">{r.retention}</td>
              {r.accuracy.map((a, i) => (
                <td key={keys[i]} className="num" data-figure={`acc-${keys[i]}`}>
                  {a}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      <LabelledScatter
        title="Mean activation gain against English retention, per grid point"
        basename="sweep_gain_retention"
        points={gr.map((p, i) => ({ label: p.point, x: p.english_retention_percent, y: p.mean_gain_percent, color: POINT_COLORS[i % POINT_COLORS.length] }))}
        rows={gr}
        columns={GAIN_RETENTION_COLUMNS}
        xLabel="English retention %"
        yLabel="mean activation gain %"
        referenceX={100}
        referenceY={0}
        formula={`gain = mean over ${targets.join(', ')} of 100·(after − before)/before; retention = 100·after_en/before_en; on each point's held-out segments (points named as in the table)`}
        testId="sweep-gain-retention"
      />
      {ga.length > 0 && (
        <LabelledScatter
          title="Activation gain against accuracy change (acc, adapted − base), per grid point and language"
          basename="sweep_gain_accuracy"
          points={ga.map((p) => ({ label: `${p.point}\u00a0${p.language}`, x: p.activation_gain_percent, y: p.accuracy_change_pp, color: styles.get(p.language)?.color ?? '#6b7280' }))}
          rows={ga}
          columns={GAIN_ACCURACY_COLUMNS}
          xLabel="activation gain %"
          yLabel="Δ acc (pp)"
          referenceY={0}
          formula="x: the language's held-out activation gain at the point; y: its accuracy after − before in percentage points, paired over the same items"
          legend={[{ heading: 'language', items: [...styles.entries()].map(([code, s]) => ({ label: code, color: s.color, textColor: s.textColor, kind: 'swatch' as const })) }]}
          testId="sweep-gain-accuracy"
        />
      )}
      <ul className="files" data-testid="sweep-files">
        {result.files.map((f) => (
          <li key={f}>
            <code>{f}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}

// Two runs side by side: the per-layer gap and each language's mean activation overlaid (run A
// solid, run B dashed), the differences per layer, and the settings with those that differ marked.
import { CartesianGrid, Legend, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { AnalysisRunRecord } from '../../../../shared/dto';
import { chartRows, differences, settingRows, unionLanguages } from './compare';

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const WIDTH = 620;
const AXIS_TEXT = '#4b5563';
const num = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));
const fmt = (v: unknown) => (typeof v === 'number' ? num(v) : String(v));

function Overlay({ title, rows, series, yLabel }: { title: string; rows: Record<string, number | null>[]; series: string[]; yLabel: string }) {
  return (
    <figure aria-label={title} className="compare-chart">
      <figcaption>{title}</figcaption>
      {/* An image named by its title, not recharts' unnamed role="application" tab stop (the numbers
          are in the differences table below); axis labels at 7.6:1, not recharts' #808080. */}
      <LineChart width={WIDTH} height={300} data={rows} margin={{ top: 12, right: 24, bottom: 24, left: 8 }} accessibilityLayer={false} role="img" aria-label={title}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -12, fill: AXIS_TEXT }} />
        <YAxis width={64} label={{ value: yLabel, angle: -90, position: 'insideLeft', fill: AXIS_TEXT, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={fmt} />
        <Legend verticalAlign="top" />
        {series.flatMap((s, i) => [
          <Line key={`${s}_a`} dataKey={`${s}_a`} name={`${s} (A)`} stroke={PALETTE[i % PALETTE.length]} strokeWidth={2} connectNulls={false} isAnimationActive={false} />,
          <Line key={`${s}_b`} dataKey={`${s}_b`} name={`${s} (B)`} stroke={PALETTE[i % PALETTE.length]} strokeWidth={2} strokeDasharray="6 4" connectNulls={false} isAnimationActive={false} />,
        ])}
      </LineChart>
    </figure>
  );
}

export function RunCompare({ a, b }: { a: AnalysisRunRecord; b: AnalysisRunRecord }) {
  const diffs = differences(a, b);
  const rows = chartRows(diffs);
  const settings = settingRows(a, b);
  const differing = settings.filter((s) => s.differs).length;
  return (
    <section className="run-compare" aria-label="Run comparison" data-testid="run-compare">
      <h3>
        A: {a.name} · B: {b.name}
      </h3>
      <p className="hint" data-testid="compare-summary">
        {differing === 0 ? 'The two runs have the same settings and inputs.' : `${differing} of ${settings.length} settings and inputs differ (marked).`}
      </p>
      <table className="compare-settings" data-testid="compare-settings">
        <thead>
          <tr>
            <th scope="col">Setting or input</th>
            <th scope="col">A</th>
            <th scope="col">B</th>
          </tr>
        </thead>
        <tbody>
          {settings.map((s) => (
            <tr key={s.name} data-setting={s.name} data-differs={s.differs ? 'true' : 'false'} className={s.differs ? 'differs' : undefined}>
              <th scope="row">
                {s.name}
                {s.differs && <strong> (differs)</strong>}
              </th>
              <td>{s.a}</td>
              <td>{s.b}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="compare-charts">
        <Overlay title="Gap per layer, run A (solid) and run B (dashed)" rows={rows} series={['gap']} yLabel="gap %" />
        <Overlay title="Mean activation per layer, run A (solid) and run B (dashed)" rows={rows} series={unionLanguages(a, b)} yLabel="mean activation" />
      </div>
      <table className="compare-differences" data-testid="compare-differences">
        <caption>Differences per layer (B − A)</caption>
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col">Series</th>
            <th scope="col">A</th>
            <th scope="col">B</th>
            <th scope="col">B − A</th>
          </tr>
        </thead>
        <tbody>
          {diffs.map((d) => (
            <tr key={`${d.layer}-${d.series}`} data-layer={d.layer} data-series={d.series}>
              <td className="num">{d.layer}</td>
              <td>{d.series === 'gap' ? 'gap %' : `mean activation, ${d.series}`}</td>
              <td className="num">{num(d.a)}</td>
              <td className="num">{num(d.b)}</td>
              <td className="num" data-delta={d.delta ?? ''}>
                {num(d.delta)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

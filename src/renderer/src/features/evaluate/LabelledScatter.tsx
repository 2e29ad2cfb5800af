// A scatter chart whose every point carries its name beside it (a language code, a grid point; points
// on one spot share one label, "#1, #2"), so the chart reads without hovering; exported through
// ChartFrame like every chart of the app.
import { CartesianGrid, Cell, LabelList, ReferenceLine, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { LegendGroup } from '../../../../shared/chart-parts';
import { ChartFrame } from '../../components/ChartFrame';
import { mergedLabels, paddedDomain, tickDecimals } from './scatter-axes';

export interface LabelledPoint {
  /** Drawn beside the point. */
  label: string;
  x: number;
  y: number;
  color: string;
}

interface Props<T extends object> {
  title: string;
  basename: string;
  points: readonly LabelledPoint[];
  /** What the CSV export holds (the figures behind the points, in the result's own terms). */
  rows: readonly T[];
  columns: readonly (keyof T & string)[];
  xLabel: string;
  yLabel: string;
  formula: string;
  legend?: LegendGroup[];
  /** A vertical / horizontal reference line (e.g. 100 % retained, no change). */
  referenceX?: number;
  referenceY?: number;
  testId: string;
}

/** Tooltip figures: four significant digits. */
const tooltipNumber = (v: unknown) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v));

export function LabelledScatter<T extends object>({ title, basename, points, rows, columns, xLabel, yLabel, formula, legend, referenceX, referenceY, testId }: Props<T>) {
  const xDomain = paddedDomain(points.map((p) => p.x));
  const yDomain = paddedDomain(points.map((p) => p.y));
  const [dx, dy] = [tickDecimals(xDomain), tickDecimals(yDomain)];
  const labels = mergedLabels(points, xDomain, yDomain);
  const drawn = points.map((p, i) => ({ ...p, shown: labels[i] }));
  return (
    <ChartFrame title={title} basename={basename} rows={rows} columns={columns} formula={formula} legend={legend}>
      <div data-testid={testId} data-points={points.length}>
        <ScatterChart width={560} height={340} margin={{ top: 20, right: 32, bottom: 28, left: 12 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis type="number" dataKey="x" name={xLabel} domain={xDomain} allowDataOverflow tickCount={6} tickFormatter={(v: number) => v.toFixed(dx)} label={{ value: xLabel, position: 'insideBottom', offset: -14 }} />
          <YAxis type="number" dataKey="y" name={yLabel} domain={yDomain} allowDataOverflow tickCount={6} width={76} tickFormatter={(v: number) => v.toFixed(dy)} label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 0, style: { textAnchor: 'middle' } }} />
          {referenceX !== undefined && <ReferenceLine x={referenceX} stroke="#6b7280" strokeDasharray="4 4" />}
          {referenceY !== undefined && <ReferenceLine y={referenceY} stroke="#6b7280" strokeDasharray="4 4" />}
          <Tooltip formatter={(v) => tooltipNumber(v)} />
          <Scatter data={drawn} isAnimationActive={false}>
            {points.map((p) => (
              <Cell key={p.label} fill={p.color} />
            ))}
            <LabelList dataKey="shown" position="top" fill="#111827" fontSize={12} />
          </Scatter>
        </ScatterChart>
      </div>
    </ChartFrame>
  );
}

// The Results step's figures: recharts for the line and bar charts, a plain SVG for the heatmap
// (so every figure exports the same way: its own <svg>).
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Line, LineChart, ReferenceLine, Tooltip, XAxis, YAxis } from 'recharts';
import type { DisparitySummary, Tier } from '../../../../shared/dto';
import { TIER_COLORS, TIER_LABELS } from '../../../../shared/tiers';
import { divergingFill, layerColumn, lineStyles, niceTicks, num, textOn, type Row } from './data';

const WIDTH = 760;

const tooltipFormat = (value: unknown) => (typeof value === 'number' ? num(value) : Array.isArray(value) ? '' : String(value));

/** A label at the end of each line: its language code (kept in the exported SVG, unlike an HTML
 * legend). Labels that would overlap one drawn before are moved down by a line. */
function endLabel(code: string, last: number, color: string, placed: Map<string, number>) {
  return (props: { x?: number | string; y?: number | string; index?: number }) => {
    if (props.index !== last || props.x === undefined || props.y === undefined) return <g />;
    let y = Number(props.y) + 4;
    for (let k = 0; k < placed.size; k++) {
      const clash = [...placed].find(([other, py]) => other !== code && Math.abs(py - y) < 12);
      if (!clash) break;
      y = clash[1] + 12;
    }
    placed.set(code, y);
    return (
      <text x={Number(props.x) + 8} y={y} fill={color} fontSize={12} fontWeight={600}>
        {code}
      </text>
    );
  };
}

/** One line per language across layers, coloured by tier; optional 95 % CI error bars. */
export function LanguageLines({
  summary,
  rows,
  errors,
  yLabel,
  showCi,
}: {
  summary: DisparitySummary;
  rows: Row[];
  errors?: Record<string, [number, number] | null>[];
  yLabel: string;
  showCi?: boolean;
}) {
  const styles = lineStyles(summary.languages);
  const data = rows.map((r, i) => ({
    ...r,
    ...Object.fromEntries(summary.languages.map((l) => [`${l.code}__err`, errors?.[i]?.[l.code] ?? [0, 0]])),
  }));
  const last = rows.length - 1;
  const placed = new Map<string, number>();
  return (
    <>
      <LineChart width={WIDTH} height={360} data={data} margin={{ top: 16, right: 56, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -12 }} />
        <YAxis width={64} label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 4, style: { textAnchor: 'middle' } }} />
        <Tooltip formatter={tooltipFormat} />
        {summary.languages.map((l) => (
          <Line
            key={l.code}
            dataKey={l.code}
            name={`${l.name} (${l.code})`}
            stroke={styles[l.code].color}
            strokeDasharray={styles[l.code].dash || undefined}
            strokeWidth={l.code === 'en' ? 2.5 : 1.75}
            dot={{ r: 3, fill: styles[l.code].color }}
            isAnimationActive={false}
            label={endLabel(l.code, last, styles[l.code].color, placed)}
          >
            {showCi && errors && <ErrorBar dataKey={`${l.code}__err`} width={4} stroke={styles[l.code].color} isAnimationActive={false} />}
          </Line>
        ))}
      </LineChart>
      <LanguageLegend summary={summary} />
    </>
  );
}

export function LanguageLegend({ summary }: { summary: DisparitySummary }) {
  const styles = lineStyles(summary.languages);
  const tiers = [...new Set(summary.languages.map((l) => l.tier))] as Tier[];
  return (
    <ul className="legend">
      {tiers.map((t) => (
        <li key={t}>
          <strong>{TIER_LABELS[t]}:</strong>{' '}
          {summary.languages
            .filter((l) => l.tier === t)
            .map((l) => (
              <span key={l.code} className="legend-item">
                <svg width="24" height="10" aria-hidden="true">
                  <line x1="0" y1="5" x2="24" y2="5" stroke={styles[l.code].color} strokeWidth="2" strokeDasharray={styles[l.code].dash || undefined} />
                </svg>{' '}
                {l.name}
              </span>
            ))}
        </li>
      ))}
    </ul>
  );
}

/** Gap per layer, bars with 95 % CI error bars; positive = the medium/low-resource tier activates less. */
export function GapChart({ rows }: { rows: Row[] }) {
  const data: Record<string, unknown>[] = rows.map((r) => ({
    ...r,
    err:
      r.gap_percent !== null && r.ci_low !== null && r.ci_high !== null
        ? [Math.max(0, Number(r.gap_percent) - Number(r.ci_low)), Math.max(0, Number(r.ci_high) - Number(r.gap_percent))]
        : [0, 0],
  }));
  const ticks = niceTicks(rows.flatMap((r) => [r.gap_percent, r.ci_low, r.ci_high]).filter((v): v is number => typeof v === 'number'));
  return (
    <BarChart width={WIDTH} height={300} data={data} margin={{ top: 16, right: 16, bottom: 24, left: 8 }}>
      <CartesianGrid strokeDasharray="3 3" vertical={false} />
      <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -12 }} />
      <YAxis width={72} domain={[ticks[0], ticks.at(-1)!]} ticks={ticks} tickFormatter={(v: number) => `${v} %`} />
      <Tooltip formatter={tooltipFormat} />
      <ReferenceLine y={0} stroke="#374151" />
      <Bar dataKey="gap_percent" name="gap %" isAnimationActive={false}>
        {data.map((r) => (
          <Cell key={String(r.layer)} fill={Number(r.gap_percent) >= 0 ? TIER_COLORS['medium-low'] : TIER_COLORS.high} />
        ))}
        <ErrorBar dataKey="err" width={6} stroke="#111827" isAnimationActive={false} />
      </Bar>
    </BarChart>
  );
}

/** Languages x layers, deficit vs English in %: orange = below English, blue = above. */
export function DeficitHeatmap({ summary, rows }: { summary: DisparitySummary; rows: Row[] }) {
  const layers = summary.layers;
  const cell = Math.max(30, Math.min(72, Math.floor(600 / Math.max(1, layers.length))));
  const rowH = 30;
  const left = 150;
  const top = 28;
  const width = Math.max(left + cell * layers.length + 8, left + 420);
  const height = top + rowH * rows.length + 40;
  const values = rows.flatMap((r) => layers.map((l) => r[layerColumn(l)])).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const max = Math.max(0, ...values.map(Math.abs));
  return (
    <svg className="heatmap" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label="deficit vs English, languages by layers">
      <text x={left - 6} y={top - 4} fontSize={11} textAnchor="end" fill="#374151">
        layer
      </text>
      {layers.map((layer, j) => (
        <text key={layer} x={left + cell * j + cell / 2} y={top - 4} fontSize={11} textAnchor="middle" fill="#374151">
          {layer}
        </text>
      ))}
      {rows.map((r, i) => (
        <g key={String(r.language)} data-language={String(r.language)}>
          <text x={left - 6} y={top + rowH * i + rowH / 2 + 4} fontSize={12} textAnchor="end" fill={TIER_COLORS[r.tier as Tier]}>
            {String(r.name)} ({String(r.language)})
          </text>
          {layers.map((layer, j) => {
            const v = r[layerColumn(layer)] as number | null;
            return (
              <g key={layer}>
                <rect
                  className="heat-cell"
                  data-language={String(r.language)}
                  data-layer={layer}
                  data-value={v ?? ''}
                  x={left + cell * j}
                  y={top + rowH * i}
                  width={cell - 1}
                  height={rowH - 1}
                  fill={divergingFill(v, max)}
                >
                  <title>{`${String(r.name)}, layer ${layer}: ${v === null ? 'n/a' : `${v.toFixed(2)} %`}`}</title>
                </rect>
                <text x={left + cell * j + (cell - 1) / 2} y={top + rowH * i + rowH / 2 + 4} fontSize={11} textAnchor="middle" fill={textOn(v, max)} pointerEvents="none">
                  {v === null ? 'n/a' : v.toFixed(cell >= 44 ? 1 : 0)}
                </text>
              </g>
            );
          })}
        </g>
      ))}
      <g transform={`translate(${left}, ${top + rowH * rows.length + 8})`}>
        {Array.from({ length: 11 }, (_, k) => (k - 5) / 5).map((t, k) => (
          <rect key={k} x={k * 14} y={0} width={14} height={10} fill={divergingFill(t * max, max)} stroke="#e5e7eb" strokeWidth={0.5} />
        ))}
        <text x={160} y={9} fontSize={10} fill="#374151">
          {`blue: above English, orange: below (±${max.toFixed(1)} %)`}
        </text>
      </g>
    </svg>
  );
}

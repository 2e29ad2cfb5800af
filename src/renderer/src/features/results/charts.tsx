// The Results step's figures: recharts for the line and bar charts, a plain SVG for the heatmap
// (so every figure exports the same way: its own <svg>).
import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Line, LineChart, ReferenceLine, Tooltip, usePlotArea, useXAxisScale, useYAxisScale, XAxis, YAxis } from 'recharts';
import { placeEndLabels } from '../../../../shared/chart-parts';
import type { DisparitySummary } from '../../../../shared/dto';
import type { LanguageStyle } from '../../../../shared/palette';
import { TIER_COLORS, TIER_LABELS } from '../../../../shared/tiers';
import { divergingFill, layerColumn, lineStyles, niceTicks, num, pct, textOn, TIER_ORDER, type Row } from './data';

const WIDTH = 760;

interface TooltipItem {
  dataKey?: unknown;
  name?: unknown;
  value?: unknown;
  payload?: Record<string, unknown>;
}

/** The languages at the hovered layer, largest value first, each with its 95 % interval when the
 * row carries one (`${code}_ci_low` / `${code}_ci_high`). */
export function sortedTooltipRows(payload: readonly TooltipItem[]): { code: string; name: string; value: number | null; ci: [number, number] | null }[] {
  return payload
    .filter((p) => typeof p.dataKey === 'string' && !p.dataKey.endsWith('__err'))
    .map((p) => {
      const code = p.dataKey as string;
      const row = p.payload ?? {};
      const lo = row[`${code}_ci_low`];
      const hi = row[`${code}_ci_high`];
      return {
        code,
        name: String(p.name ?? code),
        value: typeof p.value === 'number' && Number.isFinite(p.value) ? p.value : null,
        ci: typeof lo === 'number' && typeof hi === 'number' ? ([lo, hi] as [number, number]) : null,
      };
    })
    .sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity) || a.code.localeCompare(b.code));
}

const TOOLTIP_STYLE = { background: '#ffffff', border: '1px solid #9ca3af', borderRadius: 4, padding: '4px 8px', fontSize: 12, color: '#111827' } as const;

/** The hovered layer's gap with its 95 % interval. */
function GapTooltip({ active, payload, label }: { active?: boolean; payload?: readonly TooltipItem[]; label?: unknown }) {
  const row = payload?.[0]?.payload;
  if (!active || !row) return null;
  const lo = row.ci_low;
  const hi = row.ci_high;
  return (
    <div className="chart-tooltip" data-testid="chart-tooltip" style={TOOLTIP_STYLE}>
      <strong>layer {String(label)}</strong>: gap {pct(row.gap_percent as number | null)}
      {typeof lo === 'number' && typeof hi === 'number' ? ` (95 % CI ${pct(lo)} … ${pct(hi)})` : ''}
    </div>
  );
}

function LanguageTooltip({ active, payload, label, styles }: { active?: boolean; payload?: readonly TooltipItem[]; label?: unknown; styles: Record<string, LanguageStyle> }) {
  if (!active || !payload?.length) return null;
  const rows = sortedTooltipRows(payload);
  return (
    <div className="chart-tooltip" data-testid="chart-tooltip" style={TOOLTIP_STYLE}>
      <strong>layer {String(label)}</strong>
      <table>
        <tbody>
          {rows.map((r) => (
            <tr key={r.code} data-code={r.code}>
              <td style={{ color: styles[r.code]?.textColor }}>{r.name}</td>
              <td className="num">{num(r.value)}</td>
              <td className="num">{r.ci ? `95 % CI ${num(r.ci[0])} … ${num(r.ci[1])}` : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Language codes at the ends of the lines, drawn in the chart's own SVG (so exports keep them):
 * at their line's last point, moved apart where they would overlap, a leader line tying a moved
 * label to its line. Positions come from the chart's scales. */
function EndLabels({ languages, rows, styles }: { languages: DisparitySummary['languages']; rows: Row[]; styles: Record<string, LanguageStyle> }) {
  const xScale = useXAxisScale();
  const yScale = useYAxisScale();
  const plot = usePlotArea();
  if (!xScale || !yScale || !plot) return null;
  const ends = languages.flatMap((l) => {
    for (let i = rows.length - 1; i >= 0; i--) {
      const v = rows[i][l.code];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const x = xScale(rows[i].layer, { position: 'middle' });
      const y = yScale(v);
      return x === undefined || y === undefined ? [] : [{ l, x, y }];
    }
    return [];
  });
  const out: ReactNode[] = [];
  for (const atX of new Set(ends.map((e) => e.x))) {
    const group = ends.filter((e) => e.x === atX);
    const placed = placeEndLabels(group.map((e) => e.y), 13, plot.y + 4, plot.y + plot.height + 4);
    group.forEach((e, k) => {
      const { y, leader } = placed[k];
      const style = styles[e.l.code];
      out.push(
        <g key={e.l.code} className="end-label" data-code={e.l.code} data-leader={leader ? 'true' : undefined}>
          {leader && <path d={`M${e.x + 3} ${e.y}L${e.x + 12} ${y - 4}h4`} fill="none" stroke={style.color} strokeWidth={0.8} />}
          <text x={e.x + (leader ? 18 : 8)} y={y} fill={style.textColor} fontSize={12} fontWeight={e.l.code === 'en' ? 700 : 600}>
            {e.l.code}
          </text>
        </g>,
      );
    });
  }
  return <g className="end-labels">{out}</g>;
}

/** One line per language across layers: a hue per language, the tier as the dash (solid: high,
 * dashed: medium/low); optional 95 % CI error bars. */
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
  return (
    <>
      <LineChart width={WIDTH} height={360} data={data} margin={{ top: 16, right: 72, bottom: 24, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -12 }} />
        <YAxis width={64} label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 4, style: { textAnchor: 'middle' } }} />
        <Tooltip content={<LanguageTooltip styles={styles} />} />
        {summary.languages.map((l) => (
          <Line
            key={l.code}
            dataKey={l.code}
            name={`${l.name} (${l.code})`}
            stroke={styles[l.code].color}
            strokeDasharray={styles[l.code].dash || undefined}
            strokeWidth={l.code === 'en' ? 2.5 : 1.75}
            dot={{ r: 3, fill: styles[l.code].color, strokeDasharray: '' }}
            isAnimationActive={false}
          >
            {showCi && errors && <ErrorBar dataKey={`${l.code}__err`} width={4} stroke={styles[l.code].color} isAnimationActive={false} />}
          </Line>
        ))}
        <EndLabels languages={summary.languages} rows={rows} styles={styles} />
      </LineChart>
      <LanguageLegend summary={summary} />
    </>
  );
}

export function LanguageLegend({ summary }: { summary: DisparitySummary }) {
  const styles = lineStyles(summary.languages);
  const tiers = TIER_ORDER.filter((t) => summary.languages.some((l) => l.tier === t));
  return (
    <ul className="legend">
      {tiers.map((t) => (
        <li key={t}>
          <strong>{TIER_LABELS[t]}:</strong>{' '}
          {summary.languages
            .filter((l) => l.tier === t)
            .map((l) => (
              <span key={l.code} className="legend-item" data-code={l.code}>
                <svg width="24" height="10" aria-hidden="true">
                  <line x1="0" y1="5" x2="24" y2="5" stroke={styles[l.code].color} strokeWidth="2" strokeDasharray={styles[l.code].dash || undefined} />
                </svg>{' '}
                <span style={{ color: styles[l.code].textColor }}>{l.name}</span>
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
      <Tooltip content={<GapTooltip />} />
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
  const styles = lineStyles(summary.languages);
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
          {/* The language's line sample (its hue, and its tier as the dash), as in the line charts. */}
          <line x1={4} x2={24} y1={top + rowH * i + rowH / 2} y2={top + rowH * i + rowH / 2} stroke={styles[String(r.language)]?.color} strokeWidth={2} strokeDasharray={styles[String(r.language)]?.dash || undefined} />
          <text x={left - 6} y={top + rowH * i + rowH / 2 + 4} fontSize={12} textAnchor="end" fill={styles[String(r.language)]?.textColor ?? '#111827'}>
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

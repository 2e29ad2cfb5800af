// A standalone SVG heatmap (rows x columns) with a diverging colour scale centred at 0, for files
// and reports written without a browser. Every cell is a <rect> with data-row, data-column and
// data-value, and a <title> that browsers show on hover; a legend draws the scale.
import { escapeXml, labelled, niceScale, svgOpen } from './bar-chart-svg';

export interface HeatmapRow {
  /** Stable id, written as data-row (e.g. a language code). */
  id: string;
  label: string;
  /** Longer name for tooltips; defaults to `label`. */
  name?: string;
  /** Written as data-group; with `color`, a marker left of the label (e.g. a tier). */
  group?: string;
  color?: string;
}

export interface HeatmapColumn {
  id: string;
  label: string;
}

export interface HeatmapOptions {
  title: string;
  desc?: string;
  rows: readonly HeatmapRow[];
  columns: readonly HeatmapColumn[];
  /** values[row][column]; null where undefined (a grey cell). */
  values: readonly (readonly (number | null)[])[];
  xLabel: string;
  /** The legend's caption, e.g. "deficit vs English (%)". */
  scaleLabel: string;
  /** What the two ends of the scale mean, printed under them. */
  negativeLabel?: string;
  positiveLabel?: string;
  /** The scale's half-width; defaults to a nice bound over |values|. */
  limit?: number;
  /** Cell text and tooltips; defaults to one decimal. */
  format?: (value: number) => string;
  /** Tooltip of a cell; defaults to "row name, xLabel column: value". */
  cellTitle?: (row: HeatmapRow, column: HeatmapColumn, value: number | null) => string;
  width?: number;
  /** Prefix of the element ids (the legend gradient): unique per document when several charts are inlined. */
  idPrefix?: string;
}

/** ColorBrewer RdBu (5 classes), from -1 (blue) through 0 (near white) to +1 (red). */
const DIVERGING: readonly [number, [number, number, number]][] = [
  [-1, [33, 102, 172]],
  [-0.5, [146, 197, 222]],
  [0, [247, 247, 247]],
  [0.5, [244, 165, 130]],
  [1, [178, 24, 43]],
];
const NULL_FILL = '#d1d5db';

/** The colour of t in [-1, 1] (clamped) on the diverging scale. */
export function divergingColor(t: number): string {
  const v = Math.max(-1, Math.min(1, t));
  let k = 0;
  while (k < DIVERGING.length - 2 && v > DIVERGING[k + 1][0]) k++;
  const [t0, c0] = DIVERGING[k];
  const [t1, c1] = DIVERGING[k + 1];
  const f = (v - t0) / (t1 - t0);
  return `#${c0.map((c, i) => Math.round(c + (c1[i] - c) * f).toString(16).padStart(2, '0')).join('')}`;
}

const CHAR_W = 7;

export function heatmapSvg(options: HeatmapOptions): string {
  const format = options.format ?? ((v: number) => v.toFixed(1));
  const { rows, columns, values } = options;
  const id = (options.idPrefix ?? 'heatmap').replace(/[^A-Za-z0-9_-]/g, '_');
  const finite = values.flat().filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const limit = options.limit ?? niceScale(Math.max(0, ...finite.map(Math.abs))).max;
  const labelW = Math.max(...rows.map((r) => r.label.length), 2) * CHAR_W;
  const margin = { top: 48, right: 24, bottom: 132, left: 32 + labelW };
  const cellH = 24;
  const minCellW = 16;
  const width = Math.max(options.width ?? 760, margin.left + margin.right + columns.length * minCellW);
  const plotW = width - margin.left - margin.right;
  const cellW = plotW / Math.max(columns.length, 1);
  const plotH = rows.length * cellH;
  const height = margin.top + plotH + margin.bottom;
  const px = (v: number) => v.toFixed(1);
  const showValues = cellW >= 34;
  const cellTitle =
    options.cellTitle ??
    ((row: HeatmapRow, column: HeatmapColumn, v: number | null) => `${row.name ?? row.label}, ${options.xLabel} ${column.label}: ${v === null ? 'n/a' : format(v)}`);

  const parts = svgOpen(width, height, options.title, options.desc, ` data-chart="heatmap" data-rows="${rows.length}" data-columns="${columns.length}"`);
  parts.push(
    '<defs>',
    `<linearGradient id="${id}-scale" x1="0" x2="1" y1="0" y2="0">`,
    ...DIVERGING.map(([t]) => `<stop offset="${(t + 1) / 2}" stop-color="${divergingColor(t)}"/>`),
    '</linearGradient>',
    '</defs>',
  );
  rows.forEach((row, r) => {
    const top = margin.top + r * cellH;
    if (row.color) parts.push(`<rect x="${margin.left - labelW - 24}" y="${top + 6}" width="8" height="${cellH - 12}" fill="${row.color}"/>`);
    parts.push(
      `<text x="${margin.left - 8}" y="${px(top + cellH / 2 + 4)}" text-anchor="end" font-size="12" fill="#111827">${escapeXml(row.label)}</text>`,
    );
    columns.forEach((column, c) => {
      const raw = values[r]?.[c];
      const v = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
      const left = margin.left + c * cellW;
      const t = v === null ? 0 : v / limit;
      parts.push(
        `<rect class="cell" data-row="${escapeXml(row.id)}" data-column="${escapeXml(column.id)}" data-value="${v ?? ''}"${row.group ? ` data-group="${escapeXml(row.group)}"` : ''} x="${px(left)}" y="${top}" width="${px(cellW)}" height="${cellH}" fill="${v === null ? NULL_FILL : divergingColor(t)}" stroke="#ffffff" stroke-width="1"><title>${escapeXml(cellTitle(row, column, v))}</title></rect>`,
      );
      if (showValues && v !== null) {
        parts.push(
          `<text x="${px(left + cellW / 2)}" y="${px(top + cellH / 2 + 4)}" text-anchor="middle" font-size="10" fill="${Math.abs(t) > 0.6 ? '#ffffff' : '#111827'}" pointer-events="none">${escapeXml(format(v))}</text>`,
        );
      }
    });
  });
  const every = Math.ceil((minCellW * 2) / cellW);
  columns.forEach((column, c) => {
    if (!labelled(c, columns.length, every)) return;
    parts.push(
      `<text x="${px(margin.left + (c + 0.5) * cellW)}" y="${margin.top + plotH + 16}" text-anchor="middle" font-size="11" fill="#374151">${escapeXml(column.label)}</text>`,
    );
  });
  parts.push(
    `<text x="${px(margin.left + plotW / 2)}" y="${margin.top + plotH + 36}" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.xLabel)}</text>`,
  );

  // The legend: the scale from -limit to +limit, its caption, the n/a swatch, what each end means
  // (on two lines where they would not fit side by side).
  const barW = Math.min(480, plotW);
  const barX = margin.left + (plotW - barW) / 2;
  const barY = margin.top + plotH + 60;
  const ends = [options.negativeLabel, options.positiveLabel].map((t) => (t ? `${t}  ` : ''));
  const stacked = (ends[0].length + ends[1].length) * 6.5 > barW;
  parts.push(
    `<g class="legend" data-limit="${limit}">`,
    `<text x="${px(barX + barW / 2)}" y="${barY - 6}" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(options.scaleLabel)}</text>`,
    `<rect x="${px(barX + barW - 34)}" y="${barY - 16}" width="10" height="10" fill="${NULL_FILL}"/>`,
    `<text x="${px(barX + barW)}" y="${barY - 7}" text-anchor="end" font-size="11" fill="#374151">n/a</text>`,
    `<rect x="${px(barX)}" y="${barY}" width="${barW}" height="12" fill="url(#${id}-scale)" stroke="#9ca3af" stroke-width="0.5"/>`,
  );
  for (const t of [-1, -0.5, 0, 0.5, 1]) {
    const tx = barX + ((t + 1) / 2) * barW;
    parts.push(
      `<line x1="${px(tx)}" x2="${px(tx)}" y1="${barY + 12}" y2="${barY + 16}" stroke="#6b7280"/>`,
      `<text x="${px(tx)}" y="${barY + 28}" text-anchor="middle" font-size="11" fill="#374151">${escapeXml(String(Number((t * limit).toPrecision(3))))}</text>`,
    );
  }
  if (options.negativeLabel) {
    parts.push(`<text x="${px(barX)}" y="${barY + 44}" font-size="11" fill="${divergingColor(-1)}">${escapeXml(`← ${options.negativeLabel}`)}</text>`);
  }
  if (options.positiveLabel) {
    parts.push(
      `<text x="${px(barX + barW)}" y="${barY + (stacked ? 58 : 44)}" text-anchor="end" font-size="11" fill="${divergingColor(1)}">${escapeXml(`${options.positiveLabel} →`)}</text>`,
    );
  }
  parts.push('</g>', '</svg>');
  return parts.join('\n');
}

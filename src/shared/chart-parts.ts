// Pieces of a chart drawn as SVG text, shared by the files the backend writes (src/main/analysis
// *-svg.ts) and the charts the renderer exports (components/export.ts), so both put the title and
// the legend inside the picture and place end labels the same way. Pure string building.

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Escapes element content (not attributes): only &, < and > need it there, and titles keep
 * their apostrophes and quotes as written. */
export function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

export interface LegendItem {
  label: string;
  color: string;
  /** Colour of the label's text (>= 4.5:1 on white); defaults to dark grey. */
  textColor?: string;
  dash?: string;
  emphasis?: boolean;
  /** A line sample (series) or a filled square (bars, cells). */
  kind?: 'line' | 'swatch';
}

/** A legend row: an optional heading, then its items (wrapped when the row is full). */
export interface LegendGroup {
  heading?: string;
  items: LegendItem[];
}

const CHAR_W = 7; // rough width of a 12px sans-serif character, for layout only
const BOLD_CHAR_W = 8;
export const LEGEND_ROW = 20;

/** Legend rows laid out left to right, wrapping at `maxWidth`; headings in a column of their own. */
export function layoutLegend(groups: readonly LegendGroup[], maxWidth: number) {
  const placed: { kind: 'heading' | 'item'; x: number; row: number; text: string; item?: LegendItem }[] = [];
  const indent = Math.max(0, ...groups.map((g) => (g.heading ? g.heading.length * BOLD_CHAR_W + 16 : 0)));
  let row = -1;
  for (const group of groups) {
    row++;
    let x = indent;
    if (group.heading) placed.push({ kind: 'heading', x: 0, row, text: group.heading });
    for (const item of group.items) {
      const w = 30 + item.label.length * CHAR_W + 16;
      if (x > indent && x + w > maxWidth) {
        row++;
        x = indent;
      }
      placed.push({ kind: 'item', x, row, text: item.label, item });
      x += w;
    }
  }
  return { placed, rows: row + 1 };
}

/** The legend as SVG elements in a <g class="legend">, its top-left at (left, top). */
export function legendSvg(groups: readonly LegendGroup[], left: number, top: number, maxWidth: number): { markup: string; height: number } {
  const layout = layoutLegend(groups, maxWidth);
  if (layout.rows === 0 || layout.placed.length === 0) return { markup: '', height: 0 };
  const parts = ['<g class="legend">'];
  for (const p of layout.placed) {
    const lx = left + p.x;
    const ly = top + p.row * LEGEND_ROW + 12;
    if (p.kind === 'heading') {
      parts.push(`<text x="${lx}" y="${ly}" font-size="12" font-weight="bold" fill="#374151">${escapeXml(p.text)}</text>`);
      continue;
    }
    const item = p.item!;
    parts.push(
      item.kind === 'swatch'
        ? `<rect x="${lx + 6}" y="${ly - 10}" width="12" height="12" fill="${item.color}" stroke="#6b7280" stroke-width="0.5"/>`
        : `<line x1="${lx}" x2="${lx + 24}" y1="${ly - 4}" y2="${ly - 4}" stroke="${item.color}" stroke-width="${item.emphasis ? 3.5 : 2}"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/>`,
      `<text class="legend-label" x="${lx + 30}" y="${ly}" font-size="12" fill="${item.textColor ?? '#374151'}">${escapeXml(item.label)}</text>`,
    );
  }
  parts.push('</g>');
  return { markup: parts.join('\n'), height: layout.rows * LEGEND_ROW + 4 };
}

/** Moves labels apart vertically so that none is closer than `gap` to the next, keeping them in
 * [top, bottom] and in the order of their anchors (a label never jumps over its neighbour's). */
export function spreadLabels(ys: readonly number[], gap: number, top: number, bottom: number): number[] {
  const order = ys.map((y, i) => ({ y, i })).sort((a, b) => a.y - b.y || a.i - b.i);
  for (let k = 1; k < order.length; k++) order[k].y = Math.max(order[k].y, order[k - 1].y + gap);
  const overflow = order.length ? order[order.length - 1].y - bottom : 0;
  if (overflow > 0) for (const o of order) o.y -= overflow;
  for (let k = order.length - 2; k >= 0; k--) order[k].y = Math.min(order[k].y, order[k + 1].y - gap);
  if (order.length && order[0].y < top) {
    const shift = top - order[0].y;
    for (const o of order) o.y += shift;
  }
  const out = new Array<number>(ys.length);
  for (const o of order) out[o.i] = o.y;
  return out;
}

export interface EndLabel {
  /** Where the label's baseline goes. */
  y: number;
  /** The label had to move off its line's end by more than `slack`: draw a leader line to it. */
  leader: boolean;
}

/** End labels for lines that end at `anchors` (pixel y of each line's last point): spread at
 * least `gap` apart within [top, bottom]; a label moved more than `slack` gets a leader line. The
 * baseline sits `baseline` below the anchor so the text's middle is at the line. */
export function placeEndLabels(anchors: readonly number[], gap: number, top: number, bottom: number, baseline = 4, slack = 2): EndLabel[] {
  const wanted = anchors.map((y) => y + baseline);
  return spreadLabels(wanted, gap, top, bottom).map((y, i) => ({ y, leader: Math.abs(y - wanted[i]) > slack }));
}

/** A chart's SVG (`inner`, a complete <svg> of width x height) framed as a standalone picture: a
 * white background, the title drawn on top, the legend drawn under it, and the title and
 * description as the file's <title>/<desc> (its accessible name where it is shown). */
export function framedSvg(
  inner: string,
  size: { width: number; height: number },
  meta: { title: string; description?: string; legend?: readonly LegendGroup[]; fontFamily?: string },
): { text: string; width: number; height: number } {
  const titleH = 32;
  const width = Math.max(Math.round(size.width), 320);
  const legend = legendSvg(meta.legend ?? [], 16, titleH + Math.round(size.height) + 8, width - 32);
  const height = titleH + Math.round(size.height) + (legend.height ? legend.height + 16 : 0);
  // The chart keeps its own coordinates inside a nested <svg> placed under the title.
  const placed = inner.replace(/^<svg\b/, `<svg x="0" y="${titleH}"`);
  const text = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${escapeXml(meta.fontFamily ?? 'DejaVu Sans, Arial, sans-serif')}" role="img">`,
    `<title>${escapeText(meta.title)}</title>`,
    ...(meta.description ? [`<desc>${escapeText(meta.description)}</desc>`] : []),
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="chart-title" x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold" fill="#1f2937">${escapeText(meta.title)}</text>`,
    placed,
    legend.markup,
    '</svg>',
  ]
    .filter(Boolean)
    .join('\n');
  return { text, width, height };
}

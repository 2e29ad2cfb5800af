// A standalone SVG scatter chart for files and reports written without a browser: one labelled
// point per item (a language, a sweep's grid point), optional interval whiskers on either axis,
// optional reference lines, a legend. Each point's data sits in data-* attributes.
import { escapeXml, legendSvg, type LegendGroup } from '../../shared/chart-parts';
import { formatTick, niceRange, rangeTicks, svgOpen } from './bar-chart-svg';

export interface ScatterPoint {
  /** Stable id, written as data-point (e.g. a language code). */
  id: string;
  /** Text beside the point. */
  label: string;
  x: number;
  y: number;
  color: string;
  /** Colour of the label (>= 4.5:1 on white); defaults to dark grey. */
  textColor?: string;
  xCi?: [number, number] | null;
  yCi?: [number, number] | null;
  /** Written as data-group (e.g. a tier). */
  group?: string;
}

export interface ScatterOptions {
  title: string;
  desc?: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  legend?: LegendGroup[];
  /** Dashed lines at these values (e.g. 0 % change, 100 % retention). */
  referenceX?: { value: number; label: string };
  referenceY?: { value: number; label: string };
  /** A line drawn across the plot, e.g. the least-squares fit. */
  line?: { slope: number; intercept: number; label: string };
  format?: (value: number) => string;
}

const CHAR_W = 7; // rough width of a 12px sans-serif character, for layout only
const defaultFormat = (v: number) => String(Number(v.toPrecision(4)));

interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Label boxes placed right of their points, else left, else nudged up or down: the first spot
 * inside `bounds` that overlaps no point, whisker or label placed before (points in order of x). */
function placeLabels(points: { x: number; y: number; w: number }[], obstacles: Box[], bounds: Box): { x: number; y: number; anchor: 'start' | 'end' }[] {
  const boxes = [...obstacles];
  const hit = (b: Box) => boxes.some((o) => b.x0 < o.x1 && b.x1 > o.x0 && b.y0 < o.y1 && b.y1 > o.y0);
  const inside = (b: Box) => b.x0 >= bounds.x0 && b.x1 <= bounds.x1 && b.y0 >= bounds.y0 && b.y1 <= bounds.y1;
  return points.map((p) => {
    let fallback: { x: number; y: number; anchor: 'start' | 'end' } | null = null;
    for (const dy of [0, -13, 13, -26, 26]) {
      for (const side of ['start', 'end'] as const) {
        const x0 = side === 'start' ? p.x + 7 : p.x - 7 - p.w;
        const box = { x0, x1: x0 + p.w, y0: p.y + dy - 9, y1: p.y + dy + 3 };
        const spot = { x: side === 'start' ? p.x + 7 : p.x - 7, y: p.y + dy + 4, anchor: side };
        if (!inside(box)) continue;
        fallback ??= spot;
        if (!hit(box)) {
          boxes.push(box);
          return spot;
        }
      }
    }
    return fallback ?? { x: p.x + 7, y: p.y + 4, anchor: 'start' };
  });
}

export function scatterSvg(points: readonly ScatterPoint[], options: ScatterOptions): string {
  const format = options.format ?? defaultFormat;
  const width = options.width ?? 640;
  const margin = { top: 48, right: 48, bottom: 56, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = (options.height ?? 420) - margin.top - margin.bottom;
  const legend = legendSvg(options.legend ?? [], margin.left, margin.top + plotH + margin.bottom, width - margin.left - 16);
  const height = margin.top + plotH + margin.bottom + legend.height;
  const finite = (v: number) => Number.isFinite(v);
  const xs = points.flatMap((p) => [p.x, ...(p.xCi ?? [])]).filter(finite);
  const ys = points.flatMap((p) => [p.y, ...(p.yCi ?? [])]).filter(finite);
  if (options.referenceX) xs.push(options.referenceX.value);
  if (options.referenceY) ys.push(options.referenceY.value);
  const rx = niceRange(Math.min(...xs), Math.max(...xs));
  const ry = niceRange(Math.min(...ys), Math.max(...ys));
  const X = (v: number) => margin.left + ((v - rx.min) / (rx.max - rx.min)) * plotW;
  const Y = (v: number) => margin.top + plotH - ((v - ry.min) / (ry.max - ry.min)) * plotH;
  const px = (v: number) => v.toFixed(1);

  const parts = svgOpen(width, height, options.title, options.desc, ` data-chart="scatter" data-point-count="${points.length}"`);
  for (const v of rangeTicks(ry)) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${px(Y(v))}" y2="${px(Y(v))}" stroke="#e5e7eb"/>`,
      `<text x="${margin.left - 8}" y="${px(Y(v) + 4)}" text-anchor="end" font-size="12" fill="#4b5563">${formatTick(v, ry.step)}</text>`,
    );
  }
  for (const v of rangeTicks(rx)) {
    parts.push(
      `<line x1="${px(X(v))}" x2="${px(X(v))}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#f3f4f6"/>`,
      `<text x="${px(X(v))}" y="${margin.top + plotH + 18}" text-anchor="middle" font-size="12" fill="#374151">${formatTick(v, rx.step)}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#6b7280"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#6b7280"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 40}" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.referenceX) {
    const x = px(X(options.referenceX.value));
    parts.push(
      `<line data-reference-x="${options.referenceX.value}" x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      // Left of the line when the label would run off the right edge.
      Number(x) + 4 + options.referenceX.label.length * 6 > width
        ? `<text x="${Number(x) - 4}" y="${margin.top + 12}" text-anchor="end" font-size="11" fill="#b91c1c">${escapeXml(options.referenceX.label)}</text>`
        : `<text x="${Number(x) + 4}" y="${margin.top + 12}" font-size="11" fill="#b91c1c">${escapeXml(options.referenceX.label)}</text>`,
    );
  }
  if (options.referenceY) {
    const y = px(Y(options.referenceY.value));
    parts.push(
      `<line data-reference-y="${options.referenceY.value}" x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + 6}" y="${Number(y) - 6}" font-size="11" fill="#b91c1c">${escapeXml(options.referenceY.label)}</text>`,
    );
  }
  if (options.line && finite(options.line.slope) && finite(options.line.intercept)) {
    // Clipped to the plot: the x range where the line's y stays inside the y axis.
    const { slope, intercept } = options.line;
    const at = (x: number) => slope * x + intercept;
    let [x0, x1] = [rx.min, rx.max];
    if (slope !== 0) {
      const [a, b] = [(ry.min - intercept) / slope, (ry.max - intercept) / slope].sort((p, q) => p - q);
      [x0, x1] = [Math.max(x0, a), Math.min(x1, b)];
    }
    if (x1 > x0) {
      parts.push(
        `<path class="fit" d="M${px(X(x0))} ${px(Y(at(x0)))}L${px(X(x1))} ${px(Y(at(x1)))}" stroke="#6b7280" stroke-width="1.2" stroke-dasharray="4 3" fill="none"><title>${escapeXml(options.line.label)}</title></path>`,
      );
    }
  }
  const drawn = points.filter((p) => finite(p.x) && finite(p.y));
  const order = drawn.map((_, i) => i).sort((a, b) => drawn[a].x - drawn[b].x || drawn[a].y - drawn[b].y);
  // Labels keep clear of every point and whisker, and inside the picture.
  const obstacles: Box[] = drawn.flatMap((p) => [
    { x0: X(p.x) - 4, x1: X(p.x) + 4, y0: Y(p.y) - 4, y1: Y(p.y) + 4 },
    ...(p.xCi && p.xCi.every(finite) ? [{ x0: X(p.xCi[0]), x1: X(p.xCi[1]), y0: Y(p.y) - 1, y1: Y(p.y) + 1 }] : []),
    ...(p.yCi && p.yCi.every(finite) ? [{ x0: X(p.x) - 1, x1: X(p.x) + 1, y0: Y(p.yCi[1]), y1: Y(p.yCi[0]) }] : []),
  ]);
  const bounds = { x0: 4, x1: width - 4, y0: margin.top - 8, y1: margin.top + plotH + 4 };
  const placed = placeLabels(order.map((i) => ({ x: X(drawn[i].x), y: Y(drawn[i].y), w: drawn[i].label.length * CHAR_W })), obstacles, bounds);
  order.forEach((i, k) => {
    const p = drawn[i];
    const [cx, cy] = [X(p.x), Y(p.y)];
    const attrs = [`data-point="${escapeXml(p.id)}"`, `data-x="${p.x}"`, `data-y="${p.y}"`, ...(p.group ? [`data-group="${escapeXml(p.group)}"`] : [])].join(' ');
    const tip = `${p.label}: ${options.xLabel} ${format(p.x)}${p.xCi ? ` (${format(p.xCi[0])} to ${format(p.xCi[1])})` : ''}, ${options.yLabel} ${format(p.y)}${p.yCi ? ` (${format(p.yCi[0])} to ${format(p.yCi[1])})` : ''}`;
    parts.push(`<g class="point" ${attrs}>`, `<title>${escapeXml(tip)}</title>`);
    if (p.xCi && p.xCi.every(finite)) parts.push(`<path class="ci" d="M${px(X(p.xCi[0]))} ${px(cy)}H${px(X(p.xCi[1]))}" stroke="${p.color}" stroke-width="1.2" fill="none"/>`);
    if (p.yCi && p.yCi.every(finite)) parts.push(`<path class="ci" d="M${px(cx)} ${px(Y(p.yCi[0]))}V${px(Y(p.yCi[1]))}" stroke="${p.color}" stroke-width="1.2" fill="none"/>`);
    parts.push(
      `<circle cx="${px(cx)}" cy="${px(cy)}" r="4" fill="${p.color}" stroke="#ffffff" stroke-width="1"/>`,
      `<text class="point-label" x="${px(placed[k].x)}" y="${px(placed[k].y)}" text-anchor="${placed[k].anchor}" font-size="12" fill="${p.textColor ?? '#374151'}">${escapeXml(p.label)}</text>`,
      '</g>',
    );
  });
  parts.push(legend.markup, '</svg>');
  return parts.join('\n');
}

// A standalone SVG line chart (numeric x, e.g. model layers) for files and reports written without a
// browser: one <g class="series"> per line with its data in data-* attributes, gaps where a value is
// null, optional confidence intervals (bands or whiskers), labels at the line ends, a legend.
import { escapeXml, legendSvg, placeEndLabels, type LegendGroup } from '../../shared/chart-parts';
import { formatTick, labelled, niceRange, rangeTicks, svgOpen } from './bar-chart-svg';

export type { LegendGroup, LegendItem } from '../../shared/chart-parts';

export interface LineSeries {
  /** Stable id, written as data-series (e.g. a language code). */
  id: string;
  /** Short text at the end of the line. */
  label: string;
  /** Longer name for tooltips; defaults to `label`. */
  name?: string;
  color: string;
  /** Colour of its end label (>= 4.5:1 on white); defaults to `color`. */
  textColor?: string;
  /** One value per x; null where undefined (the line breaks there). */
  values: readonly (number | null)[];
  /** Per-x interval, drawn as a band or whiskers (LineChartOptions.ci). */
  ci?: readonly ([number, number] | null)[];
  /** Written as data-group (e.g. a tier). */
  group?: string;
  /** Drawn thicker and on top: the reference line. */
  emphasis?: boolean;
  /** stroke-dasharray, to tell apart lines of similar colour. */
  dash?: string;
  /** Per-x note; where set, the point is ringed in red and the note joins its tooltip. */
  flags?: readonly (string | null)[];
}

export interface LineChartOptions {
  title: string;
  desc?: string;
  xLabel: string;
  yLabel: string;
  /** The x values (e.g. layer indices), one per value of every series. */
  x: readonly number[];
  width?: number;
  height?: number;
  ci?: 'band' | 'whiskers';
  /** Keep 0 inside the y axis. */
  includeZero?: boolean;
  referenceLine?: { value: number; label: string };
  legend?: LegendGroup[];
  /** How values read in tooltips; defaults to four significant digits. */
  format?: (value: number) => string;
}

const CHAR_W = 7; // rough width of a 12px DejaVu Sans character, for layout only

const defaultFormat = (v: number) => String(Number(v.toPrecision(4)));
const isNum = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Runs of consecutive indices where `ok` holds. */
function runs(n: number, ok: (i: number) => boolean): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) {
    if (ok(i)) {
      current.push(i);
    } else if (current.length) {
      out.push(current);
      current = [];
    }
  }
  if (current.length) out.push(current);
  return out;
}

export function lineChartSvg(series: readonly LineSeries[], options: LineChartOptions): string {
  const format = options.format ?? defaultFormat;
  const xs = options.x;
  const width = options.width ?? 760;
  const longestLabel = Math.max(0, ...series.map((s) => s.label.length));
  // Room right of the plot for end labels and, where labels had to move, their leader lines.
  const margin = { top: 48, right: 36 + longestLabel * CHAR_W, bottom: 56, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = (options.height ?? 420) - margin.top - margin.bottom;
  const legend = legendSvg(options.legend ?? [], margin.left, margin.top + plotH + margin.bottom, width - margin.left - 16);
  const height = margin.top + plotH + margin.bottom + legend.height;

  // Scales.
  const yValues: number[] = [];
  for (const s of series) {
    s.values.forEach((v) => isNum(v) && yValues.push(v));
    s.ci?.forEach((c) => c && yValues.push(...c.filter(isNum)));
  }
  if (options.includeZero) yValues.push(0);
  if (options.referenceLine) yValues.push(options.referenceLine.value);
  const range = niceRange(Math.min(...yValues), Math.max(...yValues));
  const y = (v: number) => margin.top + plotH - ((v - range.min) / (range.max - range.min)) * plotH;
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const pad = xs.length > 1 ? 12 : 0;
  const x = (v: number) =>
    xMax > xMin ? margin.left + pad + ((v - xMin) / (xMax - xMin)) * (plotW - 2 * pad) : margin.left + plotW / 2;
  const px = (v: number) => v.toFixed(1);

  const parts = svgOpen(width, height, options.title, options.desc, ` data-chart="line" data-series-count="${series.length}"`);
  for (const v of rangeTicks(range)) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${px(y(v))}" y2="${px(y(v))}" stroke="#e5e7eb"/>`,
      `<text x="${margin.left - 8}" y="${px(y(v) + 4)}" text-anchor="end" font-size="12" fill="#4b5563">${formatTick(v, range.step)}</text>`,
    );
  }
  const every = Math.ceil(xs.length / 25);
  xs.forEach((v, i) => {
    parts.push(`<line x1="${px(x(v))}" x2="${px(x(v))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 4}" stroke="#6b7280"/>`);
    if (!labelled(i, xs.length, every)) return;
    parts.push(
      `<text x="${px(x(v))}" y="${margin.top + plotH + 18}" text-anchor="middle" font-size="12" fill="#374151">${escapeXml(String(v))}</text>`,
    );
  });
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#6b7280"/>`,
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#6b7280"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 40}" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.referenceLine) {
    const ry = px(y(options.referenceLine.value));
    parts.push(
      `<line data-reference="${options.referenceLine.value}" x1="${margin.left}" x2="${margin.left + plotW}" y1="${ry}" y2="${ry}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + 6}" y="${px(Number(ry) - 6)}" font-size="11" fill="#dc2626">${escapeXml(options.referenceLine.label)}</text>`,
    );
  }

  // Series, the emphasised ones last so they sit on top.
  const ordered = [...series].sort((a, b) => Number(!!a.emphasis) - Number(!!b.emphasis));
  const ends: { s: LineSeries; x: number; y: number }[] = [];
  for (const s of ordered) {
    const name = s.name ?? s.label;
    const stroke = s.emphasis ? 3.5 : 1.8;
    const attrs = [
      `data-series="${escapeXml(s.id)}"`,
      ...(s.group ? [`data-group="${escapeXml(s.group)}"`] : []),
      ...(s.emphasis ? ['data-emphasis="true"'] : []),
      `data-values="${s.values.map((v) => (isNum(v) ? String(v) : '')).join(' ')}"`,
    ].join(' ');
    parts.push(`<g class="series" ${attrs}>`, `<title>${escapeXml(name)}</title>`);
    const ciRuns = s.ci ? runs(xs.length, (i) => !!s.ci![i] && s.ci![i]!.every(isNum)) : [];
    for (const run of ciRuns) {
      const [lo, hi] = [(i: number) => y(s.ci![i]![0]), (i: number) => y(s.ci![i]![1])];
      if (options.ci === 'band' && run.length > 1) {
        const points = [...run.map((i) => `${px(x(xs[i]))},${px(hi(i))}`), ...[...run].reverse().map((i) => `${px(x(xs[i]))},${px(lo(i))}`)];
        parts.push(`<polygon class="ci" points="${points.join(' ')}" fill="${s.color}" fill-opacity="0.12" stroke="none"/>`);
      } else {
        for (const i of run) {
          const cx = px(x(xs[i]));
          parts.push(
            `<path class="ci" d="M${cx} ${px(lo(i))}V${px(hi(i))}M${px(x(xs[i]) - 4)} ${px(lo(i))}h8M${px(x(xs[i]) - 4)} ${px(hi(i))}h8" stroke="${s.color}" stroke-width="1.2" fill="none"/>`,
          );
        }
      }
    }
    const d = runs(xs.length, (i) => isNum(s.values[i]))
      .map((run) => run.map((i, k) => `${k ? 'L' : 'M'}${px(x(xs[i]))} ${px(y(s.values[i]!))}`).join(''))
      .join('');
    if (d) {
      parts.push(
        `<path class="line" d="${d}" fill="none" stroke="${s.color}" stroke-width="${stroke}" stroke-linejoin="round" stroke-linecap="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
    }
    s.values.forEach((v, i) => {
      if (!isNum(v)) return;
      const c = s.ci?.[i];
      const flag = s.flags?.[i];
      const tip = `${name}, ${options.xLabel} ${xs[i]}: ${format(v)}${c ? ` (CI ${format(c[0])} to ${format(c[1])})` : ''}${flag ? ` — ${flag}` : ''}`;
      parts.push(
        `<circle data-x="${xs[i]}" data-value="${v}"${flag ? ' data-flag="true"' : ''} cx="${px(x(xs[i]))}" cy="${px(y(v))}" r="${s.emphasis ? 3.5 : 2.5}" fill="${s.color}"${flag ? ' stroke="#dc2626" stroke-width="2"' : ''}><title>${escapeXml(tip)}</title></circle>`,
      );
      if (flag) parts.push(`<circle cx="${px(x(xs[i]))}" cy="${px(y(v))}" r="7" fill="none" stroke="#dc2626" stroke-width="1.5"/>`);
    });
    parts.push('</g>');
    const last = s.values.reduce<number>((at, v, i) => (isNum(v) ? i : at), -1);
    if (last >= 0) ends.push({ s, x: x(xs[last]), y: y(s.values[last]!) });
  }

  // End labels, spread apart among those that end at the same x; one moved off its line's end is
  // tied to it by a leader line.
  for (const atX of new Set(ends.map((e) => e.x))) {
    const group = ends.filter((e) => e.x === atX);
    const labels = placeEndLabels(group.map((e) => e.y), 13, margin.top + 4, margin.top + plotH + 4);
    group.forEach((e, k) => {
      const { y: ly, leader } = labels[k];
      if (leader) {
        parts.push(
          `<path class="leader" data-series="${escapeXml(e.s.id)}" d="M${px(e.x + 3)} ${px(e.y)}L${px(e.x + 12)} ${px(ly - 4)}h4" fill="none" stroke="${e.s.color}" stroke-width="0.8"/>`,
        );
      }
      parts.push(
        `<text class="end-label" data-series="${escapeXml(e.s.id)}" x="${px(e.x + (leader ? 18 : 8))}" y="${px(ly)}" font-size="12"${e.s.emphasis ? ' font-weight="bold"' : ''} fill="${e.s.textColor ?? e.s.color}">${escapeXml(e.s.label)}</text>`,
      );
    });
  }

  parts.push(legend.markup);
  parts.push('</svg>');
  return parts.join('\n');
}

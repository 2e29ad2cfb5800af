// A standalone SVG bar chart for files and reports written without a browser (CLI, report export).
// The desktop UI draws its charts with recharts and exports that SVG instead.

export interface Bar {
  label: string;
  value: number;
  /** Fill colour, e.g. by tier. */
  color: string;
}

export interface BarChartOptions {
  title: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** A dashed horizontal reference line, e.g. parity 1.0. */
  referenceLine?: { value: number; label: string };
  legend?: { label: string; color: string }[];
}

// One escaper for every chart: the renderer's exports use it too.
export { escapeXml } from '../../shared/chart-parts';
import { escapeXml } from '../../shared/chart-parts';

/** The smallest step of 1, 2 or 5 times a power of ten that is at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
}

/** A "nice" axis maximum and step: 1, 2 or 5 times a power of ten. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 };
  const step = niceStep(max / ticks);
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

/** A "nice" axis range for values that may be negative: `min` and `max` are multiples of `step`. */
export function niceRange(lo: number, hi: number, ticks = 5): { min: number; max: number; step: number } {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { min: 0, max: 1, step: 0.2 };
  if (hi - lo <= 0) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    [lo, hi] = [lo - (lo === 0 ? 0 : pad), hi + pad];
  }
  const step = niceStep((hi - lo) / ticks);
  return { min: Math.floor(lo / step + 1e-9) * step, max: Math.ceil(hi / step - 1e-9) * step, step };
}

/** The tick values of a nice range, free of floating-point drift. */
export function rangeTicks({ min, max, step }: { min: number; max: number; step: number }): number[] {
  const out: number[] = [];
  for (let i = 0; min + i * step <= max + step / 2; i++) out.push(Number((min + i * step).toPrecision(12)));
  return out;
}

export function formatTick(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  const text = value.toFixed(decimals);
  return Number(text) === 0 ? (0).toFixed(decimals) : text;
}

/** Whether the i-th of n axis labels is drawn when only every `every`-th fits: the last one too, unless it would crowd its neighbour. */
export function labelled(i: number, n: number, every: number): boolean {
  return i % every === 0 || (i === n - 1 && i % every > every / 2);
}

/**
 * The opening of a standalone chart: the root element (role="img", its accessible name and
 * description as <title>/<desc>), a white background and the visible title. Close with '</svg>'.
 */
export function svgOpen(width: number, height: number, title: string, desc?: string, attributes = ''): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" role="img"${attributes}>`,
    `<title>${escapeXml(title)}</title>`,
    ...(desc ? [`<desc>${escapeXml(desc)}</desc>`] : []),
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold" fill="#1f2937">${escapeXml(title)}</text>`,
  ];
}

export function barChartSvg(bars: readonly Bar[], options: BarChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 420;
  const margin = { top: 48, right: 24, bottom: 64, left: 72 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const finite = bars.map((b) => (Number.isFinite(b.value) ? b.value : 0));
  const { max, step } = niceScale(Math.max(...finite, options.referenceLine?.value ?? 0, 0));
  const y = (v: number) => margin.top + plotH - (v / max) * plotH;
  const slot = plotW / Math.max(bars.length, 1);
  const barW = Math.min(56, slot * 0.7);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="26" text-anchor="middle" font-size="16" font-weight="bold" fill="#1f2937">${escapeXml(options.title)}</text>`,
  );
  for (let v = 0; v <= max + step / 2; v += step) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e7eb"/>`,
      `<text x="${margin.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="12" fill="#4b5563">${formatTick(v, step)}</text>`,
    );
  }
  parts.push(
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#374151">${escapeXml(options.yLabel)}</text>`,
  );
  bars.forEach((bar, i) => {
    const cx = margin.left + slot * (i + 0.5);
    const value = finite[i];
    const top = y(value);
    parts.push(
      `<rect data-label="${escapeXml(bar.label)}" x="${(cx - barW / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${barW.toFixed(1)}" height="${(margin.top + plotH - top).toFixed(1)}" fill="${bar.color}"><title>${escapeXml(`${bar.label}: ${bar.value}`)}</title></rect>`,
      `<text x="${cx.toFixed(1)}" y="${(top - 5).toFixed(1)}" text-anchor="middle" font-size="11" fill="#111827">${Number.isFinite(bar.value) ? bar.value.toFixed(2) : 'n/a'}</text>`,
      `<text x="${cx.toFixed(1)}" y="${margin.top + plotH + 18}" text-anchor="middle" font-size="12" fill="#111827">${escapeXml(bar.label)}</text>`,
    );
  });
  parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#6b7280"/>`);
  if (options.referenceLine) {
    const ry = y(options.referenceLine.value).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${ry}" y2="${ry}" stroke="#dc2626" stroke-dasharray="6 4"/>`,
      `<text x="${margin.left + plotW - 4}" y="${(Number(ry) - 6).toFixed(1)}" text-anchor="end" font-size="11" fill="#dc2626">${escapeXml(options.referenceLine.label)}</text>`,
    );
  }
  (options.legend ?? []).forEach((item, i) => {
    const lx = margin.left + i * 150;
    const ly = height - 18;
    parts.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${item.color}"/>`,
      `<text x="${lx + 18}" y="${ly}" font-size="12" fill="#374151">${escapeXml(item.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

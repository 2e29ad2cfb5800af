// Chart export from the DOM: the chart's own SVG, a PNG rendered from it, or its data as CSV.
import { framedSvg, type LegendGroup } from '../../../shared/chart-parts';
import { toCsv } from '../../../shared/csv';

export function download(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** What an exported chart says about itself: its title, the formulas and settings behind it, and
 * its legend (the screen shows the legend as HTML beside the chart; a file must carry it). */
export interface ChartMeta {
  title: string;
  description: string;
  legend?: LegendGroup[];
}

/** A standalone copy of the chart's <svg>: namespaced, white background, fonts set inline, and
 * (given `meta`) framed with its title drawn on top and its legend under it, the title and
 * formulas also as the file's own <title> and <desc>. */
export function standaloneSvg(container: HTMLElement, meta?: ChartMeta): { text: string; width: number; height: number } {
  const svg = container.querySelector('svg.recharts-surface') ?? container.querySelector('svg');
  if (!svg) throw new Error('no chart to export');
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  // Text colours set by the stylesheet (the app's contrast fixes) are written onto the copy, which
  // has no stylesheet, so the file reads as the screen does.
  const copies = clone.querySelectorAll('text');
  svg.querySelectorAll('text').forEach((text, i) => {
    const fill = getComputedStyle(text).fill;
    copies[i]?.setAttribute('fill', fill);
    copies[i]?.style.setProperty('fill', fill);
  });
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(Math.round(width)));
  clone.setAttribute('height', String(Math.round(height)));
  clone.setAttribute('font-family', getComputedStyle(container).fontFamily);
  const background = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
  background.setAttribute('width', '100%');
  background.setAttribute('height', '100%');
  background.setAttribute('fill', '#ffffff');
  clone.insertBefore(background, clone.firstChild);
  const text = new XMLSerializer().serializeToString(clone);
  if (!meta) return { text, width, height };
  return framedSvg(text, { width, height }, { ...meta, fontFamily: getComputedStyle(container).fontFamily });
}

export function exportSvg(container: HTMLElement, basename: string, meta?: ChartMeta): void {
  download(`${basename}.svg`, new Blob([standaloneSvg(container, meta).text], { type: 'image/svg+xml' }));
}

export async function exportPng(container: HTMLElement, basename: string, meta?: ChartMeta, scale = 2): Promise<void> {
  const { text, width, height } = standaloneSvg(container, meta);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const image = new Image();
    await new Promise<void>((resolve, reject) => {
      image.onload = () => resolve();
      image.onerror = () => reject(new Error('the chart could not be rendered to PNG'));
      image.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const context = canvas.getContext('2d')!;
    context.scale(scale, scale);
    context.drawImage(image, 0, 0, width, height);
    const blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
    download(`${basename}.png`, blob);
  } finally {
    URL.revokeObjectURL(url);
  }
}

export function exportCsv<T extends object>(rows: readonly T[], columns: readonly (keyof T & string)[], basename: string): void {
  download(`${basename}.csv`, new Blob([toCsv(rows, columns)], { type: 'text/csv' }));
}

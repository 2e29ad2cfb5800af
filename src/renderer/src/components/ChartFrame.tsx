import { useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import type { LegendGroup } from '../../../shared/chart-parts';
import { exportCsv, exportPng, exportSvg } from './export';

interface Props<T extends object> {
  title: string;
  /** File name without extension for exports. */
  basename: string;
  rows: readonly T[];
  columns: readonly (keyof T & string)[];
  /** The formula(s) behind the plotted numbers, shown under the chart. */
  formula: string;
  /** Drawn into the exported SVG and PNG under the chart (the screen's legend is HTML). */
  legend?: LegendGroup[];
  children: ReactNode;
}

/** recharts (3.x, accessibilityLayer on by default) draws its surface as `role="application"` with
 * `tabindex="0"` and no name: a screen reader switches to application mode on an unnamed stop whose
 * only keys move a hover tooltip. The figures' numbers are in the tables and CSV beside them, so
 * the surface is an image named by the chart's title, out of the Tab order. Applied again whenever
 * recharts re-renders or remounts its surface. */
function useNamedChartSurfaces(body: React.RefObject<HTMLDivElement | null>, title: string) {
  useLayoutEffect(() => {
    const element = body.current;
    if (!element) return;
    const fix = () => {
      for (const svg of element.querySelectorAll('svg.recharts-surface')) {
        if (svg.getAttribute('role') !== 'img') svg.setAttribute('role', 'img');
        if (svg.hasAttribute('tabindex')) svg.removeAttribute('tabindex');
        if (svg.getAttribute('aria-label') !== title) svg.setAttribute('aria-label', title);
      }
    };
    fix();
    // Only writes what differs, so its own changes settle after one pass.
    const observer = new MutationObserver(fix);
    observer.observe(element, { subtree: true, childList: true, attributes: true, attributeFilter: ['role', 'tabindex', 'aria-label'] });
    return () => observer.disconnect();
  }, [body, title]);
}

/** Whether the chart is wider than its frame (a chart of many languages has a fixed width per
 * language): the frame then scrolls sideways, and a scrollable region must be reachable and
 * scrollable from the keyboard, so it becomes a named tab stop (arrow keys scroll it). Measured
 * after each render and whenever the frame or the chart changes size. */
function useScrollsSideways(body: React.RefObject<HTMLDivElement | null>): boolean {
  const [scrolls, setScrolls] = useState(false);
  useLayoutEffect(() => {
    const element = body.current;
    if (!element) return;
    const measure = () => setScrolls(element.scrollWidth > element.clientWidth + 1);
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    for (const child of element.children) observer.observe(child);
    return () => observer.disconnect();
  });
  return scrolls;
}

/** A chart with its formula and PNG / SVG / CSV export buttons. */
export function ChartFrame<T extends object>({ title, basename, rows, columns, formula, legend, children }: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
  useNamedChartSurfaces(ref, title);
  const scrolls = useScrollsSideways(ref);
  const [error, setError] = useState<string | null>(null);
  const run = (action: () => void | Promise<void>) => {
    setError(null);
    Promise.resolve()
      .then(action)
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>
        <span>{title}</span>
        <span className="exports">
          <button type="button" onClick={() => run(() => exportPng(ref.current!, basename, { title, description: formula, legend }))}>PNG</button>
          <button type="button" onClick={() => run(() => exportSvg(ref.current!, basename, { title, description: formula, legend }))}>SVG</button>
          <button type="button" onClick={() => run(() => exportCsv(rows, columns, basename))}>CSV</button>
        </span>
      </figcaption>
      <div ref={ref} className="chart-body" {...(scrolls ? { tabIndex: 0, role: 'region', 'aria-label': `${title} (scrolls sideways)` } : {})}>
        {children}
      </div>
      <p className="formula">{formula}</p>
      {error && <p className="error" role="alert">{error}</p>}
    </figure>
  );
}

import { useRef, useState, type ReactNode } from 'react';
import { exportCsv, exportPng, exportSvg } from './export';

interface Props<T extends object> {
  title: string;
  /** File name without extension for exports. */
  basename: string;
  rows: readonly T[];
  columns: readonly (keyof T & string)[];
  /** The formula(s) behind the plotted numbers, shown under the chart. */
  formula: string;
  children: ReactNode;
}

/** A chart with its formula and PNG / SVG / CSV export buttons. */
export function ChartFrame<T extends object>({ title, basename, rows, columns, formula, children }: Props<T>) {
  const ref = useRef<HTMLDivElement>(null);
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
          <button type="button" onClick={() => run(() => exportPng(ref.current!, basename))}>PNG</button>
          <button type="button" onClick={() => run(() => exportSvg(ref.current!, basename, { title, description: formula }))}>SVG</button>
          <button type="button" onClick={() => run(() => exportCsv(rows, columns, basename))}>CSV</button>
        </span>
      </figcaption>
      <div ref={ref} className="chart-body">
        {children}
      </div>
      <p className="formula">{formula}</p>
      {error && <p className="error" role="alert">{error}</p>}
    </figure>
  );
}

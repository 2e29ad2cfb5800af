// One task's accuracy per language as grouped bars: before (pale, outlined) and, with an adapter,
// after (solid), in each language's colour, with ± one standard error as error bars.
import { Bar, BarChart, CartesianGrid, Cell, ErrorBar, Tooltip, XAxis, YAxis } from 'recharts';
import type { LegendGroup } from '../../../../shared/chart-parts';
import type { EvalTask } from '../../../../shared/eval';
import type { LanguageStyle } from '../../../../shared/palette';
import { ChartFrame } from '../../components/ChartFrame';
import { CHART_COLUMNS, type ChartRow, type Metric } from './results-data';

export const TASK_NAMES: Record<EvalTask, string> = { arc: 'ARC', hellaswag: 'HellaSwag', mmlu: 'MMLU', mc: 'multiple choice' };

const FORMULA: Record<Metric, string> = {
  acc: 'acc = mean over items of [argmax_i Σ log p(continuation_i | context) = gold]; error bars: ± stderr = sample std / √n',
  acc_norm: 'acc_norm = mean over items of [argmax_i (Σ log p(continuation_i | context)) / len_chars(choice_i) = gold]; error bars: ± stderr = sample std / √n',
};

export function EvalChart({ task, metric, rows, styles, adapted }: { task: EvalTask; metric: Metric; rows: ChartRow[]; styles: Map<string, LanguageStyle>; adapted: boolean }) {
  const color = (code: string) => styles.get(code)?.color ?? '#6b7280';
  const legend: LegendGroup[] = [
    { heading: 'language', items: rows.map((r) => ({ label: r.language, color: color(r.language), textColor: styles.get(r.language)?.textColor, kind: 'swatch' as const })) },
    ...(adapted ? [{ items: [{ label: 'pale: before (base model)', color: '#d1d5db', kind: 'swatch' as const }, { label: 'solid: after (with the adapter)', color: '#374151', kind: 'swatch' as const }] }] : []),
  ];
  const title = `${TASK_NAMES[task]}: ${metric} per language${adapted ? ', before and after' : ''} (%)`;
  return (
    <ChartFrame title={title} basename={`eval_${task}_${metric}`} rows={rows} columns={CHART_COLUMNS} formula={FORMULA[metric]} legend={legend}>
      <div data-testid={`eval-chart-${task}`} data-bars={rows.length * (adapted ? 2 : 1)}>
        <BarChart width={Math.max(360, 120 + rows.length * (adapted ? 110 : 70))} height={280} data={rows} margin={{ top: 8, right: 16, bottom: 20, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="language" label={{ value: 'language', position: 'insideBottom', offset: -10 }} />
          <YAxis width={48} domain={[0, 100]} unit="%" />
          <Tooltip formatter={(v) => (typeof v === 'number' ? `${v.toFixed(2)} %` : String(v))} />
          <Bar dataKey="before" name={adapted ? 'before' : metric} isAnimationActive={false}>
            {rows.map((r) => (
              <Cell key={r.language} fill={color(r.language)} fillOpacity={adapted ? 0.3 : 0.85} stroke={color(r.language)} strokeWidth={adapted ? 1.5 : 0} />
            ))}
            <ErrorBar dataKey="before_stderr" width={5} stroke="#111827" isAnimationActive={false} />
          </Bar>
          {adapted && (
            <Bar dataKey="after" name="after" isAnimationActive={false}>
              {rows.map((r) => (
                <Cell key={r.language} fill={color(r.language)} />
              ))}
              <ErrorBar dataKey="after_stderr" width={5} stroke="#111827" isAnimationActive={false} />
            </Bar>
          )}
        </BarChart>
        <ul className="legend">
          {rows.map((r) => (
            <li key={r.language} className="legend-item" style={{ color: styles.get(r.language)?.textColor }}>
              <span aria-hidden="true" className="swatch" style={{ background: color(r.language) }} /> {r.language} (n = {r.n})
            </li>
          ))}
          {adapted && <li className="legend-item">pale: before, solid: after</li>}
        </ul>
      </div>
    </ChartFrame>
  );
}

// A finished evaluation as the backend returned it: what was scored (preset, few-shot, items and how
// many came from the cache), the preset's note, per task a table by language (n, acc and acc_norm
// with their standard errors; with an adapter the scores after and the paired difference with its
// 95 % bootstrap interval) and its grouped bar chart, and the files read and written.
import { useState } from 'react';
import type { Tier } from '../../../../shared/dto';
import type { EvalResult, EvalTask } from '../../../../shared/eval';
import { languageStyles } from '../../../../shared/palette';
import { EvalChart, TASK_NAMES } from './EvalChart';
import { chartRows, languagesOf, tableRows, tasksOf, type Metric } from './results-data';

/** The examples each task was scored with, as the result states them. */
const shots = (r: EvalResult) => {
  const per = Object.entries(r.fewshotPerTask ?? {});
  return per.length ? `, ${per.map(([task, n]) => `${task} ${n}-shot`).join(', ')}` : '';
};

const sep = (dir: string) => (dir.includes('\\') && !dir.includes('/') ? '\\' : '/');

function TaskTable({ result, task, order }: { result: EvalResult; task: EvalTask; order: string[] }) {
  const rows = tableRows(result, task, order);
  const adapted = result.adapter !== null;
  return (
    <table className="eval-table" data-testid={`eval-table-${task}`}>
      <caption>
        {TASK_NAMES[task]} ({task}): accuracy in percent, ± standard error
        {adapted && '; Δ = after − before, paired over the same items, with its 95 % bootstrap interval'}
      </caption>
      <thead>
        <tr>
          <th scope="col">language</th>
          <th scope="col" className="num">n</th>
          <th scope="col" className="num">{adapted ? 'acc before' : 'acc'}</th>
          <th scope="col" className="num">{adapted ? 'acc_norm before' : 'acc_norm'}</th>
          {adapted && (
            <>
              <th scope="col" className="num">acc after</th>
              <th scope="col" className="num">Δ acc (95 % CI)</th>
              <th scope="col" className="num">acc_norm after</th>
              <th scope="col" className="num">Δ acc_norm (95 % CI)</th>
            </>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.language} data-task={task} data-language={r.language}>
            <th scope="row">{r.language}</th>
            <td className="num">{r.n}</td>
            <td className="num">{r.acc}</td>
            <td className="num">{r.acc_norm}</td>
            {r.after && (
              <>
                <td className="num">{r.after.acc}</td>
                <td className="num">{r.after.diff_acc}</td>
                <td className="num">{r.after.acc_norm}</td>
                <td className="num">{r.after.diff_acc_norm}</td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function EvaluateResults({ result, projectLanguages, tiers }: { result: EvalResult; projectLanguages: string[]; tiers: Record<string, Tier> }) {
  const [metric, setMetric] = useState<Metric>('acc');
  const order = languagesOf(result, projectLanguages);
  const styles = languageStyles(order.map((code) => ({ code, tier: tiers[code] ?? 'high' })));
  const adapted = result.adapter !== null;
  return (
    <section className="eval-results" aria-labelledby="eval-results-heading" data-testid="eval-results">
      <h3 id="eval-results-heading">Results</h3>
      <p data-testid="eval-summary">
        {result.preset}
        {shots(result)}: <span data-testid="eval-cache">{result.cache.items} items; of their scorings{adapted ? ' by the base and the adapted model' : ''}, {result.cache.scored} computed and {result.cache.cached} read from the cache</span>, in {result.seconds} s.
      </p>
      <p className="hint" data-testid="eval-preset-note">
        {result.presetNote}
      </p>
      <dl className="run-inputs">
        <div>
          <dt>Model</dt>
          <dd>
            <code>{result.model}</code>
          </dd>
        </div>
        <div>
          <dt>Adapter</dt>
          <dd>{result.adapter ? <code>{result.adapter}</code> : 'none'}</dd>
        </div>
        <div>
          <dt>Task data</dt>
          <dd>
            <code>{result.data}</code>
          </dd>
        </div>
      </dl>
      <fieldset className="eval-metric">
        <legend>Charted measure</legend>
        {(['acc', 'acc_norm'] as const).map((m) => (
          <label key={m}>
            <input type="radio" name="eval-metric" checked={metric === m} onChange={() => setMetric(m)} /> {m}
          </label>
        ))}
      </fieldset>
      {tasksOf(result).map((task) => (
        <div key={task} className="eval-task">
          <TaskTable result={result} task={task} order={order} />
          <EvalChart task={task} metric={metric} rows={chartRows(result, task, metric, order)} styles={styles} adapted={adapted} />
        </div>
      ))}
      <details className="eval-files">
        <summary>Files read ({result.files.length})</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">file</th>
              <th scope="col">format</th>
              <th scope="col">task</th>
              <th scope="col">language</th>
              <th scope="col">split</th>
              <th scope="col" className="num">rows</th>
            </tr>
          </thead>
          <tbody>
            {result.files.map((f) => (
              <tr key={f.path}>
                <td>
                  <code>{f.path}</code>
                </td>
                <td>{f.format}</td>
                <td>{f.task}</td>
                <td>{f.language}</td>
                <td>{f.split}</td>
                <td className="num">{f.rows}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      {result.outDir && (
        <ul className="files" data-testid="eval-out-files">
          <li>
            results: <code>{`${result.outDir}${sep(result.outDir)}results.json`}</code>
          </li>
          <li>
            items (one line per item, in lm-evaluation-harness's terms): <code>{`${result.outDir}${sep(result.outDir)}items.jsonl`}</code>
          </li>
        </ul>
      )}
    </section>
  );
}

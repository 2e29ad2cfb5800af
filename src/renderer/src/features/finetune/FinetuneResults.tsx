// A finished fine-tune: how it ended, the before/after on the held-out segments (activation gain per
// language, English retention and cosine, each with its bootstrap interval; mean activation and the
// gap per layer before and after, from the disparity analyses without and with the adapter), where
// its files are, and what to do with the adapter: measure with it, or export a merged model.
import { useState } from 'react';
import { CartesianGrid, Line, LineChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { DisparitySummary } from '../../../../shared/dto';
import type { FinetuneResult, Interval } from '../../../../shared/finetune';
import { languageStyles } from '../../../../shared/palette';
import { ChartFrame } from '../../components/ChartFrame';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { Progress } from '../../components/Progress';
import { api, errorMessage, withJobProgress } from '../../api';
import type { ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { wizard } from '../../state/wizard';
import { beforeAfterRows, gapBeforeAfter } from './results-data';

const fix = (v: number | null | undefined, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : 'n/a');
const ci = (c: Interval, digits = 2) => (c ? `${c[0].toFixed(digits)} … ${c[1].toFixed(digits)}` : 'none');
const sep = (dir: string) => (dir.includes('\\') && !dir.includes('/') ? '\\' : '/');

function MeanActivationBeforeAfter({ before, after }: { before: DisparitySummary; after: DisparitySummary }) {
  const { rows, columns } = beforeAfterRows(before, after);
  const styles = languageStyles(before.languages);
  return (
    <ChartFrame
      title="Mean activation per layer, before (dashed) and after (solid) the fine-tune"
      basename="finetune_mean_activation"
      rows={rows}
      columns={columns}
      formula={before.formulas.mean_activation ?? 'm(L, l) = mean over the held-out segments of a(L, s, l)'}
    >
      <div data-testid="before-after-chart">
        <LineChart width={700} height={300} data={rows} margin={{ top: 8, right: 16, bottom: 20, left: 4 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="layer" label={{ value: 'layer', position: 'insideBottom', offset: -10 }} />
          <YAxis width={64} />
          <Tooltip />
          {before.languages.flatMap((l) => [
            <Line key={`${l.code}_before`} dataKey={`${l.code}_before`} name={`${l.code} before`} stroke={styles.get(l.code)?.color} strokeDasharray="6 4" strokeWidth={1.5} dot={{ r: 2 }} isAnimationActive={false} />,
            <Line key={`${l.code}_after`} dataKey={`${l.code}_after`} name={`${l.code} after`} stroke={styles.get(l.code)?.color} strokeWidth={2} dot={{ r: 3 }} isAnimationActive={false} />,
          ])}
        </LineChart>
        <ul className="legend">
          {before.languages.map((l) => (
            <li key={l.code}>
              <span style={{ color: styles.get(l.code)?.textColor }}>{l.name}</span>: dashed before, solid after
            </li>
          ))}
        </ul>
      </div>
    </ChartFrame>
  );
}

function MergeExport({ model, adapter, outDir }: { model: string; adapter: string; outDir: string }) {
  const [out, setOut] = useState(`${outDir}${sep(outDir)}merged`);
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [written, setWritten] = useState<{ outDir: string; files: string[] } | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const run = async () => {
    const id = crypto.randomUUID();
    setJobId(id);
    setError(null);
    setWritten(null);
    try {
      setWritten(await withJobProgress(id, setProgress, () => api.model.merge({ model, adapter, out: out.trim(), jobId: id })));
    } catch (e) {
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    } finally {
      setJobId(null);
      setProgress(null);
    }
  };
  return (
    <div className="merge-export">
      <FolderField label="Merged model folder:" name="merged model folder" value={out} dialogTitle="Folder for the merged model" onChange={setOut} />
      <button type="button" disabled={jobId !== null || !out.trim()} onClick={() => void run()}>
        Export merged model
      </button>
      {jobId && <Progress label="merge progress" progress={progress} onCancel={() => void api.jobs.cancel({ jobId })} />}
      {written && (
        <p className="notice" role="status" data-testid="merged">
          Merged model (W + s·B·A in float32, stored in the base's dtype) written to <code>{written.outDir}</code> ({written.files.length} files).
        </p>
      )}
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
    </div>
  );
}

export function FinetuneResults({ result }: { result: FinetuneResult }) {
  const rep = result.report;
  const [measured, setMeasured] = useState(false);
  const { before, after } = result.analysis;
  const gapRows = gapBeforeAfter(before, after);
  const report = `${result.reportDir}${sep(result.reportDir)}report.html`;
  return (
    <section className="finetune-results" aria-labelledby="ft-results-heading" data-testid="finetune-results">
      <h3 id="ft-results-heading">Before and after</h3>
      <p data-testid="finetune-outcome" data-outcome={result.outcome}>
        <strong>{result.outcome}</strong>: {result.reason} ({result.steps} of {result.stepsPlanned} steps, {Math.round(result.seconds)} s). Measured on {rep.segments} held-out segments over the loss layers{' '}
        {rep.layers.join(', ')}; 95 % paired bootstrap intervals ({rep.bootstrap} resamples).
      </p>
      <table className="before-after" data-testid="gain-table">
        <caption>Held-out activation gain and English retention</caption>
        <thead>
          <tr>
            <th scope="col">measure</th>
            <th scope="col">value</th>
            <th scope="col">95 % CI</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(rep.gain_percent).map(([lang, g]) => (
            <tr key={lang} data-gain={lang}>
              <th scope="row">activation gain {lang} (%)</th>
              <td className="num">{fix(g.value)}</td>
              <td className="num">{ci(g.ci)}</td>
            </tr>
          ))}
          <tr data-testid="retention-row">
            <th scope="row">English retention (%)</th>
            <td className="num">{fix(rep.retention_percent.value)}</td>
            <td className="num">{ci(rep.retention_percent.ci)}</td>
          </tr>
          <tr data-testid="cosine-row">
            <th scope="row">English cosine (after vs before)</th>
            <td className="num">{fix(rep.retention_cosine.value, 4)}</td>
            <td className="num">{ci(rep.retention_cosine.ci, 4)}</td>
          </tr>
        </tbody>
      </table>
      <details className="formulas">
        <summary>How these are computed</summary>
        <dl>
          {Object.entries(rep.formulas).map(([k, v]) => (
            <div key={k}>
              <dt>
                <code>{k}</code>
              </dt>
              <dd>{v}</dd>
            </div>
          ))}
        </dl>
      </details>
      <MeanActivationBeforeAfter before={before} after={after} />
      <table className="before-after" data-testid="gap-table">
        <caption>Gap between the tiers per layer, before and after (%, 95 % CI)</caption>
        <thead>
          <tr>
            <th scope="col">layer</th>
            <th scope="col">before</th>
            <th scope="col">after</th>
          </tr>
        </thead>
        <tbody>
          {gapRows.map((g) => (
            <tr key={g.layer}>
              <td className="num">{g.layer}</td>
              <td className="num">
                {fix(g.before)} {g.before_ci && <span className="bound">({ci(g.before_ci)})</span>}
              </td>
              <td className="num">
                {fix(g.after)} {g.after_ci && <span className="bound">({ci(g.after_ci)})</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {(before.gap_reason ?? rep.gap_percent.reason) && <p className="hint">{before.gap_reason ?? rep.gap_percent.reason}</p>}
      <h4>Files</h4>
      <ul className="files" data-testid="finetune-files">
        <li>
          PEFT adapter: <code>{result.adapterDir}</code>
        </li>
        <li>
          report: <code>{report}</code>
        </li>
        <li>
          run folder (configuration, step log, checkpoints): <code>{result.outDir}</code>
        </li>
      </ul>
      <p>
        <button
          type="button"
          onClick={() => {
            wizard.set({ adapterPath: result.adapterDir });
            setMeasured(true);
          }}
        >
          Measure with this adapter
        </button>
      </p>
      {measured && (
        <p className="notice" role="status" data-testid="adapter-set">
          The Run step now applies this adapter to the model:{' '}
          <button type="button" className="link" onClick={() => wizard.set({ step: 'run' })}>
            run the analysis with it
          </button>
          .
        </p>
      )}
      <MergeExport model={result.config.model} adapter={result.adapterDir} outDir={result.outDir} />
    </section>
  );
}

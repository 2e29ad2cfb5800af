// Correlation of disparity with accuracy across languages (the study's question: do languages whose
// features fire less score worse?): the evaluation shown is paired with a stored analysis run by
// language in the backend (eval.correlate, the evaluation sent inline), per layer.
import { useCallback, useEffect, useState } from 'react';
import type { Tier } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { CORRELATION_MEASURES, type CorrelationMeasure, type CorrelationMetric, type CorrelationResult, type EvalResult, type EvalTask } from '../../../../shared/eval';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { ChoiceSetting } from '../../components/fields';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { analysisRuns, inlineEval, runLabel, type AnalysisRun } from './correlation-data';
import { CorrelationResults } from './CorrelationResults';
import { TASK_NAMES } from './EvalChart';
import { tasksOf } from './results-data';

const MEASURE_MEANING: Record<CorrelationMeasure, string> = {
  deficit: "how far below English a language's mean activation lies, in % of English's",
  gap: "how far below the high-resource tier's mean a language's mean activation lies, in %",
  mean_activation: "the language's mean SAE activation itself",
};
const MEASURE_OPTIONS = CORRELATION_MEASURES.map((m) => ({ value: m, label: m }));
const METRIC_OPTIONS = [
  { value: 'acc', label: 'acc' },
  { value: 'acc_norm', label: 'acc_norm' },
] as const;

export function CorrelationPanel({ result, tiers }: { result: EvalResult; tiers: Record<string, Tier> }) {
  const projectRun = useStore(wizard, (s) => s.runId);
  const [runs, setRuns] = useState<AnalysisRun[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [runId, setRunId] = useState<number | null>(null);
  const tasks = tasksOf(result);
  const [task, setTask] = useState<EvalTask>(tasks[0]);
  const [metric, setMetric] = useState<CorrelationMetric>('acc');
  const [measure, setMeasure] = useState<CorrelationMeasure>('deficit');
  const [model, setModel] = useState<'base' | 'adapted'>('base');
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<{ for: EvalResult; value: CorrelationResult } | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);

  const load = useCallback(() => {
    setListError(null);
    api.runs.list({}).then(
      (list) => {
        const usable = analysisRuns(list);
        setRuns(usable);
        // The project's own analysis first, else the newest; a choice still listed is kept.
        setRunId((id) => (id !== null && usable.some((r) => r.id === id) ? id : (usable.find((r) => r.id === projectRun) ?? usable[0])?.id ?? null));
      },
      (e: unknown) => setListError(errorMessage(e)),
    );
  }, [projectRun]);
  useEffect(load, [load]);

  const adapted = result.adapter !== null;
  const chosenTask = tasks.includes(task) ? task : tasks[0];
  const correlate = async () => {
    if (runId === null) return;
    setBusy(true);
    setError(null);
    try {
      const value = await api.eval.correlate({ analysis: { runId }, eval: { result: inlineEval(result) }, task: chosenTask, metric, measure, model: adapted ? model : 'base' });
      setAnswer({ for: result, value });
    } catch (e) {
      setAnswer(null);
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="correlation-panel" aria-labelledby="correlation-heading" data-testid="correlation-panel">
      <h3 id="correlation-heading">Disparity against accuracy</h3>
      <p className="hint">
        Pairs this evaluation with a stored analysis by language: per layer, Pearson's r and Spearman's ρ of the measure against accuracy across the languages both hold, each with a
        95 % bootstrap interval over languages.
      </p>
      <fieldset className="eval-choices" disabled={busy}>
        <legend>What to correlate</legend>
        <div className="setting">
          <label>
            analysis run{' '}
            <select aria-label="analysis run" value={runId ?? ''} onChange={(e) => setRunId(e.target.value ? Number(e.target.value) : null)} disabled={!runs?.length}>
              {!runs?.length && <option value="">{runs ? 'none stored' : 'reading the run history…'}</option>}
              {runs?.map((r) => (
                <option key={r.id} value={r.id}>
                  {runLabel(r)}
                </option>
              ))}
            </select>
          </label>{' '}
          <button type="button" onClick={load}>
            Refresh the list
          </button>
          <span className="setting-meaning">{runs && !runs.length ? 'no stored analysis: run one in the Run step, then refresh' : 'a finished analysis from the run history (its per-layer mean activation per language)'}</span>
        </div>
        <ChoiceSetting<EvalTask> label="correlated task" value={chosenTask} options={tasks.map((t) => ({ value: t, label: `${TASK_NAMES[t]} (${t})` }))} meaning="the benchmark whose per-language accuracy is correlated" fallback={tasks[0]} commit={setTask} />
        <ChoiceSetting<CorrelationMetric> label="accuracy metric" value={metric} options={METRIC_OPTIONS} meaning="acc, or acc_norm (log-likelihood divided by the choice's length in characters)" fallback="acc" commit={setMetric} />
        <ChoiceSetting<CorrelationMeasure> label="disparity measure" value={measure} options={MEASURE_OPTIONS} meaning={MEASURE_MEANING[measure]} fallback="deficit" commit={setMeasure} />
        {adapted && (
          <ChoiceSetting<'base' | 'adapted'>
            label="whose accuracy"
            value={model}
            options={[
              { value: 'base', label: 'the base model (before)' },
              { value: 'adapted', label: 'with the adapter (after)' },
            ]}
            meaning="the evaluation scored both; the analysis run's activations are those it was run with"
            fallback="the base model"
            commit={setModel}
          />
        )}
      </fieldset>
      <p>
        <button type="button" className="primary" disabled={busy || runId === null} onClick={() => void correlate()}>
          {busy ? 'Correlating…' : 'Correlate'}
        </button>
      </p>
      <ErrorMessage error={listError} />
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {answer && answer.for === result && <CorrelationResults result={answer.value} tiers={tiers} />}
    </section>
  );
}

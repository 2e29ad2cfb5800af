// The run history: every finished analysis, evaluation, fine-tune and sweep, newest first, each
// labelled with its kind. Open one (an analysis's stored summary in the Results step, another
// kind's stored result below the list; nothing recomputed), rename, delete, or tick two analyses
// and compare them.
import { useEffect, useState } from 'react';
import type { AnalysisRunRecord, EvaluationRunRecord, FinetuneRunRecord, RunListItem, SweepRunRecord } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { panel } from '../../state/panel';
import { requestOfRun } from '../../state/project-state';
import { wizard } from '../../state/wizard';
import { RunCompare } from './RunCompare';
import { RunView } from './RunView';
import { compareRefusal, digestLine, kindLabel } from './run-figures';

const when = (iso: string) => new Date(iso).toLocaleString();

export function RunsPanel() {
  const [list, setList] = useState<RunListItem[] | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [compared, setCompared] = useState<[AnalysisRunRecord, AnalysisRunRecord] | null>(null);
  const [viewed, setViewed] = useState<EvaluationRunRecord | FinetuneRunRecord | SweepRunRecord | null>(null);
  const [renaming, setRenaming] = useState<{ id: number; name: string } | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);

  const act = async (f: () => Promise<unknown>, refresh = true) => {
    setError(null);
    try {
      await f();
    } catch (e) {
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    }
    if (!refresh) return;
    try {
      const runs = await api.runs.list({});
      setList(runs);
      setPicked((p) => p.filter((id) => runs.some((r) => r.id === id)));
    } catch (e) {
      setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    }
  };
  useEffect(() => void act(async () => undefined), []);

  const open = (id: number) =>
    act(async () => {
      const run = await api.runs.get({ id });
      if (run.kind !== 'analysis') {
        setCompared(null);
        setViewed(run);
        return;
      }
      wizard.set({ summary: run.summary, request: requestOfRun(run), runId: run.id, step: 'results' });
      panel.set({ open: null });
    }, false);
  const compare = () =>
    act(async () => {
      const [a, b] = await Promise.all(picked.map((id) => api.runs.get({ id })));
      // The boxes of other kinds are disabled; a run replaced since it was ticked is refused here.
      for (const r of [a, b]) if (r.kind !== 'analysis') throw new Error(`"${r.name}" is ${r.kind === 'evaluation' ? 'an' : 'a'} ${kindLabel(r.kind)}: only analyses can be compared`);
      setViewed(null);
      setCompared([a as AnalysisRunRecord, b as AnalysisRunRecord]);
    }, false);
  const toggle = (id: number, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id].slice(-2) : p.filter((x) => x !== id)));

  return (
    <section className="panel runs-panel" aria-label="Run history">
      <h2>Run history</h2>
      <p className="hint">
        Every finished analysis, evaluation, fine-tune and sweep is stored with its request, the fingerprints of its inputs, its result and its timing. Opening a run shows its stored results;
        nothing is recomputed. Only analyses can be compared.
      </p>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {list && list.length === 0 && <p className="hint">No runs yet: run an analysis in the Run step, or an evaluation, fine-tune or sweep.</p>}
      {list && list.length > 0 && (
        <>
          <table className="runs">
            <thead>
              <tr>
                <th scope="col">Compare</th>
                <th scope="col">Kind</th>
                <th scope="col">Name</th>
                <th scope="col">Finished</th>
                <th scope="col">Languages</th>
                <th scope="col">Figures</th>
                <th scope="col">Time</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => {
                const refusal = compareRefusal(r);
                return (
                  <tr key={r.id} data-run={r.id} data-kind={r.kind}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`compare ${r.name}`}
                        aria-describedby={refusal && r.kind !== 'analysis' ? `compare-refusal-${r.id}` : undefined}
                        title={refusal ?? undefined}
                        disabled={refusal !== null}
                        checked={picked.includes(r.id)}
                        onChange={(e) => toggle(r.id, e.target.checked)}
                      />
                      {refusal && r.kind !== 'analysis' && (
                        <span className="hint" id={`compare-refusal-${r.id}`} data-testid="compare-refusal">
                          {' '}
                          analyses only
                        </span>
                      )}
                    </td>
                    <td className="run-kind">{kindLabel(r.kind)}</td>
                    <td>
                      {renaming?.id === r.id ? (
                        <form
                          onSubmit={(e) => {
                            e.preventDefault();
                            const name = renaming.name.trim();
                            if (name) void act(() => api.runs.rename({ id: r.id, name })).then(() => setRenaming(null));
                          }}
                        >
                          <input aria-label={`new name for ${r.name}`} value={renaming.name} maxLength={200} autoFocus onChange={(e) => setRenaming({ id: r.id, name: e.target.value })} />{' '}
                          <button type="submit">Save name</button>
                        </form>
                      ) : (
                        <span className="run-name">{r.name}</span>
                      )}
                      {r.problem && (
                        <p className="error" data-code="RUN_CORRUPT">
                          {r.problem}
                        </p>
                      )}
                    </td>
                    <td>{when(r.finishedAt)}</td>
                    <td>{r.languages.join(', ')}</td>
                    <td className="run-digest" data-reduction={r.kind === 'analysis' ? r.settings.reduction : undefined}>
                      {digestLine(r)}
                    </td>
                    <td className="num">{r.seconds.toFixed(1)} s</td>
                    <td className="actions">
                      <button type="button" disabled={!!r.problem} onClick={() => void open(r.id)}>
                        Open
                      </button>{' '}
                      <button type="button" onClick={() => setRenaming({ id: r.id, name: r.name })}>
                        Rename
                      </button>{' '}
                      <button
                        type="button"
                        onClick={() => {
                          if (!confirm(`Delete the run "${r.name}"? Its stored results are removed.`)) return;
                          if (viewed?.id === r.id) setViewed(null);
                          void act(() => api.runs.delete({ id: r.id }));
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p>
            <button type="button" disabled={picked.length !== 2} onClick={() => void compare()}>
              Compare the two ticked runs
            </button>{' '}
            <span className="hint">{picked.length}/2 analyses ticked</span>
          </p>
        </>
      )}
      {compared && <RunCompare a={compared[0]} b={compared[1]} />}
      {viewed && <RunView run={viewed} onClose={() => setViewed(null)} />}
    </section>
  );
}

// The run history: every finished analysis, newest first. Open one (its stored summary in the
// Results step, nothing recomputed), rename, delete, or tick two and compare them.
import { useEffect, useState } from 'react';
import type { RunListItem, RunRecord } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { panel } from '../../state/panel';
import { requestOfRun } from '../../state/project-state';
import { wizard } from '../../state/wizard';
import { RunCompare } from './RunCompare';

const when = (iso: string) => new Date(iso).toLocaleString();
const gap = (r: RunListItem) => (r.gapRange ? `${r.gapRange[0].toFixed(1)} … ${r.gapRange[1].toFixed(1)} %` : '—');

export function RunsPanel() {
  const [list, setList] = useState<RunListItem[] | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [compared, setCompared] = useState<[RunRecord, RunRecord] | null>(null);
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
      wizard.set({ summary: run.summary, request: requestOfRun(run), runId: run.id, step: 'results' });
      panel.set({ open: null });
    }, false);
  const compare = () =>
    act(async () => {
      const [a, b] = await Promise.all(picked.map((id) => api.runs.get({ id })));
      setCompared([a, b]);
    }, false);
  const toggle = (id: number, on: boolean) => setPicked((p) => (on ? [...p.filter((x) => x !== id), id].slice(-2) : p.filter((x) => x !== id)));

  return (
    <section className="panel runs-panel" aria-label="Run history">
      <h2>Run history</h2>
      <p className="hint">Every finished analysis is stored with its settings, the fingerprints of its model and SAEs, its summary and its timing. Opening a run shows its stored results; nothing is recomputed.</p>
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {list && list.length === 0 && <p className="hint">No runs yet: run an analysis in the Run step.</p>}
      {list && list.length > 0 && (
        <>
          <table className="runs">
            <thead>
              <tr>
                <th scope="col">Compare</th>
                <th scope="col">Name</th>
                <th scope="col">Finished</th>
                <th scope="col">Languages</th>
                <th scope="col">Layers</th>
                <th scope="col">Segments</th>
                <th scope="col">Reduction</th>
                <th scope="col">Gap range</th>
                <th scope="col">Time</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {list.map((r) => (
                <tr key={r.id} data-run={r.id}>
                  <td>
                    <input type="checkbox" aria-label={`compare ${r.name}`} disabled={!!r.problem} checked={picked.includes(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} />
                  </td>
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
                  <td>{r.layers.length}</td>
                  <td className="num">{r.segments}</td>
                  <td>{r.settings.reduction}</td>
                  <td className="num">{gap(r)}</td>
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
                        if (confirm(`Delete the run "${r.name}"? Its stored results are removed.`)) void act(() => api.runs.delete({ id: r.id }));
                      }}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            <button type="button" disabled={picked.length !== 2} onClick={() => void compare()}>
              Compare the two ticked runs
            </button>{' '}
            <span className="hint">{picked.length}/2 ticked</span>
          </p>
        </>
      )}
      {compared && <RunCompare a={compared[0]} b={compared[1]} />}
    </section>
  );
}

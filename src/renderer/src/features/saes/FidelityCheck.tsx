// How well each chosen SAE reconstructs each chosen language, before the full run: the analysis
// on the first few aligned UDHR segments (bootstrap and top features off), shown as explained
// variance per layer and language with the warnings of the Results step. Its rows land in the
// activation cache under the Run step's extraction settings, so the full run reuses them.
import { useEffect, useRef, useState } from 'react';
import type { DisparitySummary, ProgressEvent } from '../../../../shared/dto';
import { ApiError } from '../../../../shared/errors';
import { api, errorMessage, withJobProgress } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { Progress } from '../../components/Progress';
import { useStore } from '../../state/store';
import { chosenSaes, wizard } from '../../state/wizard';

const fmt = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? 'n/a' : v.toFixed(digits));

export function FidelityCheck() {
  const { modelPath, selected, saeChoice, runSettings } = useStore(wizard, (s) => s);
  const [segmentsText, setSegmentsText] = useState('3');
  const segments = Number(segmentsText);
  const [jobId, setJobId] = useState<string | null>(null);
  const running = useRef<string | null>(null);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [result, setResult] = useState<DisparitySummary | null>(null);
  const [error, setError] = useState<{ code?: string; message: string } | null>(null);
  const saes = chosenSaes({ saeChoice });
  const valid = Number.isInteger(segments) && segments >= 1 && segments <= 100;
  const inputs = JSON.stringify([modelPath, saes, selected, runSettings.includeBos, runSettings.keepFeatures]);
  const [resultFor, setResultFor] = useState<string | null>(null);

  // Leaving the step (or unticking every SAE) cancels a check still running, so it does not hold
  // the compute queue ahead of the real run.
  useEffect(
    () => () => {
      if (running.current) void api.jobs.cancel({ jobId: running.current }).catch(() => undefined);
    },
    [],
  );

  const check = async () => {
    const id = crypto.randomUUID();
    running.current = id;
    setJobId(id);
    setProgress(null);
    setError(null);
    setResult(null);
    const askedFor = inputs;
    try {
      const summary = await withJobProgress(id, setProgress, () => api.analysis.run({
        model: modelPath,
        saes,
        languages: selected.length ? selected : ['en'],
        corpus: 'udhr',
        limit: segments,
        settings: { includeBos: runSettings.includeBos, keepFeatures: runSettings.keepFeatures, bootstrap: 0, topFeatures: 0 },
        jobId: id,
      }));
      setResult(summary);
      setResultFor(askedFor);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'CANCELLED')) setError({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });
    } finally {
      running.current = null;
      setJobId(null);
    }
  };

  return (
    <div className="fidelity-check" data-testid="fidelity-check">
      <h3>Fidelity per language</h3>
      <p className="hint">
        How much of each language's residual stream the chosen SAEs explain, measured on the first aligned UDHR segments before the full
        run (its phrases are cached and reused by the run). A language reconstructed much worse than English has activations to read with
        care.
      </p>
      <p>
        <label>
          Segments:{' '}
          <input type="number" aria-label="fidelity segments" min={1} max={100} value={segmentsText} disabled={jobId !== null} onChange={(e) => setSegmentsText(e.target.value)} />
        </label>{' '}
        <button type="button" disabled={jobId !== null || !modelPath || saes.length === 0 || !valid} onClick={() => void check()}>
          Check fidelity
        </button>
        {!modelPath && <span className="hint"> (choose a model first)</span>}
      </p>
      {jobId && <Progress progress={progress} onCancel={() => void api.jobs.cancel({ jobId })} />}
      <ErrorMessage error={error?.message ?? null} code={error?.code} />
      {!valid && <p className="error" role="alert">Segments must be a whole number from 1 to 100.</p>}
      {result && resultFor === inputs && <FidelityTable summary={result} />}
      {result && resultFor !== inputs && !jobId && <p className="hint">The model, SAEs, languages or settings changed since the last check: check again.</p>}
    </div>
  );
}

function FidelityTable({ summary }: { summary: DisparitySummary }) {
  const warned = new Set(summary.fidelity_warnings.map((w) => `${w.language}|${w.layer}`));
  return (
    <>
      <table className="fidelity" aria-label="explained variance per layer and language" data-testid="fidelity-check-table">
        <thead>
          <tr>
            <th>Layer</th>
            {summary.languages.map((l) => (
              <th key={l.code}>{l.code}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {summary.layers.map((layer, i) => (
            <tr key={layer} data-layer={layer}>
              <td>{layer}</td>
              {summary.languages.map((l) => {
                const f = summary.fidelity[l.code];
                return (
                  <td
                    key={l.code}
                    className={warned.has(`${l.code}|${layer}`) ? 'num warn' : 'num'}
                    data-language={l.code}
                    data-warning={warned.has(`${l.code}|${layer}`) ? 'true' : undefined}
                    title={`EV ${fmt(f.explained_variance[i])}, NMSE ${fmt(f.nmse[i])}, L0 ${fmt(f.l0[i], 1)}, cosine ${fmt(f.cosine[i])}`}
                  >
                    {fmt(f.explained_variance[i])}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">
        Explained variance on {summary.segments} segments ({summary.formulas.explained_variance}); hover a cell for NMSE, L0 and cosine.{' '}
        {summary.fidelity_warnings.length === 0
          ? 'No language is reconstructed much worse than English.'
          : `${summary.fidelity_warnings.length} ${summary.fidelity_warnings.length === 1 ? 'warning' : 'warnings'} (highlighted): ${summary.fidelity_warnings.map((w) => `${w.language} at layer ${w.layer}`).join(', ')}.`}
      </p>
    </>
  );
}

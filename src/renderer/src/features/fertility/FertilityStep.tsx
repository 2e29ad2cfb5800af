import { useEffect, useState } from 'react';
import type { FertilityResult, FertilityRow, ModelInfo, ProgressEvent, TokenizerInfo } from '../../../../shared/dto';
import { api, errorMessage } from '../../api';
import { ChartFrame } from '../../components/ChartFrame';
import { focusIfLost } from '../../components/focus';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { Progress } from '../../components/Progress';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { FertilityChart, METRIC_LABELS, type FertilityMetric } from './FertilityChart';

const COLUMNS = [
  'language', 'name', 'tier', 'script', 'segments', 'words', 'characters', 'tokens',
  'tokens_per_word', 'tokens_per_char', 'tokens_per_segment', 'ratio_to_en',
  'tokenizer_origin', 'tokenizer_path', 'tokenizer_sha256',
] as const satisfies readonly (keyof CsvRow)[];

type CsvRow = FertilityRow & { tokenizer_origin: string; tokenizer_path: string; tokenizer_sha256: string };

/** Every exported row names the tokenizer its figures are for. */
function csvRows(result: FertilityResult): CsvRow[] {
  return result.rows.map((r) => ({
    ...r,
    tokenizer_origin: result.tokenizerOrigin,
    tokenizer_path: result.tokenizer.path,
    tokenizer_sha256: result.tokenizer.sha256,
  }));
}

/** Which tokenizer a run will measure: one named in the field, else the chosen model's own, else
 * the bundled Gemma tokenizer (the figures differ by tokenizer, so the model's is the default). */
type Plan =
  | { kind: 'tokenizer'; request: { tokenizer: string }; text: string }
  | { kind: 'model'; request: { model: string }; text: string }
  | { kind: 'bundled'; request: Record<string, never>; text: string }
  | { kind: 'checking'; text: string };

function tokenizerPlan(typed: string | undefined, modelPath: string, model: ModelInfo | null | undefined): Plan {
  if (typed) return { kind: 'tokenizer', request: { tokenizer: typed }, text: `the tokenizer in ${typed}` };
  if (!modelPath) return { kind: 'bundled', request: {}, text: 'the bundled Gemma tokenizer (no model chosen)' };
  if (model === undefined) return { kind: 'checking', text: "checking the chosen model's tokenizer…" };
  if (model?.tokenizer) return { kind: 'model', request: { model: model.path }, text: `the chosen model's own tokenizer, ${model.tokenizer}` };
  return { kind: 'bundled', request: {}, text: `the bundled Gemma tokenizer (the chosen model ${modelPath} has no tokenizer.json)` };
}

function fixed(value: number): string {
  return Number.isFinite(value) ? value.toFixed(3) : 'n/a';
}

export function FertilityStep() {
  const { selected, tokenizerPath, fertility: result, modelPath, model } = useStore(wizard, (s) => s);
  // The Model step keeps `model.inspect` of the chosen folder; if it was never visited (the demo
  // model preselected), the folder is inspected here. null: the inspection failed.
  const [inspected, setInspected] = useState<{ path: string; info: ModelInfo | null } | null>(null);
  const [metric, setMetric] = useState<FertilityMetric>('ratio_to_en');
  const [jobId, setJobId] = useState<string | null>(null);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tokenizer, setTokenizer] = useState<TokenizerInfo | null>(null);
  const [tokenizerError, setTokenizerError] = useState<string | null>(null);

  useEffect(() => {
    if (!jobId) return;
    return api.on('progress', (p) => p.jobId === jobId && setProgress(p));
  }, [jobId]);

  useEffect(() => {
    if (!modelPath || model) return;
    let live = true;
    api.model.inspect({ path: modelPath }).then(
      (info) => live && setInspected({ path: modelPath, info }),
      () => live && setInspected({ path: modelPath, info: null }),
    );
    return () => {
      live = false;
    };
  }, [modelPath, model]);

  const path = tokenizerPath.trim() || undefined;
  const chosenModel = model ?? (inspected?.path === modelPath ? inspected.info : undefined);
  const plan = tokenizerPlan(path, modelPath, chosenModel);

  const inspect = async () => {
    setTokenizerError(null);
    setTokenizer(null);
    try {
      // The tokenizer a run would measure: the typed one, the model's own, or the bundled one.
      setTokenizer(await api.tokenizer.inspect({ path: plan.kind === 'tokenizer' ? plan.request.tokenizer : plan.kind === 'model' ? plan.request.model : undefined }));
    } catch (e) {
      setTokenizerError(errorMessage(e));
    }
  };

  const run = async () => {
    const id = crypto.randomUUID();
    setError(null);
    setProgress(null);
    setJobId(id);
    try {
      if (plan.kind === 'checking') return;
      const fertility = await api.fertility.run({ languages: selected, ...plan.request, jobId: id });
      wizard.set({ fertility });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setJobId(null);
    }
  };

  const cancel = () => jobId && void api.jobs.cancel({ jobId });

  return (
    <section>
      <h2>Tokenizer fertility</h2>
      <p className="hint">
        How many tokens the tokenizer spends on the same declaration text in each language. More tokens for the same content means the
        model sees the language in smaller pieces: an early, weight-free signal of disparity.
      </p>
      <div className="tokenizer">
        <FolderField
          label="Tokenizer folder (empty = the chosen model's own tokenizer, or the bundled Gemma tokenizer if it has none):"
          name="tokenizer path"
          value={tokenizerPath}
          placeholder={plan.kind === 'model' ? "the chosen model's tokenizer" : 'bundled:gemma'}
          dialogTitle="Choose a tokenizer folder (with tokenizer.json)"
          onChange={(value) => wizard.set({ tokenizerPath: value })}
        >
          <button type="button" onClick={() => void inspect()}>Inspect</button>
        </FolderField>
        {tokenizer && (
          <p className="tokenizer-info">
            {tokenizer.source}: {tokenizer.modelType}, vocabulary {tokenizer.vocabSize.toLocaleString()}
            {tokenizer.tokenizerClass ? `, ${tokenizer.tokenizerClass}` : ''}, sha256 {tokenizer.sha256.slice(0, 12)}
          </p>
        )}
        <ErrorMessage error={tokenizerError} />
        <p data-testid="tokenizer-plan" data-kind={plan.kind}>
          Measures {plan.text}.
        </p>
      </div>
      <p>
        <button type="button" className="primary" disabled={!!jobId || selected.length === 0 || plan.kind === 'checking'} onClick={() => void run()}>
          Run fertility ({selected.length} languages{selected.includes('en') ? '' : ' + en'})
        </button>
      </p>
      {jobId && <Progress label="fertility progress" progress={progress} onCancel={cancel} />}
      <ErrorMessage error={error} />
      {result && !jobId && (
        <div className="results" data-testid="fertility-results" role="region" aria-label="fertility results" tabIndex={-1} ref={focusIfLost}>
          <p className="hint">
            {result.rows.length} languages on {result.corpus.alignedSegments} aligned segments.{' '}
            {result.fromCache.length > 0 && <span data-testid="cache-note">Served from the cache: {result.fromCache.join(', ')}.</span>}
          </p>
          <p data-testid="fertility-tokenizer" data-origin={result.tokenizerOrigin}>
            Every figure is for {result.tokenizerLabel}.
          </p>
          <label>
            Metric:{' '}
            <select aria-label="metric" value={metric} onChange={(e) => setMetric(e.target.value as FertilityMetric)}>
              {(Object.keys(METRIC_LABELS) as FertilityMetric[]).map((m) => (
                <option key={m} value={m}>{METRIC_LABELS[m]}</option>
              ))}
            </select>
          </label>
          <ChartFrame
            title={`Tokenizer fertility: ${METRIC_LABELS[metric]}`}
            basename="fertility"
            rows={csvRows(result)}
            columns={COLUMNS}
            formula={`${metric} = ${result.formulas[metric]}; tokenizer sha256 ${result.tokenizer.sha256.slice(0, 12)}`}
          >
            <FertilityChart rows={result.rows} metric={metric} />
          </ChartFrame>
          <table className="fertility">
            <thead>
              <tr>
                <th>Language</th><th>Tier</th><th>Words</th><th>Characters</th><th>Tokens</th>
                <th>Tokens/word</th><th>Tokens/char</th><th>Tokens/segment</th><th>Ratio to en</th>
              </tr>
            </thead>
            <tbody>
              {result.rows.map((r) => (
                <tr key={r.language} data-code={r.language}>
                  <td>{r.name} <code>{r.language}</code></td>
                  <td>{r.tier}</td>
                  <td>{r.words}</td>
                  <td>{r.characters}</td>
                  <td>{r.tokens}</td>
                  <td>{fixed(r.tokens_per_word)}</td>
                  <td>{fixed(r.tokens_per_char)}</td>
                  <td>{fixed(r.tokens_per_segment)}</td>
                  <td>{fixed(r.ratio_to_en)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <details>
            <summary>Formulas and settings</summary>
            <dl>
              {Object.entries(result.formulas).map(([k, v]) => (
                <div key={k}><dt><code>{k}</code></dt><dd>{v}</dd></div>
              ))}
            </dl>
          </details>
        </div>
      )}
    </section>
  );
}

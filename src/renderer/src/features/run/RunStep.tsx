import type { ReactNode } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { FormulaList } from '../../components/FormulaList';
import { Progress } from '../../components/Progress';
import { focusIfLost } from '../../components/focus';
import { useStore } from '../../state/store';
import { chosenSaes, wizard, type AnalysisRequest, type RunSettings } from '../../state/wizard';
import { cancelRun, job, startRun } from './job';
import { PhrasesOption, usePhrasesBeside, usePhrasesChoice } from './PhrasesOption';

/** What each setting means, before a run (the summary carries the backend's own formulas). */
export function previewFormulas(s: RunSettings): [name: string, formula: string][] {
  return [
    [
      'phrase_feature_activation',
      `a(L, s, l, f) = ${s.reduction} over the phrase's tokens (BOS ${s.includeBos ? 'included' : 'excluded'}) of the SAE activation of feature f at layer l on segment s in language L`,
    ],
    [
      'phrase_activation',
      s.features === 'english-active'
        ? 'a(L, s, l) = mean over f in F_en(s, l) of a(L, s, l, f); F_en(s, l) = features active (> 0) on the English version of segment s'
        : 'a(L, s, l) = (1 / d_sae) * sum over all features f of a(L, s, l, f)',
    ],
    ['mean_activation', 'm(L, l) = mean over aligned segments s of a(L, s, l)'],
    ['gap_percent', 'gap(l) = 100 * (M_high(l) - M_medium-low(l)) / M_high(l), M_tier(l) = mean over the tier\'s languages of m(L, l)'],
    ['deficit_vs_en', 'deficit(L, l) = 100 * (m(en, l) - m(L, l)) / m(en, l)'],
    [
      'confidence_interval',
      s.bootstrap > 0 ? `95 % percentile bootstrap over segments (${s.bootstrap} resamples, the same resample for every language)` : 'no bootstrap: no confidence intervals',
    ],
    [
      'top_features',
      `the features with the largest English minus medium/low-resource mean, from the ${s.keepFeatures} strongest features by mean and by max cached per phrase and layer (the figures above use exact sums over every feature)`,
    ],
  ];
}

function intOrNull(text: string): number | null {
  const n = Number.parseInt(text, 10);
  return Number.isFinite(n) ? n : null;
}

export function RunStep() {
  const { selected, modelPath, model, saeChoice, saesPath, runSettings: settings, summary, corpus, adapterPath } = useStore(wizard, (s) => s);
  const state = useStore(job, (s) => s);
  const saes = chosenSaes({ saeChoice });
  const languages = selected.length ? selected : ['en'];
  const withEn = languages.includes('en') ? languages : ['en', ...languages];
  const set = (patch: Partial<RunSettings>) => wizard.set((s) => ({ runSettings: { ...s.runSettings, ...patch } }));
  const running = state.jobId !== null;
  const ready = !!modelPath && saes.length > 0;
  const limitValid = settings.limit === null || (settings.limit >= 1 && settings.limit <= 1_000_000);
  const bootstrapValid = settings.bootstrap >= 0 && settings.bootstrap <= 100_000;
  const keepValid = settings.keepFeatures >= 1 && settings.keepFeatures <= 1 << 20;
  const phrases = usePhrasesChoice(usePhrasesBeside(corpus, languages));

  const run = () => {
    const { limit, ...rest } = settings;
    const request: AnalysisRequest = {
      model: modelPath,
      saes,
      languages,
      corpus,
      ...(limit !== null ? { limit } : {}),
      settings: rest,
      ...(adapterPath.trim() ? { adapter: adapterPath.trim() } : {}),
      ...(phrases.file && phrases.use ? { phrases: phrases.file } : {}),
    };
    void startRun(request);
  };

  const goto = (step: 'model' | 'saes' | 'languages' | 'phrases', label: ReactNode) => (
    <button type="button" className="link" onClick={() => wizard.set({ step })}>
      {label}
    </button>
  );

  return (
    <section>
      <h2>Run the analysis</h2>
      <p className="hint">
        Every aligned segment of the corpus runs through the model in each language; the chosen SAEs encode the residual stream at their layers.
        Finished batches are stored in the database as they complete, so a cancelled or interrupted run resumes where it stopped and a
        repeated run is read from the cache.
      </p>
      <dl className="run-inputs">
        <div>
          <dt>Model</dt>
          <dd data-testid="run-model">
            {model ? (
              <>
                <code>{modelPath}</code> ({model.architecture}, {model.layers} layers)
              </>
            ) : (
              <>none chosen: {goto('model', 'choose one in the Model step')}</>
            )}
          </dd>
        </div>
        <div>
          <dt>SAEs</dt>
          <dd data-testid="run-saes">
            {saes.length ? (
              <>
                {saes.length} {saes.length === 1 ? 'layer' : 'layers'} ({Object.entries(saeChoice).filter(([, v]) => v).map(([l]) => l).join(', ')}) from{' '}
                <code>{saesPath}</code>
              </>
            ) : (
              <>none chosen: {goto('saes', 'choose them in the SAEs step')}</>
            )}
          </dd>
        </div>
        <div>
          <dt>Languages</dt>
          <dd data-testid="run-languages">
            {withEn.join(', ')} ({withEn.length}; English is always the reference) {goto('languages', 'change')}
          </dd>
        </div>
        <div>
          <dt>Corpus</dt>
          <dd data-testid="run-corpus">
            {corpus === 'udhr' ? 'UDHR, aligned by article and paragraph' : <code>{corpus}</code>} {goto('phrases', 'change')}
          </dd>
        </div>
      </dl>
      <fieldset className="run-settings" disabled={running}>
        <legend>Settings</legend>
        <label>
          Reduction over a phrase's tokens:{' '}
          <select aria-label="reduction" value={settings.reduction} onChange={(e) => set({ reduction: e.target.value as RunSettings['reduction'] })}>
            <option value="mean">mean</option>
            <option value="max">max</option>
          </select>
        </label>
        <label>
          Features:{' '}
          <select aria-label="features" value={settings.features} onChange={(e) => set({ features: e.target.value as RunSettings['features'] })}>
            <option value="english-active">active on the English phrase</option>
            <option value="all">all features</option>
          </select>
        </label>
        <label>
          <input type="checkbox" aria-label="include BOS" checked={settings.includeBos} onChange={(e) => set({ includeBos: e.target.checked })} /> Count
          the BOS token
        </label>
        <label>
          Bootstrap resamples:{' '}
          <input
            type="number"
            aria-label="bootstrap resamples"
            min={0}
            max={100000}
            value={settings.bootstrap}
            onChange={(e) => set({ bootstrap: intOrNull(e.target.value) ?? 0 })}
          />
        </label>
        <label>
          Features kept per phrase and layer (top-feature lists):{' '}
          <input
            type="number"
            aria-label="features kept"
            min={1}
            max={1 << 20}
            value={settings.keepFeatures}
            onChange={(e) => set({ keepFeatures: intOrNull(e.target.value) ?? 0 })}
          />
        </label>
        <label>
          Segments (empty = all):{' '}
          <input
            type="number"
            aria-label="segment limit"
            min={1}
            placeholder="all"
            value={settings.limit ?? ''}
            onChange={(e) => set({ limit: intOrNull(e.target.value) })}
          />
        </label>
        {phrases.file && <PhrasesOption file={phrases.file} use={phrases.use} setUse={phrases.setUse} />}
      </fieldset>
      <FolderField
        label="LoRA adapter (optional, a PEFT folder applied to the model):"
        name="adapter path"
        value={adapterPath}
        placeholder="none: the base model"
        dialogTitle="A PEFT LoRA adapter folder"
        onChange={(v) => !running && wizard.set({ adapterPath: v })}
      />
      {!limitValid && <p className="error" role="alert">The segment limit must be between 1 and 1,000,000.</p>}
      {!bootstrapValid && <p className="error" role="alert">Bootstrap resamples must be between 0 and 100,000.</p>}
      {!keepValid && <p className="error" role="alert">Features kept must be between 1 and 1,048,576.</p>}
      <FormulaList title="What these settings compute" formulas={previewFormulas(settings)} open />
      <p>
        <button type="button" className="primary" disabled={running || !ready || !limitValid || !bootstrapValid || !keepValid} onClick={run}>
          Run analysis
        </button>
      </p>
      {running && state.reattached && (
        <p className="notice" data-testid="run-reattached">
          Following the run this page started before it was reloaded
          {state.request && ` (${state.request.languages.length} languages, ${state.request.saes.length} SAEs${state.request.limit ? `, limit ${state.request.limit}` : ''})`}: it
          kept running in the backend.
        </p>
      )}
      {running && <Progress label="analysis progress" progress={state.progress} onCancel={() => void cancelRun()} cancelling={state.cancelling} />}
      {!running && state.cancelled && (
        <p className="notice" role="status" data-testid="cancelled" data-focus="cancelled" tabIndex={-1} ref={focusIfLost}>
          Cancelled; cached batches are kept, running again resumes.
        </p>
      )}
      <ErrorMessage error={state.error?.message ?? null} code={state.error?.code} />
      {state.error?.code === 'WEIGHTS_INVALID' && <p className="hint">Choose other SAEs (or another model): {goto('saes', 'SAEs step')}</p>}
      {!running && summary && (
        <p className="hint">
          The last result ({summary.languages.length} languages, {summary.segments} segments, {summary.layers.length} layers) is on the{' '}
          <button type="button" className="link" onClick={() => wizard.set({ step: 'results' })}>
            Results step
          </button>
          .
        </p>
      )}
    </section>
  );
}

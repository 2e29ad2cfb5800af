// The study's sweeps: a grid of fine-tunes (α × adapted-layer sets × loss spaces) on the project's
// model, SAEs and languages, every point sharing the Fine-tune step's other settings, each point's
// adapter evaluated when data is given; run by the backend as one job (sweep.run), compared when done.
import { useId, useState } from 'react';
import type { EvalTask } from '../../../../shared/eval';
import { ErrorMessage } from '../../components/ErrorMessage';
import { ChoiceSetting, NumberSetting } from '../../components/fields';
import { FolderField } from '../../components/FolderField';
import { ProblemList } from '../../components/ProblemList';
import { Progress } from '../../components/Progress';
import { useTiers } from '../../components/tiers';
import { useStore } from '../../state/store';
import { chosenSaes, wizard } from '../../state/wizard';
import { cancelSweep, startSweep, sweep, sweepForm } from './sweep';
import { LOSS_SPACES, layerText, parseAlphas, parseError, parseLayerSets, sweepRequest, type SweepForm } from './sweep-request';
import { SweepComparison } from './SweepComparison';

const SPACE_MEANING: Record<(typeof LOSS_SPACES)[number], string> = {
  'sae-codes': 'the SAE feature activations (the study’s loss)',
  'sae-preacts': 'the SAE encoder’s pre-activations',
  residual: 'the residual stream itself',
};

const TASK_OPTIONS: readonly { value: SweepForm['task']; label: string }[] = [
  { value: 'all', label: 'every task the files hold' },
  { value: 'arc', label: 'ARC' },
  { value: 'hellaswag', label: 'HellaSwag' },
  { value: 'mmlu', label: 'MMLU' },
  { value: 'mc', label: 'generic multiple choice' },
];

/** The fine-tune's target languages as the Fine-tune step chooses them: its own choice, else the
 * project's medium/low-resource languages, else every one but English. */
function targetsOf(selected: readonly string[], chosen: readonly string[], tiers: Record<string, string>): string[] {
  const others = selected.filter((c) => c !== 'en');
  const kept = chosen.filter((c) => others.includes(c));
  if (kept.length) return kept;
  const low = others.filter((c) => tiers[c] === 'medium-low');
  return low.length ? low : others;
}

/** A grid list as typed: kept as text (what is sent is what the field shows), its parse error
 * beside it; the whole grid is checked when the sweep is started. */
function GridText(props: { label: string; text: string; placeholder: string; meaning: string; error: string | null; change(text: string): void }) {
  const id = useId();
  return (
    <div className="setting">
      <label>
        {props.label}{' '}
        <input aria-label={props.label} aria-invalid={props.error ? true : undefined} aria-describedby={props.error ? `${id} ${id}-error` : id} value={props.text} placeholder={props.placeholder} onChange={(e) => props.change(e.target.value)} />
      </label>
      <span className="setting-meaning" id={id}>
        {props.meaning}
      </span>
      {props.error && (
        <span className="setting-error" id={`${id}-error`}>
          {props.error}
        </span>
      )}
    </div>
  );
}

export function SweepPanel() {
  const w = useStore(wizard, (s) => s);
  const job = useStore(sweep, (s) => s);
  const form = useStore(sweepForm, (s) => s);
  const tiers = useTiers();
  const [problems, setProblems] = useState<string[]>([]);
  const set = (patch: Partial<SweepForm>) => sweepForm.set(patch);
  const running = job.jobId !== null;
  const saes = chosenSaes(w);
  const saeLayers = Object.entries(w.saeChoice)
    .filter(([, v]) => v)
    .map(([l]) => Number(l))
    .sort((a, b) => a - b);
  const targets = targetsOf(w.selected, w.finetune.targets, tiers);

  const start = () => {
    const made = sweepRequest(form, {
      model: w.modelPath,
      saes,
      saeLayers,
      numLayers: w.model?.layers ?? null,
      languages: ['en', ...targets],
      corpus: w.corpus,
      limit: w.finetune.limit,
      settings: w.finetune.settings,
    });
    if ('problems' in made) return setProblems(made.problems);
    setProblems([]);
    void startSweep(made.request);
  };
  const toggleSpace = (space: (typeof LOSS_SPACES)[number], on: boolean) => set({ spaces: LOSS_SPACES.filter((s) => (s === space ? on : form.spaces.includes(s))) });

  return (
    <section className="sweep-panel" aria-labelledby="sweep-heading" data-testid="sweep-panel">
      <h3 id="sweep-heading">Sweep: a grid of fine-tunes</h3>
      <p className="hint">
        Each grid point is a whole fine-tune of the project's model on English and {targets.join(', ') || 'no target language'} (the Fine-tune step's other settings, corpus and segment
        limit), measured on its held-out segments and, with evaluation data, benchmarked base against adapted. A sweep stopped midway resumes in the same folder with the same grid.
      </p>
      <fieldset className="eval-choices" disabled={running}>
        <legend>The grid</legend>
        <GridText
          label="α values"
          text={form.alphas}
          placeholder="e.g. 0.5, 1, 2"
          meaning="the loss's English-retention weight α, separated by commas; one point per value"
          error={parseError(parseAlphas(form.alphas))}
          change={(alphas) => set({ alphas })}
        />
        <GridText
          label="adapted-layer sets"
          text={form.layerSets}
          placeholder="e.g. 20 | 5,12 | 0-19"
          meaning={`sets separated by "|", each layers and ranges; a set's loss layers are its SAE layers (${layerText(saeLayers) || 'no SAEs chosen'})`}
          error={parseError(parseLayerSets(form.layerSets))}
          change={(layerSets) => set({ layerSets })}
        />
        <fieldset className="eval-languages">
          <legend>Loss spaces</legend>
          {LOSS_SPACES.map((space) => (
            <label key={space}>
              <input type="checkbox" checked={form.spaces.includes(space)} onChange={(e) => toggleSpace(space, e.target.checked)} /> {space}{' '}
              <span className="setting-meaning">({SPACE_MEANING[space]})</span>
            </label>
          ))}
        </fieldset>
        <NumberSetting
          label="training steps per point"
          value={form.steps}
          nullable
          integer
          placeholder="the Fine-tune step's"
          meaning="optimizer steps of every point's fine-tune; empty = the Fine-tune step's setting"
          fallback="the Fine-tune step's"
          commit={(v) => {
            if (v !== null && (v < 1 || v > 1_000_000)) return 'between 1 and 1,000,000, or empty';
            set({ steps: v });
            return null;
          }}
        />
      </fieldset>
      <fieldset className="eval-choices" disabled={running}>
        <legend>Evaluation of each point (optional)</legend>
        <FolderField label="Evaluation data (a file or a folder):" name="sweep evaluation data" value={form.evalData} placeholder="none: no benchmark per point" dialogTitle="Folder of benchmark files" onChange={(v) => set({ evalData: v })} />
        <ChoiceSetting<SweepForm['task']> label="sweep task" value={form.task} options={TASK_OPTIONS} meaning="the benchmark scored for each point" fallback="every task the files hold" commit={(task: 'all' | EvalTask) => set({ task })} />
        <NumberSetting
          label="sweep item limit"
          value={form.evalLimit}
          nullable
          integer
          placeholder="all"
          meaning="score only the first N items of each task and language; empty = all"
          fallback="all"
          commit={(v) => {
            if (v !== null && (v < 1 || v > 10_000_000)) return 'between 1 and 10,000,000, or empty for all';
            set({ evalLimit: v });
            return null;
          }}
        />
      </fieldset>
      <FolderField label="Sweep folder:" name="sweep folder" value={form.outDir} placeholder="a new or empty folder" dialogTitle="Folder for the sweep" onChange={(v) => !running && set({ outDir: v })} />
      <p className="hint">One run folder per point in it, then sweep.json, sweep.csv, sweep.html and the comparison charts.</p>
      <p>
        <button type="button" className="primary" disabled={running} onClick={start}>
          Run sweep
        </button>
      </p>
      <ProblemList problems={problems} testId="sweep-problems" />
      {running && <Progress label="sweep progress" progress={job.progress} onCancel={() => void cancelSweep()} cancelling={job.cancelling} />}
      {!running && <ErrorMessage error={job.error?.message ?? null} code={job.error?.code} />}
      {!running && job.cancelled && (
        <p className="notice" role="status">
          Cancelled; finished points and checkpoints are kept: run the same sweep again to go on from there.
        </p>
      )}
      {!running && job.note && (
        <p className="notice" role="status" data-testid="sweep-note">
          {job.note}
        </p>
      )}
      {!running && job.result && <SweepComparison result={job.result} />}
    </section>
  );
}

// Step 9, Evaluate: multiple-choice benchmarks (Okapi ARC, HellaSwag, MMLU, or a generic
// context/choices/gold file) scored on the project's model as lm-evaluation-harness scores them,
// without and with an adapter (the Fine-tune step's, or any PEFT folder). The evaluation runs in the
// backend (it goes on if this page is closed); the project keeps its job, so a reload shows it again.
// Below: the evaluation shown correlated with a stored analysis across languages, and sweeps of
// fine-tunes compared (the study's experiments).
import { useState } from 'react';
import type { ProjectEvaluateState } from '../../../../shared/dto';
import { ErrorMessage } from '../../components/ErrorMessage';
import { ChoiceSetting, NumberSetting } from '../../components/fields';
import { FolderField } from '../../components/FolderField';
import { ProblemList } from '../../components/ProblemList';
import { Progress } from '../../components/Progress';
import { useTiers } from '../../components/tiers';
import { useStore } from '../../state/store';
import { wizard } from '../../state/wizard';
import { CorrelationPanel } from './CorrelationPanel';
import { EvaluateResults } from './EvaluateResults';
import { cancelEvaluation, evaluation, startEvaluation } from './evaluation';
import { useFinetuneAdapter } from './finetune-adapter';
import { evalRequest } from './request';
import { SweepPanel } from './SweepPanel';
import './evaluate.css';

const TASK_OPTIONS = [
  { value: 'all', label: 'every task the files hold' },
  { value: 'arc', label: 'ARC (m_arc)' },
  { value: 'hellaswag', label: 'HellaSwag (m_hellaswag)' },
  { value: 'mmlu', label: 'MMLU (m_mmlu)' },
  { value: 'mc', label: 'generic multiple choice (context, choices, gold)' },
] as const;

const PRESET_OPTIONS = [
  { value: 'lm-eval-okapi', label: 'lm-eval Okapi' },
  { value: 'okapi-original', label: 'original Okapi' },
] as const;
type Preset = (typeof PRESET_OPTIONS)[number]['value'];

const PRESET_MEANING: Record<Preset, string> = {
  'lm-eval-okapi': "lm-evaluation-harness's arc_{lang}, hellaswag_{lang} and m_mmlu_{lang} tasks: MMLU scored on the letters A-D, context and choice tokenized together",
  'okapi-original': "the Okapi authors' evaluation: MMLU scored on the choice texts, documents shuffled and few-shot examples drawn as its evaluator draws them, context and choice tokenized apart",
};
const FEWSHOT_MEANING: Record<Preset, string> = {
  'lm-eval-okapi': "examples put before each question: the first N of the task's train split in the same language, joined by a blank line; empty = the preset's default",
  'okapi-original': "examples put before each ARC and MMLU question, drawn as the Okapi evaluator draws them (HellaSwag is always 0-shot); empty = the preset's default",
};
const FEWSHOT_DEFAULT: Record<Preset, string> = { 'lm-eval-okapi': '0', 'okapi-original': '25 for ARC and MMLU, 0 for HellaSwag' };

export function EvaluateStep() {
  const w = useStore(wizard, (s) => s);
  const ev = useStore(evaluation, (s) => s);
  const tiers = useTiers();
  const [problems, setProblems] = useState<string[]>([]);
  const state = w.evaluate;
  const set = (patch: Partial<ProjectEvaluateState>) => wizard.set((s) => ({ evaluate: { ...s.evaluate, ...patch } }));
  const running = ev.jobId !== null;
  const finetune = useFinetuneAdapter(w.finetune.outDir, w.finetune.jobId);

  const start = () => {
    const made = evalRequest(state, { model: w.modelPath, projectLanguages: w.selected, finetuneAdapter: finetune.adapterDir });
    if ('problems' in made) return setProblems(made.problems);
    setProblems([]);
    void startEvaluation(made.request);
  };
  const chosen = Array.isArray(state.languages) ? state.languages : w.selected;
  const toggleLanguage = (code: string, on: boolean) => {
    const next = w.selected.filter((c) => (c === code ? on : chosen.includes(c)));
    set({ languages: next });
  };

  return (
    <section className="evaluate-step" data-testid="evaluate-step">
      <h2>Evaluate</h2>
      <p className="hint">
        Multiple-choice benchmarks scored exactly as lm-evaluation-harness scores them: each choice's summed log-probability given the question (acc), and the same divided by the
        choice's length in characters (acc_norm). With an adapter the base and the adapted model score the same items, and the difference is paired item by item. Every item's
        scores are cached, so a stopped evaluation resumes and a repeated one is instant.
      </p>
      <dl className="run-inputs">
        <div>
          <dt>Model</dt>
          <dd>{w.modelPath ? <code>{w.modelPath}</code> : 'none chosen (Model step)'}</dd>
        </div>
      </dl>
      <fieldset className="eval-choices" disabled={running}>
        <legend>What to score</legend>
        <FolderField
          label="Task data (a file or a folder):"
          name="task data"
          value={state.data}
          placeholder="e.g. …/m_arc/data (data/{lang}/test.jsonl), a parquet file, or an Okapi JSON"
          dialogTitle="Folder of benchmark files"
          onChange={(v) => set({ data: v })}
        />
        <p className="hint">
          Read from the fields present: the alexandrainst JSONL layout (data/&#123;lang&#125;/&#123;train,val,test&#125;.jsonl), the Hugging Face parquet files of the same
          datasets, the original Okapi release JSON, or generic JSONL lines &#123;"context", "choices", "gold"&#125;. The language and split come from the path.
        </p>
        <ChoiceSetting
          label="task"
          value={state.task}
          options={TASK_OPTIONS}
          meaning="which benchmark's files to score; ARC and MMLU rows look alike, a folder named m_arc or m_mmlu (or this choice) tells them apart"
          fallback="every task the files hold"
          commit={(task) => set({ task })}
        />
        <fieldset className="eval-languages">
          <legend>Languages</legend>
          <label>
            <input type="radio" name="eval-languages" checked={state.languages === 'project'} onChange={() => set({ languages: 'project' })} /> the project's languages (
            {w.selected.join(', ') || 'none'})
          </label>
          <label>
            <input type="radio" name="eval-languages" checked={state.languages === 'files'} onChange={() => set({ languages: 'files' })} /> every language the files hold
          </label>
          <label>
            <input type="radio" name="eval-languages" checked={Array.isArray(state.languages)} onChange={() => set({ languages: [...w.selected] })} /> only these:
          </label>
          {Array.isArray(state.languages) && (
            <span className="eval-language-list">
              {w.selected.map((code) => (
                <label key={code}>
                  <input type="checkbox" checked={chosen.includes(code)} onChange={(e) => toggleLanguage(code, e.target.checked)} /> {code}
                </label>
              ))}
            </span>
          )}
          <span className="setting-meaning">a language asked for that the files lack is named, with the languages they hold</span>
        </fieldset>
        <ChoiceSetting
          label="preset"
          value={state.preset}
          options={PRESET_OPTIONS}
          meaning={PRESET_MEANING[state.preset]}
          fallback="lm-eval Okapi"
          commit={(preset) => set({ preset })}
        />
        <NumberSetting
          label="item limit"
          value={state.limit}
          nullable
          integer
          placeholder="all"
          meaning="score only the first N items of each task and language (the harness's --limit); empty = all"
          fallback="all"
          commit={(v) => {
            if (v !== null && (v < 1 || v > 10_000_000)) return 'between 1 and 10,000,000, or empty for all';
            set({ limit: v });
            return null;
          }}
        />
        <NumberSetting
          label="few-shot examples"
          value={state.fewshot}
          nullable
          integer
          placeholder="preset default"
          meaning={FEWSHOT_MEANING[state.preset]}
          fallback={FEWSHOT_DEFAULT[state.preset]}
          commit={(v) => {
            if (v !== null && (v < 0 || v > 100)) return 'between 0 and 100, or empty for the preset default';
            set({ fewshot: v });
            return null;
          }}
        />
      </fieldset>
      <fieldset className="eval-adapter" disabled={running}>
        <legend>Adapter</legend>
        <label>
          <input type="radio" name="eval-adapter" checked={state.adapter === 'none'} onChange={() => set({ adapter: 'none' })} /> none (the base model only)
        </label>
        <label>
          <input type="radio" name="eval-adapter" checked={state.adapter === 'finetune'} onChange={() => set({ adapter: 'finetune' })} /> the project's fine-tune:{' '}
          {finetune.adapterDir ? <code data-testid="finetune-adapter">{finetune.adapterDir}</code> : <span className="hint">{finetune.note}</span>}
        </label>
        <label>
          <input type="radio" name="eval-adapter" checked={state.adapter === 'path'} onChange={() => set({ adapter: 'path' })} /> another PEFT adapter folder
        </label>
        {state.adapter === 'path' && (
          <FolderField label="Adapter folder:" name="adapter folder" value={state.adapterPath} dialogTitle="PEFT LoRA adapter folder" onChange={(v) => set({ adapterPath: v })} />
        )}
        <span className="setting-meaning">with an adapter the base and the adapted model are both scored: before, after and the paired difference</span>
      </fieldset>
      <FolderField
        label="Output folder (optional):"
        name="output folder"
        value={state.outDir}
        placeholder="none: results shown here only"
        dialogTitle="Folder for results.json and items.jsonl"
        onChange={(v) => !running && set({ outDir: v })}
      />
      <p className="hint">A new or empty folder, or one an earlier evaluation wrote: results.json (per task and language) and items.jsonl (one line per item).</p>
      <p>
        <button type="button" className="primary" disabled={running} onClick={start}>
          Evaluate
        </button>
      </p>
      <ProblemList problems={problems} testId="evaluate-problems" />
      {running && (
        <div data-testid="evaluate-running">
          {ev.reattached && (
            <p className="notice" role="status" data-testid="evaluate-reattached">
              Following the evaluation that kept running in the backend.
            </p>
          )}
          <Progress label="evaluation progress" progress={ev.progress} onCancel={() => void cancelEvaluation()} cancelling={ev.cancelling} />
        </div>
      )}
      {!running && <ErrorMessage error={ev.error?.message ?? null} code={ev.error?.code} />}
      {!running && ev.cancelled && (
        <p className="notice" role="status">
          Cancelled; the items scored so far are cached: evaluate again to go on from there.
        </p>
      )}
      {!running && ev.note && (
        <p className="notice" role="status" data-testid="evaluate-note">
          {ev.note}
        </p>
      )}
      {!running && ev.result && <EvaluateResults result={ev.result} projectLanguages={w.selected} tiers={tiers} />}
      {!running && ev.result && <CorrelationPanel key={ev.shownJob ?? 'shown'} result={ev.result} tiers={tiers} />}
      <SweepPanel />
    </section>
  );
}

// Step 8, Fine-tune: activation-aware LoRA on the project's model and SAEs so that the target
// languages' SAE features fire like English on the same content while English stays put. The user
// picks the targets, the settings (each with its meaning and default) and a run folder; the monitor
// follows the run live and after a reload; the results compare before and after on held-out segments.
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../../components/ErrorMessage';
import { FolderField } from '../../components/FolderField';
import { ProblemList } from '../../components/ProblemList';
import { useTiers } from '../../components/tiers';
import { api } from '../../api';
import { project } from '../../state/project-sync';
import { useStore } from '../../state/store';
import { chosenSaes, wizard } from '../../state/wizard';
import { FinetuneResults } from './FinetuneResults';
import { Monitor } from './Monitor';
import { monitor, startFinetune } from './monitor';
import { defaultTargets, proposeRunFolder, requestProblems, settingsDiff, withDefaults, type FinetuneRequest } from './settings';
import { SettingsForm } from './SettingsForm';
import { NumberSetting } from '../../components/fields';
import './finetune.css';

async function proposal(): Promise<string | null> {
  try {
    const info = await api.app.info({});
    return proposeRunFolder(info.dbPath, project.get().name || 'project', new Date());
  } catch {
    return null;
  }
}

export function FinetuneStep() {
  const w = useStore(wizard, (s) => s);
  const m = useStore(monitor, (s) => s);
  const tiers = useTiers();
  const [problems, setProblems] = useState<string[]>([]);
  const ft = w.finetune;
  const setFt = (patch: Partial<typeof ft>) => wizard.set((s) => ({ finetune: { ...s.finetune, ...patch } }));

  // A run folder is proposed the first time the step opens in a project.
  useEffect(() => {
    if (wizard.get().finetune.outDir) return;
    void proposal().then((dir) => dir && !wizard.get().finetune.outDir && setFt({ outDir: dir }));
    // Once per visit: a folder chosen meanwhile is kept.
  }, []);

  const saes = chosenSaes(w);
  const candidates = w.selected.filter((c) => c !== 'en');
  const targets = ft.targets.length ? ft.targets.filter((c) => candidates.includes(c)) : defaultTargets(w.selected, tiers);
  const settings = withDefaults(ft.settings);
  const running = m.jobId !== null;
  const dir = ft.outDir.trim();
  const shown = m.dir === dir;
  const hasRun = shown && m.config !== null;
  const saeLayers = Object.entries(w.saeChoice)
    .filter(([, v]) => v)
    .map(([l]) => Number(l));

  const request = (): FinetuneRequest => ({
    model: w.modelPath,
    saes,
    languages: ['en', ...targets],
    corpus: w.corpus,
    ...(ft.limit !== null ? { limit: ft.limit } : {}),
    settings: settingsDiff(settings),
    outDir: dir,
  });
  const start = () => {
    const r = request();
    const found = requestProblems(r);
    if (!w.modelPath) found.unshift('choose a model in the Model step');
    if (saes.length === 0) found.unshift('choose SAEs in the SAEs step');
    if (targets.length === 0) found.unshift('choose at least one target language');
    setProblems(found);
    if (found.length) return;
    void startFinetune(r, { corpus: w.corpus, limit: ft.limit });
  };
  const toggle = (code: string, on: boolean) => setFt({ targets: candidates.filter((c) => (c === code ? on : targets.includes(c))) });

  return (
    <section className="finetune-step" data-testid="finetune-step">
      <h2>Fine-tune</h2>
      <p className="hint">
        Activation-aware LoRA fine-tuning: for aligned pairs of phrases, the loss pulls each target language's SAE feature activations towards English's on the same content,
        while a second term keeps English's activations where the frozen model had them. Training runs in the backend (it goes on if this page is closed), writes a step log and
        checkpoints to the run folder, and ends with a PEFT adapter and a before/after report on segments it never trained on.
      </p>
      <dl className="run-inputs">
        <div>
          <dt>Model</dt>
          <dd>{w.modelPath ? <code>{w.modelPath}</code> : 'none chosen (Model step)'}</dd>
        </div>
        <div>
          <dt>SAEs</dt>
          <dd>{saes.length ? `${saes.length} layers (${saeLayers.join(', ')})` : 'none chosen (SAEs step)'}</dd>
        </div>
        <div>
          <dt>Corpus</dt>
          <dd>{w.corpus === 'udhr' ? 'UDHR, aligned by article and paragraph' : <code>{w.corpus}</code>}</dd>
        </div>
      </dl>
      <fieldset className="targets" disabled={running}>
        <legend>Target languages (English is the reference)</legend>
        {candidates.length === 0 && <p className="hint">Choose languages besides English in the Languages step.</p>}
        {candidates.map((code) => (
          <label key={code}>
            <input type="checkbox" checked={targets.includes(code)} onChange={(e) => toggle(code, e.target.checked)} /> {code}
            {tiers[code] && <span className="tier"> ({tiers[code]})</span>}
          </label>
        ))}
        <span className="setting-meaning">default: the project's medium/low-resource languages</span>
      </fieldset>
      <NumberSetting
        label="fine-tune segment limit"
        value={ft.limit}
        nullable
        integer
        placeholder="all"
        disabled={running}
        meaning="use only the first N aligned segments (split into training and held-out ones); empty = all"
        fallback="all"
        commit={(v) => {
          if (v !== null && (v < 2 || v > 1_000_000)) return 'between 2 (one to train on, one held out) and 1,000,000';
          setFt({ limit: v });
          return null;
        }}
      />
      <FolderField label="Run folder:" name="run folder" value={ft.outDir} dialogTitle="Folder for the fine-tune run" onChange={(v) => !running && setFt({ outDir: v })}>
        <button type="button" disabled={running} onClick={() => void proposal().then((d) => d && setFt({ outDir: d }))}>
          New folder
        </button>
      </FolderField>
      <p className="hint" data-testid="folder-state">
        {running && shown
          ? 'A fine-tune is writing to this folder.'
          : hasRun
            ? `This folder holds a fine-tune run (${m.records.filter((r) => r.kind === 'step').length} steps logged): it is shown below; resume it from a checkpoint, or choose a new folder to start another.`
            : shown && m.folderNote && !/ENOENT|no such file/i.test(m.folderNote)
              ? `No fine-tune run could be read from this folder: ${m.folderNote}`
              : 'A new, empty folder: the run writes its configuration, step log, checkpoints, adapter and report there.'}
      </p>
      <details className="settings-panel" open={!hasRun}>
        <summary>Settings</summary>
        <SettingsForm
          settings={settings}
          onChange={(s) => setFt({ settings: settingsDiff(s) })}
          numLayers={w.model?.layers ?? null}
          saeLayers={saeLayers}
          disabled={running}
        />
      </details>
      <p>
        <button type="button" className="primary" disabled={running || hasRun || !dir} onClick={start}>
          Start fine-tune
        </button>
      </p>
      <ProblemList problems={problems} testId="finetune-problems" />
      {shown && m.error && <ErrorMessage error={m.error.message} code={m.error.code} />}
      {shown && m.cancelled && !running && (
        <p className="notice" role="status">
          Cancelled; the last checkpoint is kept: resume to continue.
        </p>
      )}
      {(shown || running) && <Monitor tiers={tiers} />}
      {shown && !running && m.result && <FinetuneResults result={m.result} />}
    </section>
  );
}

import { useEffect, useState } from 'react';
import type { AppInfo } from '../../shared/dto';
import { api } from './api';
import { EvaluateStep } from './features/evaluate/EvaluateStep';
import { FertilityStep } from './features/fertility/FertilityStep';
import { FinetuneStep } from './features/finetune/FinetuneStep';
import { LanguagesStep } from './features/languages/LanguagesStep';
import { PhrasesStep } from './features/phrases/PhrasesStep';
import { ModelStep } from './features/model/ModelStep';
import { ResultsStep } from './features/results/ResultsStep';
import { RunStep } from './features/run/RunStep';
import { SaesStep } from './features/saes/SaesStep';
import { JobsPanel } from './components/JobsPanel';
import { useBusySteps } from './components/jobs-store';
import { reattachRun } from './features/run/job';
import { ProjectBar } from './features/projects/ProjectBar';
import { ProjectsPanel } from './features/projects/ProjectsPanel';
import { RunsPanel } from './features/runs/RunsPanel';
import { panel } from './state/panel';
import { project, startProjects } from './state/project-sync';
import { useStepFocus } from './components/focus';
import { useStore } from './state/store';
import { STEPS, wizard, type StepId } from './state/wizard';

const VIEWS: Record<StepId, () => React.JSX.Element> = {
  languages: LanguagesStep,
  phrases: PhrasesStep,
  model: ModelStep,
  fertility: FertilityStep,
  saes: SaesStep,
  run: RunStep,
  results: ResultsStep,
  finetune: FinetuneStep,
  evaluate: EvaluateStep,
};

export function App() {
  const step = useStore(wizard, (s) => s.step);
  const stepView = useStepFocus(step);
  const [info, setInfo] = useState<AppInfo | null>(null);
  const openPanel = useStore(panel, (s) => s.open);
  // While a project opens its state is about to replace the wizard's: the steps (and moving
  // between them, the step is a saved choice too) take no input until it lands, so no early
  // choice is silently lost. The project bar and the panels stay usable.
  const opening = useStore(project, (s) => s.opening);
  // The last project (the bundled demo's on a fresh database) reopens where the user left it.
  useEffect(() => void startProjects(), []);
  const busy = useBusySteps();
  // A reload mid-run: the Run step's monitor follows the same backend job again.
  useEffect(() => void reattachRun(), []);
  useEffect(() => {
    api.app.info({}).then(setInfo, () => setInfo(null));
    // The app opens on the bundled demo project: its model, SAEs and the main job's settings are
    // preselected unless the user already chose a model.
    api.demo.info({}).then(
      (demo) => {
        if (!demo.ok || wizard.get().modelPath || wizard.get().modelChosenByUser) return;
        wizard.set((s) => ({
          modelPath: demo.model,
          saesPath: demo.saes,
          runSettings: { ...s.runSettings, ...demo.settings, limit: demo.limit },
        }));
      },
      () => undefined,
    );
  }, []);
  const View = VIEWS[step];
  const index = STEPS.findIndex((s) => s.id === step);
  return (
    <div className="app">
      <header>
        <h1>LinguaScope</h1>
        <nav aria-label="wizard steps" inert={opening}>
          <ol>
            {STEPS.map((s, i) => (
              <li key={s.id}>
                <button type="button" aria-current={s.id === step ? 'step' : undefined} onClick={() => wizard.set({ step: s.id })}>
                  {i + 1}. {s.label}
                  {busy.has(s.id) && (
                    <span className="step-busy" data-testid={`step-busy-${s.id}`} title="work running">
                      <span aria-hidden="true"> ●</span>
                      <span className="visually-hidden"> (work running)</span>
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ol>
        </nav>
        <ProjectBar />
        <JobsPanel />
      </header>
      <main>
        {openPanel === 'projects' && <ProjectsPanel />}
        {openPanel === 'runs' && <RunsPanel />}
        <div ref={stepView} inert={opening} aria-busy={opening} data-testid="wizard-step" className={opening ? 'wizard-opening' : undefined}>
          <View />
        </div>
        <div className="wizard-nav" inert={opening}>
          {index > 0 && <button type="button" onClick={() => wizard.set({ step: STEPS[index - 1].id })}>Back</button>}
          {index < STEPS.length - 1 && (
            <button type="button" className="primary" onClick={() => wizard.set({ step: STEPS[index + 1].id })}>
              Next: {STEPS[index + 1].label}
            </button>
          )}
        </div>
      </main>
      <footer>{info && `v${info.version} · ${info.corpusVersion} · ${info.runtime} · database ${info.dbPath}`}</footer>
    </div>
  );
}

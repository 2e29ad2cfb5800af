// Keeps the wizard and the open project in step: the app opens the last project (the bundled
// demo's on a fresh database), every change of a choice is saved (debounced) with the revision it
// was based on, and a save another window beat is answered CONFLICT: the other window's state is
// loaded and the user told. Opening a project reads what the steps would read on a visit (model
// and SAE headers, the stored run's summary), so any step can run at once.
import type { OpenedProject, ProjectStatus, Tier } from '../../../shared/dto';
import { ApiError } from '../../../shared/errors';
import { api, errorMessage } from '../api';
import { choicesOf, projectStateOf, requestOfRun, summarySha256, wizardOf } from './project-state';
import { createOpeningLock } from './opening-lock';
import { createStore } from './store';
import { wizard } from './wizard';

export interface ProjectSyncState {
  id: number | null;
  name: string;
  kind: 'user' | 'demo';
  revision: number;
  status: ProjectStatus | null;
  /** One line for the user: a conflict that was resolved, a run that is gone… */
  notice: string | null;
  error: { code?: string; message: string } | null;
  saving: boolean;
  /** A project is being opened: its state will replace the wizard's when it lands, so the wizard
   * is not editable meanwhile (App makes the steps inert and the bar says "opening project…"). */
  opening: boolean;
}

export const project = createStore<ProjectSyncState>({
  id: null,
  name: '',
  kind: 'user',
  revision: 0,
  status: null,
  notice: null,
  error: null,
  saving: false,
  // True from the first render: App calls startProjects in an effect, after that render, and an
  // edit made in between would be replaced by the project's state all the same.
  opening: true,
});

/** Runs an open with the wizard locked. Why lock rather than merge: apply() replaces every choice
 * with the project's, and an edit made before it lands was made on choices that were never the
 * project's (the initial ten languages, not the project's list), so keeping it would save a
 * change the user never saw applied to what they were editing; waiting is simple and loses nothing. */
const whileOpening = createOpeningLock((opening) => project.set({ opening }));

const SAVE_DELAY_MS = 250;
/** Set while a project's state is put into the wizard: those changes are not the user's. */
let applying = false;
let lastSaved = '';
let timer: ReturnType<typeof setTimeout> | null = null;
let inFlight: Promise<void> | null = null;

const failure = (e: unknown) => ({ code: e instanceof ApiError ? e.code : undefined, message: errorMessage(e) });

async function tiersNow(): Promise<Record<string, Tier>> {
  return Object.fromEntries((await api.languages.list({})).map((l) => [l.code, l.tier]));
}

/** Puts the project's tiers back in the registry where they differ (the registry is shared by all
 * projects; the project remembers its own). */
async function restoreTiers(tiers: Record<string, Tier>): Promise<void> {
  const now = await tiersNow();
  for (const [code, tier] of Object.entries(tiers)) {
    if (now[code] && now[code] !== tier) await api.languages.setTier({ code, tier }).catch(() => undefined);
  }
}

/** Reads what the steps need for the project's choices, each only if the choice is still the same
 * when the answer comes (the user may have picked another folder meanwhile). */
function hydrate(opened: OpenedProject): void {
  const { state } = opened.project;
  if (opened.status.model.state === 'ok') {
    api.model.inspect({ path: state.modelPath }).then(
      (model) => wizard.get().modelPath === state.modelPath && !wizard.get().model && wizard.set({ model }),
      () => undefined,
    );
  }
  if (opened.status.saes.state === 'ok') {
    api.sae.inspect({ path: state.saesPath }).then(
      (saes) => wizard.get().saesPath === state.saesPath && wizard.get().saes.length === 0 && wizard.set({ saes }),
      () => undefined,
    );
  }
  if (state.runId !== null) {
    const runId = state.runId;
    api.runs.get({ id: runId }).then(
      (run) => {
        if (wizard.get().runId !== runId) return;
        // The Results step shows analyses; a project naming a run of another kind (runs of other
        // kinds open in the Run history panel) reopens without results, and says so.
        if (run.kind !== 'analysis') {
          wizard.set({ runId: null });
          project.set({ notice: `The results this project showed are not an analysis (run ${runId} is a stored ${run.kind}); open it from the Run history.` });
          return;
        }
        if (!wizard.get().summary) wizard.set({ summary: run.summary, request: requestOfRun(run) });
      },
      (e: unknown) => {
        if (wizard.get().runId !== runId) return;
        wizard.set({ runId: null });
        project.set({ notice: `The results this project showed are no longer stored (${errorMessage(e)}).` });
      },
    );
  }
}

function apply(opened: OpenedProject, notice: string | null = null): void {
  const { project: p, status } = opened;
  applying = true;
  try {
    wizard.set(wizardOf(p.state));
  } finally {
    applying = false;
  }
  lastSaved = JSON.stringify(choicesOf(wizard.get()));
  project.set({ id: p.id, name: p.name, kind: p.kind, revision: p.revision, status, notice, error: null });
  void restoreTiers(p.state.tiers).catch(() => undefined);
  hydrate(opened);
}

export function openProject(id: number, notice: string | null = null): Promise<boolean> {
  return whileOpening(async () => {
    try {
      apply(await api.projects.open({ id }), notice);
      return true;
    } catch (e) {
      project.set({ error: failure(e) });
      return false;
    }
  });
}

/** The app's start: the project opened last; if that one cannot be opened (damaged, deleted by
 * another window), the bundled demo's, with the error shown. */
export function startProjects(): Promise<void> {
  // When no project can be opened the wizard is unlocked all the same (with the error shown): the
  // user can still work, unsaved, rather than face a wizard that never answers.
  return whileOpening(async () => {
    try {
      const last = await api.projects.last({});
      if (await openProject(last.id)) return;
      const error = project.get().error;
      const demo = (await api.projects.list({})).find((p) => p.kind === 'demo');
      if (demo && demo.id !== last.id && (await openProject(demo.id))) project.set({ error });
    } catch (e) {
      project.set({ error: failure(e) });
    }
  });
}

async function save(): Promise<void> {
  const { id, revision } = project.get();
  if (id === null) return;
  const choices = JSON.stringify(choicesOf(wizard.get()));
  if (choices === lastSaved) return;
  project.set({ saving: true });
  try {
    const state = projectStateOf(wizard.get(), await tiersNow());
    const saved = await api.projects.save({ id, revision, state });
    lastSaved = choices;
    project.set({ revision: saved.revision, error: null });
  } catch (e) {
    if (e instanceof ApiError && e.code === 'CONFLICT') {
      await openProject(id, 'This project was changed in another window: its latest state is shown (your last change here was not saved).');
    } else {
      project.set({ error: failure(e) });
    }
  } finally {
    project.set({ saving: false });
  }
}

/** Saves now (waiting for a save in flight first); returns when stored. */
export async function flushSave(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  while (inFlight) await inFlight;
  inFlight = save().finally(() => (inFlight = null));
  await inFlight;
}

function schedule(): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => void flushSave(), SAVE_DELAY_MS);
}

let lastSummary: unknown = null;

/** A new summary in the wizard that did not come from a stored run (a run just finished): find
 * its run in the history by the summary's hash, so the project reopens on it. */
async function linkSummary(summary: object): Promise<void> {
  const sha = await summarySha256(summary);
  const [run] = await api.runs.list({ summarySha256: sha, kind: 'analysis', limit: 1 });
  if (run && wizard.get().summary === summary) wizard.set({ runId: run.id });
}

wizard.subscribe(() => {
  const w = wizard.get();
  if (w.summary !== lastSummary) {
    lastSummary = w.summary;
    if (!applying && w.summary) void linkSummary(w.summary).catch(() => undefined);
  }
  if (applying || project.get().id === null) return;
  if (JSON.stringify(choicesOf(w)) !== lastSaved) schedule();
});

/** Points the open project's model and/or SAE folder at a new place (the old one moved). */
export async function relocateProject(paths: { model?: string; saes?: string }): Promise<void> {
  const { id, revision } = project.get();
  if (id === null) return;
  await flushSave();
  await whileOpening(async () => apply(await api.projects.relocate({ id, revision: project.get().revision || revision, ...paths })));
}

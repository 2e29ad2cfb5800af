// The Fine-tune step's settings as the form edits them: the full settings (defaults filled in), the
// part of them a request and the project carry (only what differs from the defaults, so a project
// follows improved defaults and a resumed run is asked with the settings it was started with), the
// defaults the engine applies to layers, and the run folder the step proposes.
import { backendContract, type Input } from '../../../../shared/contract';
import type { Tier } from '../../../../shared/dto';
import { defaultAdaptLayers, FINETUNE_DEFAULTS, finetuneSettings, type FinetuneSettings, type PartialFinetuneSettings } from '../../../../shared/finetune';
import { proposeFolder } from '../../state/proposed-folder';

export { defaultAdaptLayers };

/** The settings a partial one stands for: each group merged over its defaults (the backend's own rule). */
export const withDefaults = finetuneSettings;

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function changed<T extends object>(value: T, defaults: T): Partial<T> | undefined {
  const out = Object.fromEntries(Object.entries(value).filter(([k, v]) => !same(v, (defaults as Record<string, unknown>)[k])));
  return Object.keys(out).length ? (out as Partial<T>) : undefined;
}

/** Only the fields that differ from the defaults (a group with none is left out). */
export function settingsDiff(full: FinetuneSettings, defaults: FinetuneSettings = FINETUNE_DEFAULTS): PartialFinetuneSettings {
  const { watchdog, ...monitor } = full.monitor;
  const { watchdog: defaultWatchdog, ...defaultMonitor } = defaults.monitor;
  const monitorDiff: PartialFinetuneSettings['monitor'] = { ...changed(monitor, defaultMonitor) };
  const watchdogDiff = changed(watchdog, defaultWatchdog);
  if (watchdogDiff) monitorDiff.watchdog = watchdogDiff;
  const out: PartialFinetuneSettings = {
    loss: changed(full.loss, defaults.loss),
    lora: changed(full.lora, defaults.lora),
    optim: changed(full.optim, defaults.optim),
    data: changed(full.data, defaults.data),
    ...(full.steps !== defaults.steps ? { steps: full.steps } : {}),
    monitor: Object.keys(monitorDiff).length ? monitorDiff : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as PartialFinetuneSettings;
}

/** The engine's default loss layers: the layers with an SAE within the adapted range. */
export function defaultLossLayers(adapted: readonly number[], saeLayers: readonly number[]): number[] {
  const top = Math.max(...adapted);
  return [...saeLayers].filter((l) => l <= top).sort((a, b) => a - b);
}

/** "0..4" for a run of consecutive layers, else "0, 2, 5". */
export function layerText(layers: readonly number[]): string {
  if (layers.length === 0) return 'none';
  const run = layers.every((l, i) => i === 0 || l === layers[i - 1] + 1);
  return run && layers.length > 2 ? `${layers[0]}..${layers.at(-1)}` : layers.join(', ');
}

/** A typed layer list: "" = the default (null); "0-4, 6" or "0..4" ranges allowed. */
export function parseLayers(text: string): { layers: number[] | null } | { error: string } {
  const t = text.trim();
  if (!t) return { layers: null };
  const out = new Set<number>();
  for (const part of t.split(/[\s,]+/).filter(Boolean)) {
    const m = /^(\d{1,5})(?:(?:-|\.\.)(\d{1,5}))?$/.exec(part);
    if (!m) return { error: `"${part}" is not a layer or a range such as 0-4` };
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return { error: `the range ${part} runs backwards` };
    if (b - a > 10_000) return { error: `the range ${part} is too long` };
    for (let l = a; l <= b; l++) out.add(l);
  }
  return { layers: [...out].sort((x, y) => x - y) };
}

/** The default target languages: the chosen medium/low-resource ones (all chosen but English when
 * the project has none of that tier). */
export function defaultTargets(selected: readonly string[], tiers: Readonly<Record<string, Tier>>): string[] {
  const others = selected.filter((c) => c !== 'en');
  const low = others.filter((c) => tiers[c] === 'medium-low');
  return low.length ? low : others;
}

/** A new run folder beside the app's database (the backend names no runs folder of its own):
 * `<database folder>/finetune/<project>-<yyyymmdd-hhmmss>`, in the database path's own separators. */
export function proposeRunFolder(dbPath: string, projectName: string, now: Date): string {
  return proposeFolder(dbPath, 'finetune', projectName, null, now);
}

export type FinetuneRequest = Omit<Input<'finetune.run'>, 'jobId'>;

/** What is wrong with a request, checked by the contract's own schema before it is sent (the
 * backend checks it again): one line per problem, naming the setting. */
export function requestProblems(request: FinetuneRequest): string[] {
  const parsed = backendContract['finetune.run'].input.safeParse(request);
  if (parsed.success) return [];
  return parsed.error.issues.slice(0, 8).map((i) => `${i.path.map(String).join('.') || 'request'}: ${i.message}`);
}

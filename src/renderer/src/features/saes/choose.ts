// Grouping the SAEs of a folder by layer, the default pick per layer, and what can be told about
// their fit to the chosen model before a run (the run checks d_in and answers WEIGHTS_INVALID).
import type { ModelInfo, SaeInfo } from '../../../../shared/dto';

export interface LayerGroup {
  layer: number;
  saes: SaeInfo[];
}

/** SAEs by layer, ascending; SAEs with no recorded layer (layer < 0) are left out (see `unplaced`). */
export function groupByLayer(saes: readonly SaeInfo[]): LayerGroup[] {
  const groups = new Map<number, SaeInfo[]>();
  for (const s of saes) if (s.layer >= 0) groups.set(s.layer, [...(groups.get(s.layer) ?? []), s]);
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([layer, list]) => ({ layer, saes: list }));
}

export function unplaced(saes: readonly SaeInfo[]): SaeInfo[] {
  return saes.filter((s) => s.layer < 0);
}

/** The backend's rule (chooseSaes): the SAE whose average L0 is nearest 100, an unknown L0 counting
 * as 100; on a tie the first one listed. */
export function defaultPick(saes: readonly SaeInfo[]): SaeInfo {
  let best = saes[0];
  for (const s of saes.slice(1)) if (Math.abs((s.averageL0 ?? 100) - 100) < Math.abs((best.averageL0 ?? 100) - 100)) best = s;
  return best;
}

/** The default choice for a freshly inspected folder: every layer used, with its default pick. */
export function defaultChoice(saes: readonly SaeInfo[]): Record<number, string | null> {
  return Object.fromEntries(groupByLayer(saes).map((g) => [g.layer, defaultPick(g.saes).source]));
}

/** Problems visible from the inspection alone (the run checks them again and fails with
 * WEIGHTS_INVALID naming the SAE). */
export function fitWarnings(sae: SaeInfo, model: Pick<ModelInfo, 'layers' | 'architecture' | 'dModel'> | null): string[] {
  const out: string[] = [];
  if (model && sae.dIn !== model.dModel) out.push(`reads vectors of size ${sae.dIn} (d_in); ${model.architecture}'s residual stream has ${model.dModel}`);
  if (sae.layer < 0 || !sae.hook) out.push('no hook point is recorded (no hook_name and no layer_L in the path): the run cannot place it');
  else if (!/^blocks\.\d+\.hook_resid_(pre|mid|post)$/.test(sae.hook)) out.push(`hook ${sae.hook} is not a residual-stream hook`);
  if (model && sae.layer >= model.layers) out.push(`layer ${sae.layer} does not exist in ${model.architecture} (layers 0..${model.layers - 1})`);
  return out;
}

export function basename(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.at(-1) ?? path;
}

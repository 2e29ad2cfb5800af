// Is the user's SAE the one behind the Neuronpedia source? Phrases selected for feature f of
// `20-gemmascope-res-16k` describe feature f of that SAE only; on another SAE (another layer,
// width or L0 variant) index f is an unrelated feature. Mismatches are warnings in the result, not
// errors: the user may mean to compare.
//
// What the source says: its id `{layer}-{set}` (e.g. `20-gemmascope-res-16k`: layer 20, residual
// stream, width 16k) and, when the export has it, source.jsonl's `hfFolderId`
// (`layer_20/width_16k/average_l0_71`) or `saelensSaeId` (`layer_20/width_16k/canonical`).
import { gemmaScopeWidthFits } from '../../sae/sae';
import type { SourceMeta } from './layout';

/** Average L0 of the canonical Gemma Scope 2B residual-stream 16k SAEs, layers 0-25 (SAELens's
 * `gemma-scope-2b-pt-res-canonical` release, which Neuronpedia's `{L}-gemmascope-res-16k` sources
 * are): `layer_L/width_16k/canonical` is the file `layer_L/width_16k/average_l0_{this}`. */
export const GEMMA_2B_RES_16K_CANONICAL_L0 = [105, 102, 141, 59, 124, 68, 70, 69, 71, 73, 77, 80, 82, 84, 84, 78, 78, 77, 74, 73, 71, 70, 72, 75, 73, 116];

export interface SaeFacts {
  path: string;
  /** From the hook (blocks.{L}.hook_resid_post) or the Gemma Scope folder. */
  layer: number | null;
  hook: string | null;
  dSae: number;
  averageL0: number | null;
}

export interface SourceFacts {
  layer: number | null;
  site: 'res' | 'mlp' | 'att' | null;
  width: string | null;
  /** The average_l0 of the SAE file behind the source, when known. */
  averageL0: number | null;
  /** How that L0 is known, for the message. */
  file: string | null;
}

export function sourceFacts(modelId: string, sourceId: string, meta: SourceMeta | null): SourceFacts {
  const m = /^(\d+)-(.*)$/.exec(sourceId);
  const layer = m ? Number(m[1]) : null;
  const rest = m ? m[2] : sourceId;
  const site = /(^|-)res(-|$)/.test(rest) ? 'res' : /(^|-)mlp(-|$)/.test(rest) ? 'mlp' : /(^|-)att(-|$)/.test(rest) ? 'att' : null;
  const width = /-(\d+[km]?)$/i.exec(rest)?.[1] ?? null;
  const folder = meta?.hfFolderId ?? null;
  const l0 = folder ? /average_l0_(\d+)/.exec(folder)?.[1] : undefined;
  if (l0 !== undefined) return { layer, site, width, averageL0: Number(l0), file: folder };
  if (modelId === 'gemma-2-2b' && rest === 'gemmascope-res-16k' && layer !== null && layer < GEMMA_2B_RES_16K_CANONICAL_L0.length) {
    const n = GEMMA_2B_RES_16K_CANONICAL_L0[layer];
    return { layer, site, width, averageL0: n, file: `layer_${layer}/width_16k/average_l0_${n} (canonical)` };
  }
  return { layer, site, width, averageL0: null, file: null };
}

/** Layer of a TransformerLens hook name, e.g. blocks.20.hook_resid_post → 20. */
export const hookLayer = (hook: string | null) => (hook ? Number(/^blocks\.(\d+)\./.exec(hook)?.[1] ?? NaN) : NaN);

/** Warnings for the user's SAE against the source; [] when everything that can be told agrees. */
export function saeMismatchWarnings(modelId: string, sourceId: string, meta: SourceMeta | null, sae: SaeFacts | null): string[] {
  const src = sourceFacts(modelId, sourceId, meta);
  const name = `${modelId}/${sourceId}`;
  if (!sae) return [`no SAE was named, so whether the phrases describe your SAE's features was not checked: ${name}'s feature indices belong to ${src.file ?? 'the SAE behind that source'}`];
  const out: string[] = [];
  if (src.layer !== null && sae.layer !== null && sae.layer !== src.layer) out.push(`your SAE ${sae.path} is at layer ${sae.layer}, but ${name} is layer ${src.layer}: the same index names an unrelated feature`);
  if (src.site === 'res' && sae.hook !== null && !/hook_resid_(post|pre|mid)$/.test(sae.hook)) out.push(`your SAE reads ${sae.hook}, but ${name} is a residual-stream SAE`);
  if (src.site === 'res' && sae.hook !== null && /hook_resid_(pre|mid)$/.test(sae.hook)) out.push(`your SAE reads ${sae.hook}; Gemma Scope's residual SAEs (and ${name}) read hook_resid_post`);
  if (src.width !== null && gemmaScopeWidthFits(src.width, sae.dSae) === false) out.push(`your SAE has ${sae.dSae} features, but ${name} is width ${src.width}: the feature indices do not correspond`);
  if (src.averageL0 !== null) {
    if (sae.averageL0 === null) out.push(`${name} is ${src.file}; your SAE ${sae.path} does not say its average L0, so whether it is that file was not checked`);
    else if (sae.averageL0 !== src.averageL0) out.push(`your SAE is average_l0_${sae.averageL0}, but ${name} is ${src.file}: a different SAE of that layer, whose feature indices do not correspond`);
  }
  return out;
}

// The phrases.json of a translated Neuronpedia dataset (`dataset translate` writes it beside
// corpus.tsv): which segment was selected for which SAE feature, and from which Neuronpedia source.
// Read and checked here against the analysis's corpus and SAEs, before anything is computed, so the
// per-feature figures (per-feature.ts) measure each feature on its own phrases, at the SAE the
// source names. Errors name the file and the entry; they never quote the file's text.
import { basename } from 'node:path';
import { ApiError } from '../../shared/errors';
import { CORPUS_CODES, jsonErrorWhere, quoteToken, quoteValue, readRegularFile } from '../io/input-file';
import { saeMismatchWarnings } from '../data/neuronpedia/sae-match';

/** A phrases.json is one small entry per phrase; 64 MB is millions of them. */
export const MAX_PHRASES_JSON_BYTES = 64 * 2 ** 20;

export interface FeaturePhrase {
  segment: string;
  feature: number;
  modelId: string;
  sourceId: string;
  /** From the source id's `{layer}-` prefix (`20-gemmascope-res-16k` → 20). */
  layer: number;
}

/** One feature to measure: the SAE (index into the run's SAEs) and the analysis's segments (indices). */
export interface FeaturePlan {
  sae: number;
  layer: number;
  hook: string;
  feature: number;
  /** `{modelId}/{sourceId}`. */
  source: string;
  segments: number[];
  /** Segments phrases.json lists for the feature that the analysis left out (see plan docs). */
  dropped: number;
}

/** What the planner needs of each of the run's SAEs. */
export interface PlanSae {
  path: string;
  layer: number | null;
  hook: string | null;
  dSae: number;
  averageL0: number | null;
}

function fail(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('INVALID_ARGUMENT', `${basename(file)} ${message}`, { file, setting: 'phrases', ...details });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads phrases.json: `[{segment, feature, provenance: {modelId, sourceId, ...}}]`. */
export function readFeaturePhrases(file: string): FeaturePhrase[] {
  const bytes = readRegularFile(file, CORPUS_CODES, MAX_PHRASES_JSON_BYTES, 'phrases file');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail(file, 'is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw fail(file, `is not valid JSON (${jsonErrorWhere(error)}); it should be the phrases.json that \`dataset translate\` writes beside corpus.tsv`);
  }
  if (!Array.isArray(value)) throw fail(file, 'is not a list of {segment, feature, provenance} entries (as `dataset translate` writes)');
  if (value.length === 0) throw fail(file, 'lists no phrase');
  const seen = new Map<string, number>();
  return value.map((entry, i) => {
    const at = `entry ${i + 1}`;
    if (!isObject(entry)) throw fail(file, `${at} is not an object {segment, feature, provenance}`, { entry: i + 1 });
    const { segment, feature, provenance } = entry;
    if (typeof segment !== 'string' || segment === '' || segment.length > 200) throw fail(file, `${at}: "segment" must be a segment id of the corpus (1 to 200 characters), got ${quoteToken(segment)}`, { entry: i + 1 });
    if (typeof feature !== 'number' || !Number.isSafeInteger(feature) || feature < 0) throw fail(file, `${at} (segment ${quoteToken(segment)}): "feature" must be a feature index (an integer ≥ 0), got ${quoteValue(feature)}`, { entry: i + 1, segment });
    const earlier = seen.get(segment);
    if (earlier !== undefined) throw fail(file, `${at}: segment ${quoteToken(segment)} is listed again (first in entry ${earlier}); each phrase is selected for one feature`, { entry: i + 1, segment });
    seen.set(segment, i + 1);
    const sourceId = isObject(provenance) ? provenance.sourceId : undefined;
    const modelId = isObject(provenance) ? provenance.modelId : undefined;
    const layer = typeof sourceId === 'string' ? /^(\d{1,4})-/.exec(sourceId)?.[1] : undefined;
    if (typeof sourceId !== 'string' || typeof modelId !== 'string' || layer === undefined) {
      throw fail(file, `${at} (segment ${quoteToken(segment)}): no Neuronpedia source names the feature's layer (provenance.modelId and provenance.sourceId like "20-gemmascope-res-16k", as \`phrases neuronpedia\` records)`, { entry: i + 1, segment });
    }
    return { segment, feature, modelId, sourceId, layer: Number(layer) };
  });
}

/**
 * Groups the phrases by (source, feature) and checks them against the analysis:
 * - every segment listed must be in the corpus (`corpusKeys`: every segment the corpus has, kept or
 *   left out for a missing language);
 * - the source's layer must have an SAE in the run (the residual-stream one when several hooks of
 *   that layer are analysed), and the feature must be below its width;
 * - a feature must keep at least one segment in the analysis (`used`: the analysed segments' keys in
 *   order). Segments left out (no text in every chosen language, past `limit`, not among the asked
 *   `segments`, over the context) are counted as `dropped`.
 * Warnings: the SAE may not be the one behind the source (another width, L0 variant or hook).
 */
export function planFeatures(file: string, phrases: readonly FeaturePhrase[], corpusKeys: ReadonlySet<string>, used: readonly string[], saes: readonly PlanSae[]): { plans: FeaturePlan[]; warnings: string[] } {
  const position = new Map(used.map((k, i) => [k, i]));
  const groups = new Map<string, { first: FeaturePhrase; segments: string[] }>();
  for (const ph of phrases) {
    if (!corpusKeys.has(ph.segment)) {
      throw fail(file, `lists segment ${quoteToken(ph.segment)} (feature ${ph.feature}), which the corpus does not have: phrases.json and the corpus file are not of one dataset`, { segment: ph.segment, feature: ph.feature });
    }
    const key = `${ph.modelId}/${ph.sourceId}#${ph.feature}`;
    const g = groups.get(key);
    if (g) g.segments.push(ph.segment);
    else groups.set(key, { first: ph, segments: [ph.segment] });
  }
  const layers = [...new Set(saes.map((s) => s.layer).filter((l) => l !== null))].sort((a, b) => a! - b!);
  const warnings = new Set<string>();
  const plans: FeaturePlan[] = [];
  for (const { first, segments } of groups.values()) {
    const source = `${first.modelId}/${first.sourceId}`;
    const atLayer = saes.map((s, i) => ({ s, i })).filter(({ s }) => s.layer === first.layer);
    const chosen = atLayer.find(({ s }) => /hook_resid_post$/.test(s.hook ?? '')) ?? atLayer[0];
    if (!chosen) {
      throw fail(file, `names feature ${first.feature} of ${source}, which is layer ${first.layer}; this analysis has SAEs at layer${layers.length === 1 ? '' : 's'} ${layers.join(', ')}: add the layer-${first.layer} SAE`, { layer: first.layer, feature: first.feature, source });
    }
    if (first.feature >= chosen.s.dSae) {
      throw fail(file, `names feature ${first.feature} of ${source}, but the layer-${first.layer} SAE (${basename(chosen.s.path)}) has ${chosen.s.dSae} features (0..${chosen.s.dSae - 1})`, { layer: first.layer, feature: first.feature, source, dSae: chosen.s.dSae });
    }
    const kept = segments.flatMap((k) => (position.has(k) ? [position.get(k)!] : [])).sort((a, b) => a - b);
    if (kept.length === 0) {
      throw fail(file, `feature ${first.feature} of ${source}: none of its ${segments.length} segment(s) is left in the analysis (each lacks a chosen language, is past the limit, or was not asked for)`, { layer: first.layer, feature: first.feature, source });
    }
    for (const w of saeMismatchWarnings(first.modelId, first.sourceId, null, { path: chosen.s.path, layer: chosen.s.layer, hook: chosen.s.hook, dSae: chosen.s.dSae, averageL0: chosen.s.averageL0 })) warnings.add(w);
    plans.push({ sae: chosen.i, layer: first.layer, hook: chosen.s.hook ?? '', feature: first.feature, source, segments: kept, dropped: segments.length - kept.length });
  }
  plans.sort((a, b) => a.layer - b.layer || a.feature - b.feature || (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  return { plans, warnings: [...warnings] };
}

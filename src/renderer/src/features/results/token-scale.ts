// One shading scale for a segment's token views: the feature's largest token activation over
// every language of the segment whose tokens are loaded, so the same shade means the same value
// in English and in Hindi (a per-language maximum would paint each language's own peak darkest,
// hiding that one language barely fires).
import type { TokenActivations } from '../../../../shared/dto';

/** The feature's values on each token of one result (empty when the result lacks the feature). */
export function featureValues(result: TokenActivations, feature: number): number[] {
  return result.features.find((f) => f.feature === feature)?.values ?? [];
}

/** max over the loaded results and their tokens of the feature's activation (0 when none fires). */
export function segmentScale(results: readonly (TokenActivations | undefined)[], feature: number): { max: number; languages: number } {
  let max = 0;
  let languages = 0;
  for (const r of results) {
    if (!r) continue;
    languages++;
    for (const v of featureValues(r, feature)) if (Number.isFinite(v) && v > max) max = v;
  }
  return { max, languages };
}

// The demo's tokenizer training text: the demo model's own training data (recipe.ts), each
// document weighted by how often the model's sampler draws it, so the tokenizer sees the same
// unequal exposure the model does. Held out (articles 25-30) stays out, as for the model.
//
// Weights are the recipe's sampling weights times 4 (reference 3, high 2, related 1, low 0.25 ->
// 12, 8, 4, 1): BPE counts are integers. On top of the lower weight, a low-resource language
// brings only the first quarter of its paragraphs (recipe.lowFraction).
import type { BpeCorpusEntry } from '../models/bpe-train';
import { DEMO_RECIPE, demoDocuments, type DemoRecipe, type DemoTier } from './recipe';

export { BPE_DEMO_VOCAB } from './recipe';

export interface DemoTokenizerDocument extends BpeCorpusEntry {
  group: string;
  tier: DemoTier;
  weight: number;
  /** Held-out paragraphs (never trained on), for measuring fertility. */
  heldOut: string[];
}

export function demoTokenizerCorpus(recipe: DemoRecipe = DEMO_RECIPE): DemoTokenizerDocument[] {
  return demoDocuments(recipe).map((d) => ({ group: d.group, tier: d.tier, weight: Math.round(recipe.weights[d.tier] * 4), text: `${d.train.join('\n')}\n`, heldOut: d.heldOut }));
}

// The demo's tokenizer training text: the demo model's own training data (build.ts's recipe),
// each document weighted by how often the model's sampler draws it, so the tokenizer sees the
// same unequal exposure the model does. Held out (articles 25-30) stays out, as for the model.
//
// Weights are build.ts's sampling weights times 4 (reference 3, high 2, related 1, low 0.25 ->
// 12, 8, 4, 1): BPE counts are integers. On top of the lower weight, a low-resource language
// brings only the first quarter of its paragraphs (recipe.lowFraction).
import { PAPER_LANGUAGES } from '../data/languages';
import { loadUdhr } from '../data/udhr';
import type { BpeCorpusEntry } from '../models/bpe-train';
import { DEMO_RECIPE, type DemoRecipe } from './build';

/** The demo tokenizer's vocabulary. The corpus brings 823 distinct characters (Han ones from zh
 * and the related Traditional Chinese document most of them), so with the 4 special and 256 byte
 * pieces the base is 1083 tokens; 4096 leaves about 3000 merges. At that size the last merge is
 * still seen 16 times (weighted) — a regularity of the text, where at 8192 the last merges are
 * single words of one document (weighted count 8) — and the demo model's embedding table stays
 * 4096 x 128 = 0.5 M parameters. High-resource words become single tokens while the medium/low
 * tier, with less text, keeps shorter pieces (bpe-train.test.ts measures this per language). */
export const BPE_DEMO_VOCAB = 4096;

/** build.ts's related high-resource documents and held-out articles (the same lists). */
export const TOKENIZER_RELATED = ['fra', 'deu_1996', 'por_PT', 'nld', 'ukr', 'bul', 'cmn_hant'];
const HELD_OUT = /^article\.(2[5-9]|30)$/;

export interface DemoTokenizerDocument extends BpeCorpusEntry {
  group: string;
  tier: 'reference' | 'high' | 'related' | 'low';
  weight: number;
  /** Held-out paragraphs (never trained on), for measuring fertility. */
  heldOut: string[];
}

export function demoTokenizerCorpus(recipe: DemoRecipe = DEMO_RECIPE): DemoTokenizerDocument[] {
  const out: DemoTokenizerDocument[] = [];
  const add = (group: string, code: string, tier: DemoTokenizerDocument['tier']) => {
    const train: string[] = [];
    const heldOut: string[] = [];
    for (const s of loadUdhr(code).sections) (HELD_OUT.test(s.key) ? heldOut : train).push(...s.paragraphs);
    const kept = tier === 'low' ? train.slice(0, Math.ceil(train.length * recipe.lowFraction)) : train;
    const weight = Math.round(recipe.weights[tier] * 4);
    out.push({ group, tier, weight, text: `${kept.join('\n')}\n`, heldOut });
  };
  for (const l of PAPER_LANGUAGES) add(l.code, l.corpusCode, l.tier === 'reference' ? 'reference' : l.tier === 'high' ? 'high' : 'low');
  for (const code of TOKENIZER_RELATED) add(code, code, 'related');
  return out;
}

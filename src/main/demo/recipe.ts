// The bundled demo's recipe: the model's shape, the training settings, and the documents each tier
// trains on. build.ts (model and SAEs) and tokenizer-corpus.ts (the subword tokenizer) read it
// from here, so the tokenizer sees exactly the text and the unequal exposure the model does.
//
// Data: English, the high-resource languages and related high-resource documents (French,
// German, Portuguese, Dutch, Ukrainian, Bulgarian, Traditional Chinese) train on all their UDHR
// paragraphs except the held-out articles; the medium/low-resource languages train on only their
// first quarter of paragraphs and are sampled at 1/8 of a high-resource language's rate. Held out
// of training for every language: articles 25-30 (the evaluation text).
import { PAPER_LANGUAGES } from '../data/languages';
import { loadUdhr } from '../data/udhr';
import { LM_DEFAULTS, type LmTrainingOptions } from '../train/lm';

/** The demo tokenizer's vocabulary. The corpus brings 823 distinct characters (Han ones from zh
 * and the related Traditional Chinese document most of them), so with the 4 special and 256 byte
 * pieces the base is 1083 tokens; 4096 leaves about 3000 merges. At that size the last merge is
 * still seen 16 times (weighted) — a regularity of the text, where at 8192 the last merges are
 * single words of one document (weighted count 8) — and the demo model's embedding table stays
 * 4096 x 128 = 0.5 M parameters. High-resource words become single tokens while the medium/low
 * tier, with less text, keeps shorter pieces (bpe-train.test.ts measures this per language). */
export const BPE_DEMO_VOCAB = 4096;

export const DEMO_CONFIG = {
  architectures: ['Gemma2ForCausalLM'],
  model_type: 'gemma2',
  hidden_size: 128,
  intermediate_size: 384,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 32,
  num_hidden_layers: 6,
  vocab_size: BPE_DEMO_VOCAB,
  max_position_embeddings: 2048,
  rms_norm_eps: 1e-6,
  rope_theta: 10000.0,
  sliding_window: 256,
  query_pre_attn_scalar: 32,
  attn_logit_softcapping: 50.0,
  final_logit_softcapping: 30.0,
  hidden_activation: 'gelu_pytorch_tanh',
  tie_word_embeddings: true,
  bos_token_id: 2,
  eos_token_id: 1,
  pad_token_id: 0,
  torch_dtype: 'float32',
};

export const RELATED_HIGH = ['fra', 'deu_1996', 'por_PT', 'nld', 'ukr', 'bul', 'cmn_hant'];
/** UDHR articles never trained on (model, tokenizer and SAEs): the demo's evaluation text. */
export const HELD_OUT_ARTICLES = /^article\.(2[5-9]|30)$/;

export type DemoTier = 'reference' | 'high' | 'related' | 'low';

export interface DemoRecipe {
  seed: number;
  tokenizer: { vocabSize: number };
  lm: LmTrainingOptions;
  /** JumpReLU SAEs as Gemma Scope's (train-jumprelu.ts): λ the L0 coefficient, ε the kernel's
   * bandwidth and θ₀ the initial threshold, all in units where E‖x‖² = 1. */
  sae: { architecture: 'jumprelu'; width: number; steps: number; batch: number; lr: number; tokens: number; l0Coefficient: number; bandwidth: number; initialThreshold: number; l0WarmupSteps: number };
  weights: Record<DemoTier, number>;
  lowFraction: number;
}

export const DEMO_RECIPE: DemoRecipe = {
  seed: 20261124,
  tokenizer: { vocabSize: BPE_DEMO_VOCAB },
  lm: { ...LM_DEFAULTS, steps: 1500, batch: 16, seqLen: 129, lr: 3e-3, warmup: 100, minLrRatio: 0.1, weightDecay: 0.01, clipNorm: 1, seed: 20261124, checkpointEvery: 250 },
  sae: { architecture: 'jumprelu', width: 512, steps: 1500, batch: 256, lr: 1e-2, tokens: 32768, l0Coefficient: 0.003, bandwidth: 0.005, initialThreshold: 0.005, l0WarmupSteps: 150 },
  weights: { reference: 3, high: 2, related: 1, low: 0.25 },
  lowFraction: 0.25,
};

export interface DemoDocument {
  group: string;
  tier: DemoTier;
  /** Paragraphs trained on (a low-resource language keeps only the first `lowFraction`). */
  train: string[];
  /** Paragraphs of the held-out articles (never trained on). */
  heldOut: string[];
}

/** Every document of the demo's training data, paper languages first, then the related ones. */
export function demoDocuments(recipe: DemoRecipe = DEMO_RECIPE): DemoDocument[] {
  const out: DemoDocument[] = [];
  const add = (group: string, code: string, tier: DemoTier) => {
    const train: string[] = [];
    const heldOut: string[] = [];
    for (const s of loadUdhr(code).sections) (HELD_OUT_ARTICLES.test(s.key) ? heldOut : train).push(...s.paragraphs);
    const kept = tier === 'low' ? train.slice(0, Math.ceil(train.length * recipe.lowFraction)) : train;
    out.push({ group, tier, train: kept, heldOut });
  };
  for (const l of PAPER_LANGUAGES) add(l.code, l.corpusCode, l.tier === 'reference' ? 'reference' : l.tier === 'high' ? 'high' : 'low');
  for (const code of RELATED_HIGH) add(code, code, 'related');
  return out;
}

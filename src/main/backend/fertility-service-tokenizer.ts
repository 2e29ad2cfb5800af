// Which tokenizer a fertility request measures, and the words every figure is labelled with.
// The figures depend on the tokenizer alone (Russian on the demo: 2.05x English with the demo
// model's own tokenizer, 1.37x with the bundled Gemma one), so the default is the chosen model's
// tokenizer, and the bundled one is used only when neither a model nor a tokenizer is named.
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TokenizerInfo, TokenizerOrigin } from '../../shared/dto';
import { ApiError } from '../../shared/errors';

export interface TokenizerChoice {
  /** What the tokenizer reader gets: a folder or tokenizer.json, or undefined for the bundled one. */
  path: string | undefined;
  origin: TokenizerOrigin;
}

/** `model`: a model folder whose tokenizer.json is measured; `tokenizer`: a tokenizer folder or
 * file named on purpose. Naming both is refused: it is not clear which the user meant. */
export function chooseFertilityTokenizer(request: { model?: string; tokenizer?: string }): TokenizerChoice {
  if (request.model !== undefined && request.tokenizer !== undefined) {
    throw new ApiError('INVALID_ARGUMENT', 'name a model folder or a tokenizer, not both: fertility measures one tokenizer', {
      model: request.model,
      tokenizer: request.tokenizer,
    });
  }
  if (request.tokenizer !== undefined) return { path: request.tokenizer, origin: 'tokenizer' };
  if (request.model === undefined) return { path: undefined, origin: 'bundled' };
  const folder = resolve(request.model);
  const kind = fileKind(folder);
  if (kind !== 'dir') {
    throw new ApiError('TOKENIZER_NOT_FOUND', `the model folder ${folder} ${kind === 'none' ? 'does not exist' : 'is not a folder'}`, { path: folder });
  }
  if (fileKind(join(folder, 'tokenizer.json')) !== 'file') {
    throw new ApiError(
      'TOKENIZER_NOT_FOUND',
      `the model folder ${folder} has no tokenizer.json: name a tokenizer instead, or neither for the bundled Gemma tokenizer`,
      { path: folder },
    );
  }
  return { path: folder, origin: 'model' };
}

function fileKind(path: string): 'file' | 'dir' | 'other' | 'none' {
  try {
    const stats = statSync(path);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

/** One line naming the tokenizer a result is for: where it came from, its file, its hash prefix. */
export function tokenizerLabel(info: TokenizerInfo, origin: TokenizerOrigin): string {
  const sha = `sha256 ${info.sha256.slice(0, 12)}`;
  if (origin === 'model') return `the model's own tokenizer, ${info.path} (${sha})`;
  if (origin === 'bundled') return `the bundled Gemma tokenizer, no model or tokenizer named (${sha})`;
  return `tokenizer ${info.path} (${sha})`;
}

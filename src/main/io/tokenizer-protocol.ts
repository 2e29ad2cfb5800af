// Messages between the TokenizerHost (the backend's thread) and the tokenizer worker.
import type { TokenizerInfo } from '../../shared/dto';
import type { ApiErrorData } from '../../shared/errors';

/** `path`: a folder holding tokenizer.json, the file itself, or undefined / 'bundled:gemma'. */
export type TokenizerRequest =
  | { id: number; op: 'inspect'; path?: string }
  | { id: number; op: 'encode'; path?: string; texts: string[]; addSpecialTokens: boolean }
  | { id: number; op: 'pieces'; path?: string; text: string; addSpecialTokens: boolean }
  | { id: number; op: 'lookup'; path?: string; pieces: string[] }
  | { id: number; op: 'decode'; path?: string; ids: number[][] };

/** Vocabulary ids of pieces (null: not in the vocabulary) and whether each is a special token. */
export interface LookedUpPieces {
  info: TokenizerInfo;
  ids: (number | null)[];
  special: boolean[];
}

/** The text of each id sequence, by the tokenizer's own decoder (special tokens dropped). */
export interface DecodedTexts {
  info: TokenizerInfo;
  texts: string[];
}

export interface EncodedTexts {
  info: TokenizerInfo;
  ids: number[][];
}

/** One text's token ids and, per token, the text it completes (for token-level views). */
export interface TokenizedText {
  info: TokenizerInfo;
  ids: number[];
  texts: string[];
}

/** `step`: the worker started a unit of work (loading the named file, or text `done`); the host's
 * time limit runs per step, so a long corpus is fine and one pathological text is not. */
export type TokenizerReply =
  | { id: number; step: 'loading'; file: string }
  | { id: number; step: 'text'; done: number }
  | { id: number; ok: true; value: TokenizerInfo | EncodedTexts | TokenizedText | LookedUpPieces | DecodedTexts }
  | { id: number; ok: false; error: ApiErrorData };

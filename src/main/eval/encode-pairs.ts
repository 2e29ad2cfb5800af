// Context/continuation pairs to token ids exactly as lm-evaluation-harness encodes them for a
// causal model (LM._encode_pair, HFLM.tok_encode): trailing whitespace of the context (Python's
// definition) moves to the front of the continuation; context + continuation is encoded as one
// string and the continuation's tokens are the tail beyond the context's own encoding; both with
// the tokenizer's special tokens as tokenizer.json adds them (BOS for Gemma). An empty context is
// the prefix token alone (BOS, else EOS) with the continuation encoded on its own.
import { ApiError } from '../../shared/errors';
import type { TokenizerHost } from '../io/tokenizer-host';
import type { ModelConfig } from '../models/config';
import type { LoglikRequest } from './loglikelihood';
import { pyRstrip } from './py-text';

export interface TextPair {
  context: string;
  continuation: string;
}

/** The harness's split of a pair before encoding (its trailing-space move). */
export function splitPair({ context, continuation }: TextPair): TextPair {
  const kept = pyRstrip(context);
  const moved = context.slice(kept.length);
  return { context: kept, continuation: moved + continuation };
}

export async function encodePairs(tokenizers: TokenizerHost, modelPath: string, config: ModelConfig, pairs: readonly TextPair[], signal?: AbortSignal): Promise<LoglikRequest[]> {
  const split = pairs.map(splitPair);
  const texts: string[] = [];
  const at = new Map<string, number>();
  const slot = (text: string) => {
    let i = at.get(text);
    if (i === undefined) {
      i = texts.length;
      texts.push(text);
      at.set(text, i);
    }
    return i;
  };
  const plan = split.map((p) => (p.context === '' ? { whole: -1, context: -1, alone: slot(p.continuation) } : { whole: slot(p.context + p.continuation), context: slot(p.context), alone: -1 }));
  const ids = texts.length ? (await tokenizers.encode(modelPath, texts, true, signal)).ids : [];
  const prefix = config.bosTokenId;
  return plan.map((p, i) => {
    if (p.alone >= 0) {
      if (prefix === null) throw new ApiError('INVALID_ARGUMENT', `item ${i}: an empty context needs the BOS token as prefix, and the model's config names none`);
      return { context: [prefix], continuation: ids[p.alone] };
    }
    const whole = ids[p.whole];
    const context = ids[p.context];
    return { context, continuation: whole.slice(context.length) };
  });
}

/** The original Okapi fork's encoding: context and continuation each encoded alone, without the
 * tokenizer's special tokens (no BOS) and with no whitespace moved. (An empty context, which the
 * fork prefixes with the end-of-text token, is refused: no task of the preset has one.) */
export async function encodePairsSeparately(tokenizers: TokenizerHost, modelPath: string, pairs: readonly TextPair[], signal?: AbortSignal): Promise<LoglikRequest[]> {
  const texts = [...new Set(pairs.flatMap((p) => [p.context, p.continuation]))];
  if (pairs.some((p) => p.context === '')) throw new ApiError('INVALID_ARGUMENT', 'the okapi-original preset cannot score an empty context (the fork prefixes the end-of-text token, which tokenizer.json does not name reliably)');
  const ids = texts.length ? (await tokenizers.encode(modelPath, texts, false, signal)).ids : [];
  const of = new Map(texts.map((t, i) => [t, ids[i]]));
  return pairs.map((p) => ({ context: of.get(p.context)!, continuation: of.get(p.continuation)! }));
}

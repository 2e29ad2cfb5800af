// The tokenizer worker: reads, parses and runs user-supplied tokenizers off the backend's thread.
// A tokenizer.json carries regular expressions (pre-tokenizer splits, normalizer replaces) that
// JavaScript runs with backtracking; a pathological one can spin for hours on one text, and here
// that stalls only this thread, which the host terminates at its time limit.
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../shared/errors';
import { BUNDLED_TOKENIZER, instantiateTokenizer, readTokenizerFiles, resolveTokenizerFile, tokenizeText } from './tokenizer';
import type { TokenizerReply, TokenizerRequest } from './tokenizer-protocol';

if (!parentPort) throw new Error('tokenizer-worker must run in a worker thread');
const port = parentPort;
const post = (reply: TokenizerReply) => port.postMessage(reply);

function load(id: number, path: string | undefined) {
  const bundled = path === undefined || path === BUNDLED_TOKENIZER;
  post({ id, step: 'loading', file: bundled ? BUNDLED_TOKENIZER : resolveTokenizerFile(path) });
  return readTokenizerFiles(path);
}

function handle(request: TokenizerRequest) {
  const files = load(request.id, request.path);
  if (request.op === 'inspect') return files.info;
  const tokenizer = instantiateTokenizer(files);
  if (request.op === 'pieces') {
    post({ id: request.id, step: 'text', done: 0 });
    return tokenizeText(tokenizer, request.text, request.addSpecialTokens);
  }
  if (request.op === 'lookup') {
    post({ id: request.id, step: 'text', done: 0 });
    const ids = request.pieces.map((piece) => tokenizer.pieceId?.(piece) ?? null);
    return { info: tokenizer.info, ids, special: ids.map((i) => i !== null && (tokenizer.specialIds?.has(i) ?? false)) };
  }
  if (request.op === 'decode') {
    const texts = request.ids.map((ids, i) => {
      // Each text is a step of the host's time limit, as in encode.
      if (i % 256 === 0) post({ id: request.id, step: 'text', done: i });
      return tokenizer.decode(ids);
    });
    return { info: tokenizer.info, texts };
  }
  const ids = request.texts.map((text, i) => {
    post({ id: request.id, step: 'text', done: i });
    return tokenizer.encode(text, request.addSpecialTokens);
  });
  return { info: tokenizer.info, ids };
}

port.on('message', (request: TokenizerRequest) => {
  try {
    post({ id: request.id, ok: true, value: handle(request) });
  } catch (error) {
    const data = error instanceof ApiError ? error.toData() : { code: 'TOKENIZER_UNREADABLE' as const, message: `the tokenizer failed: ${(error as Error).message}` };
    post({ id: request.id, ok: false, error: data });
  }
});

// The TokenizerHost runs tokenizers in a worker thread (out/main/tokenizer-worker.js) so that no
// user-supplied tokenizer can block the thread that answers API requests. Requests run one at a
// time from a FIFO. Each step in the worker (loading a tokenizer, or tokenizing one text) must
// finish within the time limit; past it the worker is terminated, the request fails with
// TOKENIZER_TIMEOUT naming the file and the limit, and the next request starts a fresh worker.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TokenizerInfo } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { packageRoot } from '../package-root';
import type { DecodedTexts, EncodedTexts, LookedUpPieces, TokenizedText, TokenizerReply, TokenizerRequest } from './tokenizer-protocol';

export type { DecodedTexts, EncodedTexts, LookedUpPieces, TokenizedText } from './tokenizer-protocol';

export function tokenizerWorkerPath(): string {
  return join(packageRoot(), 'out', 'main', 'tokenizer-worker.js');
}

/** Loading Gemma's 17 MB tokenizer takes about 1 s and a UDHR paragraph well under 1 ms on one
 * core, so 20 s per step leaves a wide margin on a slow, busy machine while a catastrophically
 * backtracking pattern (hours on one text) is stopped. LINGUASCOPE_TOKENIZER_LIMIT_MS overrides it. */
export const DEFAULT_TOKENIZER_LIMIT_MS = 20_000;
/** Heap for one tokenizer (Gemma's needs a few hundred MB); a file that needs more fails alone. */
export const TOKENIZER_WORKER_HEAP_MB = 2048;

export function tokenizerLimitMs(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.LINGUASCOPE_TOKENIZER_LIMIT_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_TOKENIZER_LIMIT_MS;
}

type Call = TokenizerRequest extends infer R ? (R extends TokenizerRequest ? Omit<R, 'id'> : never) : never;

interface Pending {
  id: number;
  call: Call;
  signal?: AbortSignal;
  onAbort?: () => void;
  onText?: (done: number, total: number) => void;
  /** What runs now, for the error message: the file being loaded, or the text being tokenized. */
  file: string;
  step: 'starting' | 'loading' | 'text';
  text: number;
  timer?: NodeJS.Timeout;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class TokenizerHost {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly queue: Pending[] = [];
  private inFlight: Pending | undefined;
  private closed = false;

  constructor(
    readonly limitMs = tokenizerLimitMs(),
    private readonly workerPath = tokenizerWorkerPath(),
  ) {}

  /** The tokenizer's identity (sha256 of its files), type, vocabulary size and BOS id. */
  inspect(path?: string, signal?: AbortSignal): Promise<TokenizerInfo> {
    return this.call({ op: 'inspect', path }, signal) as Promise<TokenizerInfo>;
  }

  /** Token ids of each text; `onText(done, total)` as texts finish. */
  encode(path: string | undefined, texts: string[], addSpecialTokens: boolean, signal?: AbortSignal, onText?: (done: number, total: number) => void): Promise<EncodedTexts> {
    return this.call({ op: 'encode', path, texts, addSpecialTokens }, signal, onText) as Promise<EncodedTexts>;
  }

  /** One text's ids and the text each token completes. */
  pieces(path: string | undefined, text: string, addSpecialTokens: boolean, signal?: AbortSignal): Promise<TokenizedText> {
    return this.call({ op: 'pieces', path, text, addSpecialTokens }, signal) as Promise<TokenizedText>;
  }

  /** Vocabulary ids of pieces (e.g. Neuronpedia's token strings in their vocabulary forms). */
  lookup(path: string | undefined, pieces: string[], signal?: AbortSignal): Promise<LookedUpPieces> {
    return this.call({ op: 'lookup', path, pieces }, signal) as Promise<LookedUpPieces>;
  }

  /** The text of each id sequence, special tokens dropped. */
  decode(path: string | undefined, ids: number[][], signal?: AbortSignal): Promise<DecodedTexts> {
    return this.call({ op: 'decode', path, ids }, signal) as Promise<DecodedTexts>;
  }

  async close(): Promise<void> {
    this.closed = true;
    const error = new ApiError('CANCELLED', 'the backend is shutting down');
    for (const p of [...(this.inFlight ? [this.inFlight] : []), ...this.queue.splice(0)]) this.settle(p, () => p.reject(error));
    this.inFlight = undefined;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private call(call: Call, signal?: AbortSignal, onText?: Pending['onText']): Promise<unknown> {
    if (this.closed) return Promise.reject(new ApiError('CANCELLED', 'the backend is shutting down'));
    if (signal?.aborted) return Promise.reject(new ApiError('CANCELLED', 'the job was cancelled'));
    return new Promise((resolve, reject) => {
      const pending: Pending = { id: this.nextId++, call, signal, onText, file: call.path ?? 'the bundled tokenizer', step: 'starting', text: 0, resolve, reject };
      if (signal) {
        pending.onAbort = () => this.abort(pending);
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.queue.push(pending);
      this.pump();
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.workerPath, { resourceLimits: { maxOldGenerationSizeMb: TOKENIZER_WORKER_HEAP_MB } });
    worker.on('message', (reply: TokenizerReply) => {
      if (this.worker === worker) this.onReply(reply);
    });
    worker.on('error', (error: Error & { code?: string }) => {
      if (this.worker !== worker) return;
      const memory = error.code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.onDeath((p) =>
        memory
          ? new ApiError('TOKENIZER_UNREADABLE', `${p.file} needs more than ${TOKENIZER_WORKER_HEAP_MB} MB of memory to load as a tokenizer`, { file: p.file, limitMb: TOKENIZER_WORKER_HEAP_MB })
          : new ApiError('TOKENIZER_UNREADABLE', `the tokenizer worker failed on ${p.file}: ${error.message}`, { file: p.file }),
      );
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.onDeath((p) => new ApiError('TOKENIZER_UNREADABLE', `the tokenizer worker exited (code ${code}) on ${p.file}`, { file: p.file }));
    });
    // An idle tokenizer worker must not keep a CLI process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private pump(): void {
    while (!this.inFlight && this.queue.length) {
      const next = this.queue.shift()!;
      this.inFlight = next;
      this.arm(next);
      this.ensureWorker().postMessage({ ...next.call, id: next.id } as TokenizerRequest);
    }
  }

  /** (Re)starts the time limit of the current step. */
  private arm(p: Pending): void {
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.timeout(p), this.limitMs);
  }

  private onReply(reply: TokenizerReply): void {
    const p = this.inFlight;
    if (!p || p.id !== reply.id) return;
    if ('step' in reply) {
      if (reply.step === 'loading') p.file = reply.file;
      else {
        p.text = reply.done;
        if (p.call.op === 'encode') p.onText?.(reply.done, p.call.texts.length);
      }
      p.step = reply.step;
      this.arm(p);
      return;
    }
    this.inFlight = undefined;
    this.settle(p, () => (reply.ok ? p.resolve(reply.value) : p.reject(ApiError.fromData(reply.error))));
    this.pump();
  }

  private timeout(p: Pending): void {
    if (this.inFlight !== p) return;
    const seconds = `${this.limitMs / 1000} s`;
    const what = p.step === 'text' ? (p.call.op === 'encode' ? `text ${p.text + 1} of ${p.call.texts.length}` : 'the text') : 'loading it';
    this.restart(
      p,
      new ApiError(
        'TOKENIZER_TIMEOUT',
        `${p.file}: the tokenizer spent more than ${seconds} on ${what} and was stopped (a pre-tokenizer or normalizer pattern in it may backtrack catastrophically); check the file's regular expressions`,
        { file: p.file, limitMs: this.limitMs, step: p.step === 'text' ? 'tokenizing' : 'loading' },
      ),
    );
  }

  private abort(p: Pending): void {
    const queued = this.queue.indexOf(p);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(p, () => p.reject(new ApiError('CANCELLED', 'the job was cancelled')));
    } else if (this.inFlight === p) {
      // The worker cannot be interrupted mid-text; a fresh one is cheap next to waiting.
      this.restart(p, new ApiError('CANCELLED', 'the job was cancelled'));
    }
  }

  /** Fails the request in flight and replaces the worker; queued requests go to the new one. */
  private restart(p: Pending, error: ApiError): void {
    this.inFlight = undefined;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.settle(p, () => p.reject(error));
    this.pump();
  }

  private onDeath(errorFor: (p: Pending) => ApiError): void {
    this.worker = undefined;
    const p = this.inFlight;
    this.inFlight = undefined;
    if (p) this.settle(p, () => p.reject(errorFor(p)));
    this.pump();
  }

  private settle(p: Pending, done: () => void): void {
    clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    done();
  }
}

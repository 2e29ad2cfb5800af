// Log-likelihoods of continuations on the engine, as lm-evaluation-harness computes them
// (HFLM._loglikelihood_tokens): the model reads (context_ids + continuation_ids)[:-1] and each
// continuation token's log-probability is log_softmax(logits) at the position before it; a
// request's score is their sum, `isGreedy` says whether every continuation token is the argmax.
// Only those positions' log-probabilities leave the graph: the final norm and unembedding run on
// the scored positions alone (token_index), log_softmax over the vocabulary and the gather of
// the target happen in the graph, so no full-vocabulary logits cross to the host.
import { ApiError } from '../../shared/errors';
import { Graph } from '../engine/graph';
import { externalDataRoot } from '../engine/external-root';
import { equal, sub } from '../engine/ops/elementwise';
import { logSoftmax, reduceMax } from '../engine/ops/reduce';
import { gather, reshape } from '../engine/ops/tensor';
import type { RemoteSession, RuntimeHost } from '../engine/runtime-host';
import { WeightFolder } from '../engine/weights';
import type { PeftAdapter } from '../io/peft-adapter';
import { adapterLora, buildDecoder } from '../models/forward';
import { decoderFeeds, type ModelFolder } from '../models/model';

export interface LoglikRequest {
  context: readonly number[];
  continuation: readonly number[];
}

export interface LoglikResult {
  loglikelihood: number;
  isGreedy: boolean;
}

/** Padded tokens per batch at most (the rest of the memory goes to the logits of scored tokens). */
const BATCH_TOKENS = 4096;

export class LoglikScorer {
  private constructor(
    private readonly folder: ModelFolder,
    private readonly session: RemoteSession,
    private readonly maskWindows: (number | null)[],
  ) {}

  static async load(folder: ModelFolder, runtime: RuntimeHost, adapter?: PeftAdapter, signal?: AbortSignal): Promise<LoglikScorer> {
    const root = externalDataRoot(folder.index.files);
    const g = new Graph(`${folder.config.arch}-loglik`);
    const built = buildDecoder(g, folder.config, new WeightFolder(root, folder.index, g), { hooks: [], logits: true }, undefined, false, adapter ? adapterLora(g, adapter) : undefined);
    g.outputs.length = 0; // the logits stay inside
    const logits = built.logits!; // (M, V): the scored positions (token_index) only
    const target = g.input('target_flat', 'int64', ['tokens']); // m·V + target id
    const logp = gather(reshape(logSoftmax(logits, -1), [-1]), target);
    const picked = gather(reshape(logits, [-1]), target);
    // Greedy: the target's logit is the largest (ties count, as torch.argmax would pick the first
    // of equal maxima only by position; exact ties in float logits do not occur in practice).
    const top = reduceMax(logits, [-1], false);
    g.output(logp, 'logprob');
    g.output(equal(sub(top, picked), g.scalar(0, 'float32')), 'greedy');
    const session = await runtime.load(g.toModel(), { externalDataFolder: root, disablePrepacking: true }, signal);
    return new LoglikScorer(folder, session, built.maskWindows);
  }

  /** Scores requests, batched by length (longest first as the harness does); results in order. */
  async score(requests: readonly LoglikRequest[], signal?: AbortSignal, onBatch?: (done: number, total: number) => void): Promise<LoglikResult[]> {
    const c = this.folder.config;
    const max = c.maxPositions;
    const inputs = requests.map((r, i) => {
      if (r.continuation.length === 0) throw new ApiError('INVALID_ARGUMENT', `request ${i}: the continuation has no token`);
      // (context + continuation)[-(max + 1):][:-1], as the harness truncates from the left.
      const whole = [...r.context, ...r.continuation].slice(-(max + 1));
      return { i, ids: whole.slice(0, -1), scored: r.continuation.length };
    });
    for (const x of inputs) {
      const bad = x.ids.find((id) => !Number.isInteger(id) || id < 0 || id >= c.vocabSize);
      if (bad !== undefined) throw new ApiError('INVALID_ARGUMENT', `request ${x.i}: token id ${bad} is outside the vocabulary (0..${c.vocabSize - 1}); the tokenizer does not belong to this model`);
      if (x.scored > x.ids.length + 1) throw new ApiError('INVALID_ARGUMENT', `request ${x.i}: the continuation (${x.scored} tokens) does not fit the model's context of ${max}`);
    }
    // Requests whose model input is the same (one-token continuations of one context: MMLU's
    // letters) share one sequence, as the harness groups them; each still gathers its own targets.
    const unique = new Map<string, { ids: number[]; members: typeof inputs }>();
    for (const x of inputs) {
      const key = x.ids.join(',');
      const u = unique.get(key);
      if (u) u.members.push(x);
      else unique.set(key, { ids: x.ids, members: [x] });
    }
    const order = [...unique.values()].sort((a, b) => b.ids.length - a.ids.length || a.members[0].i - b.members[0].i);
    const batches: (typeof order)[] = [];
    for (const u of order) {
      const last = batches.at(-1);
      if (last && (last.length + 1) * last[0].ids.length <= BATCH_TOKENS && last.length < 64) last.push(u);
      else batches.push([u]);
    }
    const out: LoglikResult[] = new Array(requests.length);
    for (const [b, batch] of batches.entries()) {
      if (signal?.aborted) throw new ApiError('CANCELLED', 'the evaluation was cancelled');
      const T = batch[0].ids.length;
      const feeds = decoderFeeds(c, batch.map((u) => u.ids), this.maskWindows);
      // The scored positions: the last `scored` inputs of each sequence predict the continuation.
      const index: bigint[] = [];
      const target: bigint[] = [];
      const members = batch.flatMap((u, row) => u.members.map((x) => ({ x, row })));
      for (const { x, row } of members) {
        const whole = [...requests[x.i].context, ...requests[x.i].continuation].slice(-(c.maxPositions + 1));
        const n = x.ids.length;
        for (let k = 0; k < x.scored; k++) {
          const pos = n - x.scored + k;
          index.push(BigInt(row * T + pos));
          target.push(BigInt((index.length - 1) * c.vocabSize + whole[pos + 1]));
        }
      }
      feeds.token_index = { dtype: 'int64', dims: [index.length], data: BigInt64Array.from(index) };
      feeds.target_flat = { dtype: 'int64', dims: [target.length], data: BigInt64Array.from(target) };
      const res = await this.session.run(feeds, ['logprob', 'greedy'], signal);
      const logprob = res.logprob.data as Float32Array;
      const greedy = res.greedy.data as Uint8Array;
      let at = 0;
      for (const { x } of members) {
        let sum = 0;
        let all = true;
        for (let k = 0; k < x.scored; k++, at++) {
          sum += logprob[at];
          all &&= greedy[at] === 1;
        }
        out[x.i] = { loglikelihood: sum, isGreedy: all };
      }
      onBatch?.(b + 1, batches.length);
    }
    return out;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

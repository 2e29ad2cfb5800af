// Fused extraction: one graph runs the model up to the last SAE layer and every SAE on its hook,
// and returns per phrase and SAE the sparse (feature, mean, max) lists and fidelity sums. The
// model's and the SAEs' files are read in place through one external-data root: the deepest
// real folder holding all of them (symbolic links resolved, as in a Hugging Face hub cache).
import { ApiError } from '../../shared/errors';
import type { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { externalDataRoot } from '../engine/external-root';
import type { QuantizeOptions } from '../engine/quantize';
import type { PeftAdapter } from '../io/peft-adapter';
import { LoadedModel, type ModelFolder } from '../models/model';
import { saeGraph, saeSummaries } from './encode';
import { checkSaeFitsModel, type SaeSpec } from './sae';

export interface ExtractionSettings {
  /** Count the BOS token in the per-phrase reductions (default: excluded). */
  includeBos: boolean;
  /** 'fast': the model's decoder projections run as int8 (engine/quantize.ts); the SAEs stay float32. */
  precision?: 'exact' | 'fast';
  /** With 'fast': where the int8 weights go and the test-only bit count (QuantizeOptions). */
  quantize?: Omit<QuantizeOptions, 'root'>;
}

export const DEFAULT_EXTRACTION: ExtractionSettings = { includeBos: false };

/**
 * The sequence length a phrase of n tokens runs padded to: n rounded up to a step of
 * max(8, 2^(⌊log2 n⌋ − 3)) tokens (≤ 12.5 % padding), capped at the model's context.
 * onnxruntime's kernels give a phrase bit-identical results in any batch of the same padded length
 * (batch size and neighbours do not matter; measured in extract.test.ts), but a different padded
 * length changes the rounding of its reductions (2.4e-7). Phrases batched only with phrases of
 * the same padded length therefore get figures that do not depend on which run or batch computed
 * them: a cached-then-extended analysis equals a fresh one bit for bit.
 */
export function paddedLength(n: number, maxPositions = Infinity): number {
  const step = Math.max(8, 2 ** (Math.floor(Math.log2(Math.max(n, 1))) - 3));
  return Math.min(Math.ceil(n / step) * step, Math.max(n, maxPositions));
}

/** One phrase's summary under one SAE. */
export interface PhraseSummary {
  features: Uint32Array;
  mean: Float32Array;
  max: Float32Array;
  fidelity: Fidelity;
}

/** Sums over a phrase's counted tokens: squared error, ‖x‖², cosine, L0, ‖Σx‖², and the count. */
export interface Fidelity {
  sse: number;
  sumSq: number;
  cos: number;
  l0: number;
  sumNormSq: number;
  count: number;
}

export class SaeExtractor {
  private constructor(
    readonly model: LoadedModel,
    readonly saes: readonly SaeSpec[],
    readonly settings: ExtractionSettings,
    private readonly bosId: number | null,
  ) {}

  static async load(
    folder: ModelFolder,
    saes: readonly SaeSpec[],
    runtime: RuntimeHost,
    settings: ExtractionSettings = DEFAULT_EXTRACTION,
    signal?: AbortSignal,
    adapter?: PeftAdapter,
  ): Promise<SaeExtractor> {
    if (saes.length === 0) throw new ApiError('INVALID_ARGUMENT', 'choose at least one SAE');
    const hooks = new Set<string>();
    for (const s of saes) {
      checkSaeFitsModel(s, folder.info);
      if (hooks.has(s.hookName!)) throw new ApiError('INVALID_ARGUMENT', `two SAEs read ${s.hookName}; choose one per hook`);
      hooks.add(s.hookName!);
    }
    const files = [...folder.index.files, ...saes.flatMap((s) => Object.values(s.tensors).filter((t) => t && !t.data).map((t) => t!.file))];
    const root = externalDataRoot(files);
    const model = await LoadedModel.load(
      folder,
      runtime,
      { hooks: [], logits: false },
      signal,
      {
        taps: [...hooks],
        root,
        extend: ({ g, tapped, idsShape }) => {
          const mask = g.input('count_mask', 'float32', ['batch', 'seq']);
          saes.forEach((spec, i) => {
            const x = tapped.get(spec.hookName!)!;
            const summaries = saeSummaries(x, saeGraph(x, spec, root, `sae${i}`), mask, idsShape, spec);
            for (const [name, value] of Object.entries(summaries)) g.output(value, `sae${i}.${name}`);
          });
        },
      },
      adapter,
      settings.precision === 'fast' ? (settings.quantize ?? {}) : undefined,
    );
    return new SaeExtractor(model, saes, settings, folder.config.bosTokenId);
  }

  /** Summaries per phrase (outer) and SAE (inner). The batch runs padded to `paddedLength` of its
   * longest phrase: batch phrases of one padded length together for batch-independent figures. */
  async run(phrases: readonly (readonly number[])[], signal?: AbortSignal): Promise<PhraseSummary[][]> {
    const B = phrases.length;
    const longest = phrases.reduce((best, p, b) => (p.length > phrases[best].length ? b : best), 0);
    const T = paddedLength(phrases[longest].length, this.model.folder.config.maxPositions);
    // The model pads to the longest phrase it is given, so the longest one is lengthened to T with
    // copies of its last token: causal attention keeps them from every counted position, and the
    // count mask leaves them out of the reductions (its figures equal a padded run's bit for bit).
    // onnxruntime reduces a batch of one over the tokens in another order than a larger batch
    // (1e-7 apart), so a lone phrase runs beside an uncounted one-token filler.
    const run = phrases.map((p, b) => (b === longest && p.length < T ? [...p, ...Array<number>(T - p.length).fill(p[p.length - 1])] : p));
    if (B === 1) run.push([phrases[0][0]]);
    const mask = new Float32Array(run.length * T);
    phrases.forEach((p, b) =>
      p.forEach((id, t) => {
        if (!this.settings.includeBos && t === 0 && id === this.bosId) return;
        mask[b * T + t] = 1;
      }),
    );
    const out = await this.model.runRaw(run, { count_mask: { dtype: 'float32', dims: [run.length, T], data: mask } }, signal);
    const result: PhraseSummary[][] = phrases.map(() => []);
    this.saes.forEach((spec, i) => {
      const get = (name: string): HostTensor => out[`sae${i}.${name}`];
      const bad = (get('nonFinite').data as Float32Array)[0];
      if (bad > 0) {
        throw new ApiError('WEIGHTS_INVALID', `${spec.source}: the SAE on ${spec.hookName} produced ${bad} NaN or infinite values; its weights (or the model's up to that layer) contain NaN or Inf`, { file: spec.source });
      }
      const index = get('index').data as BigInt64Array;
      const mean = get('mean').data as Float32Array;
      const max = get('max').data as Float32Array;
      const fidelity = get('fidelity').data as Float32Array;
      // NonZero lists coordinates in row-major order: each phrase's features are contiguous.
      let at = 0;
      for (let b = 0; b < B; b++) {
        const start = at;
        while (at < mean.length && Number(index[2 * at]) === b) at++;
        const features = new Uint32Array(at - start);
        for (let j = start; j < at; j++) features[j - start] = Number(index[2 * j + 1]);
        const f = fidelity.subarray(b * 5, b * 5 + 5);
        const count = mask.subarray(b * T, (b + 1) * T).reduce((s, v) => s + v, 0);
        result[b].push({ features, mean: mean.slice(start, at), max: max.slice(start, at), fidelity: { sse: f[0], sumSq: f[1], cos: f[2], l0: f[3], sumNormSq: f[4], count } });
      }
    });
    return result;
  }

  release(): Promise<void> {
    return this.model.release();
  }
}

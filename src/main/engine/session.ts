// onnxruntime-node sessions over graphs built by the engine, on the execution provider asked for
// (or the best available one) with a report of every provider tried. `run` blocks the calling
// thread inside onnxruntime: product code runs sessions through the RuntimeHost (a worker
// thread); this class is the in-thread primitive it (and the engine's tests) use.
import * as ort from 'onnxruntime-node';
import { ApiError } from '../../shared/errors';
import type { DType } from './onnx-proto';
import { attemptsSummary, baseSessionOptions, ortMessage, probeProviders, providerCandidates, type ProviderAttempt, type ProviderName } from './providers';

export type HostArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

export interface HostTensor {
  dtype: DType;
  dims: readonly number[];
  data: HostArray;
}

const ORT_TYPE: Partial<Record<DType, ort.Tensor.Type>> = {
  float32: 'float32',
  float64: 'float64',
  int32: 'int32',
  int64: 'int64',
  bool: 'bool',
  uint8: 'uint8',
};

export interface SessionOptions {
  /** 'auto' (default: the best available provider) or one provider, with the CPU as fallback. */
  provider?: ProviderName | 'auto';
  /** Threads for one op; 0 = onnxruntime's default (one per core). */
  intraOpThreads?: number;
  /** Keep MatMul weights memory-mapped instead of prepacked copies (zero-copy loads). */
  disablePrepacking?: boolean;
  /** Folder that external-data locations in a model given as bytes are relative to (the weights'
   * folder). onnxruntime refuses locations that leave it, absolute ones and symbolic links. */
  externalDataFolder?: string;
}

export class EngineSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    /** The provider the session runs on (nodes it lacks kernels for run on the CPU). */
    readonly provider: ProviderName,
    /** Every provider tried, in order, with why it was passed over. */
    readonly attempts: readonly ProviderAttempt[],
  ) {}

  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<EngineSession> {
    const requested = options.provider ?? 'auto';
    const probes = new Map((await probeProviders()).map((p) => [p.name, p]));
    const attempts: ProviderAttempt[] = [];
    let lastError: unknown;
    for (const name of providerCandidates(requested)) {
      const probe = probes.get(name);
      if (probe && !probe.available) {
        attempts.push({ name, ok: false, detail: probe.detail });
        continue;
      }
      const sessionOptions: ort.InferenceSession.SessionOptions = {
        ...baseSessionOptions(name),
        intraOpNumThreads: options.intraOpThreads ?? 0,
        extra: {
          session: {
            // Several sessions share few cores: spinning threads would steal each other's time.
            intra_op: { allow_spinning: '0' },
            ...(options.disablePrepacking ? { disable_prepacking: '1' } : {}),
            ...(options.externalDataFolder ? { model_external_initializers_file_folder_path: options.externalDataFolder } : {}),
          },
        },
      };
      try {
        const session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
        attempts.push({ name, ok: true, detail: 'used' });
        return new EngineSession(session, name, attempts);
      } catch (error) {
        lastError = error;
        attempts.push({ name, ok: false, detail: ortMessage(error) });
        // A graph the CPU provider rejects is the graph's fault, not the provider's.
        if (name === 'cpu') break;
      }
    }
    const detail = lastError ? ortMessage(lastError) : 'no execution provider is available';
    throw new ApiError('RUNTIME_ERROR', `onnxruntime could not load the graph: ${detail}`, { tried: attemptsSummary(attempts) });
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  async run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      const type = ORT_TYPE[t.dtype];
      if (!type) throw new ApiError('RUNTIME_ERROR', `input ${name}: dtype ${t.dtype} cannot be fed from JavaScript`);
      ortFeeds[name] = new ort.Tensor(type, t.data as never, t.dims as number[]);
    }
    let results: ort.InferenceSession.ReturnType;
    try {
      results = fetches ? await this.session.run(ortFeeds, fetches as string[]) : await this.session.run(ortFeeds);
    } catch (error) {
      throw new ApiError('RUNTIME_ERROR', `onnxruntime run failed: ${ortMessage(error)}`);
    }
    const out: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      out[name] = { dtype: t.type as DType, dims: [...t.dims], data: t.data as HostArray };
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

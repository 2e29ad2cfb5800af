// onnxruntime-node sessions over graphs built by the engine. CPU here; execution-provider choice
// and the worker-thread host come with the runtime layer.
import * as ort from 'onnxruntime-node';
import { ApiError } from '../../shared/errors';
import type { DType } from './onnx-proto';

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
  /** Threads for one op; 0 = ORT's default. */
  intraOpThreads?: number;
  /** Keep MatMul weights memory-mapped instead of prepacked copies (zero-copy loads). */
  disablePrepacking?: boolean;
}

export class EngineSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(model: Uint8Array | string, options: SessionOptions = {}): Promise<EngineSession> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: options.intraOpThreads ?? 0,
      extra: {
        session: {
          // Several sessions share 2 cores: spinning threads would steal each other's time.
          intra_op: { allow_spinning: '0' },
          ...(options.disablePrepacking ? { disable_prepacking: '1' } : {}),
        },
      },
    };
    try {
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, sessionOptions) : await ort.InferenceSession.create(model, sessionOptions);
      return new EngineSession(session);
    } catch (error) {
      throw new ApiError('RUNTIME_ERROR', `onnxruntime could not load the graph: ${(error as Error).message.split('\n')[0]}`);
    }
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
      throw new ApiError('RUNTIME_ERROR', `onnxruntime run failed: ${(error as Error).message.split('\n')[0]}`);
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

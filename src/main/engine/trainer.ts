// The host side of training: keeps parameters and AdamW moments as typed arrays, feeds them to
// the training graph each step and takes the updated ones back. The step counter and the
// arrays are the whole state: a checkpoint of them resumes bit-identically.
import { ApiError } from '../../shared/errors';
import type { Graph, Value } from './graph';
import { appendAdamW, checkAdamWConfig, type AdamWConfig, type TrainableParam } from './optim';
import type { RuntimeHost } from './runtime-host';
import { EngineSession, type HostTensor, type SessionOptions } from './session';

/** EngineSession (in this thread) or a RemoteSession (the compute worker). */
interface StepSession {
  run(feeds: Record<string, HostTensor>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

export interface TrainerState {
  step: number;
  /** Parameters by name, and their moments as `${name}.m` / `${name}.v`. */
  tensors: Record<string, HostTensor>;
}

export interface StepResult {
  loss: number;
  gradNorm: number;
  /** The graph's other scalar outputs (e.g. a loss's terms). */
  scalars: Record<string, number>;
}

function zerosLike(t: HostTensor): HostTensor {
  const Ctor = t.data.constructor as new (n: number) => HostTensor['data'];
  return { dtype: t.dtype, dims: [...t.dims], data: new Ctor(t.data.length) };
}

export class Trainer {
  private constructor(
    private readonly session: StepSession,
    private readonly names: string[],
    private readonly config: AdamWConfig,
    private readonly dtype: Value['dtype'],
    private state: TrainerState,
  ) {}

  /**
   * graph: has the params as inputs and a scalar `loss`; this appends backward + AdamW.
   * initial: the starting value of every parameter, by name.
   */
  static async create(
    graph: Graph,
    loss: Value,
    params: readonly TrainableParam[],
    initial: Record<string, HostTensor>,
    config: AdamWConfig,
    /** Run the steps in the compute worker (the calling thread stays free). */
    runtime?: RuntimeHost,
    /** Session options (a graph over external-data weights names their folder). */
    sessionOptions: SessionOptions = {},
  ): Promise<Trainer> {
    checkAdamWConfig(config); // before the graph is touched
    graph.output(loss, 'loss');
    appendAdamW(graph, loss, params, config);
    const tensors: Record<string, HostTensor> = {};
    for (const p of params) {
      const t = initial[p.value.name];
      if (!t) throw new ApiError('INVALID_ARGUMENT', `no initial value for parameter ${p.value.name}`);
      tensors[p.value.name] = t;
      tensors[`${p.value.name}.m`] = zerosLike(t);
      tensors[`${p.value.name}.v`] = zerosLike(t);
    }
    const model = graph.toModel();
    const options: SessionOptions = { provider: 'cpu', ...sessionOptions };
    const session: StepSession = runtime ? await runtime.load(model, options) : await EngineSession.create(model, options);
    return new Trainer(session, params.map((p) => p.value.name), config, loss.dtype, { step: 0, tensors });
  }

  get step(): number {
    return this.state.step;
  }

  /** One optimizer step on `batch` (the graph's data inputs) with learning rate `lr`. */
  async train(batch: Record<string, HostTensor>, lr: number, lossScale = 1): Promise<StepResult> {
    // Refused before the run, so the state stays at the last good step.
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ApiError('INVALID_ARGUMENT', `the learning rate must be a finite number 0 or more; got ${String(lr)}`, { setting: 'lr', value: String(lr) });
    }
    if (typeof lossScale !== 'number' || !Number.isFinite(lossScale) || lossScale <= 0) {
      throw new ApiError('INVALID_ARGUMENT', `the loss scale must be a finite number above 0; got ${String(lossScale)}`, { setting: 'lossScale', value: String(lossScale) });
    }
    const t = this.state.step + 1;
    const scalar = (v: number): HostTensor => ({ dtype: this.dtype, dims: [], data: this.dtype === 'float64' ? Float64Array.of(v) : Float32Array.of(v) });
    const feeds: Record<string, HostTensor> = {
      ...batch,
      ...this.state.tensors,
      'adamw.lr': scalar(lr),
      'adamw.c1': scalar(1 - this.config.beta1 ** t),
      'adamw.c2': scalar(1 - this.config.beta2 ** t),
      'adamw.inv_loss_scale': scalar(1 / lossScale),
    };
    const out = await this.session.run(feeds);
    const loss = out.loss.data[0] as number;
    if (!Number.isFinite(loss)) {
      throw new ApiError('RUNTIME_ERROR', `the loss became ${loss} at step ${t}; parameters were kept from step ${t - 1}`);
    }
    // A finite loss can still have NaN/Inf gradients (an overflow the forward pass squashed, e.g.
    // inf/inf inside a norm): the update would make every parameter NaN, so it is refused too.
    const gradNorm = out.grad_norm.data[0] as number;
    if (!Number.isFinite(gradNorm)) {
      throw new ApiError('RUNTIME_ERROR', `the loss became finite but the gradient norm ${gradNorm} at step ${t}; parameters were kept from step ${t - 1}`);
    }
    const tensors: Record<string, HostTensor> = {};
    for (const name of this.names) {
      tensors[name] = out[`${name}.next`];
      tensors[`${name}.m`] = out[`${name}.m.next`];
      tensors[`${name}.v`] = out[`${name}.v.next`];
    }
    this.state = { step: t, tensors };
    const scalars: Record<string, number> = {};
    for (const [name, t] of Object.entries(out)) if (t.dims.length === 0 && name !== 'loss' && name !== 'grad_norm') scalars[name] = Number(t.data[0]);
    return { loss, gradNorm, scalars };
  }

  /** Runs the graph on `batch` with the current parameters, or with `overrides` of some of them
   * (e.g. LoRA B = 0 for the frozen model), and returns the `fetches` outputs; the state is not
   * touched. */
  async evaluate(batch: Record<string, HostTensor>, fetches: readonly string[], overrides: Record<string, HostTensor> = {}): Promise<Record<string, HostTensor>> {
    const scalar = (v: number): HostTensor => ({ dtype: this.dtype, dims: [], data: this.dtype === 'float64' ? Float64Array.of(v) : Float32Array.of(v) });
    const one = scalar(1);
    return this.session.run({ ...batch, ...this.state.tensors, ...overrides, 'adamw.lr': scalar(0), 'adamw.c1': one, 'adamw.c2': one, 'adamw.inv_loss_scale': one }, fetches);
  }

  /** The current parameters by name (not copies: read them before the next step). */
  parameters(): Record<string, HostTensor> {
    return Object.fromEntries(this.names.map((n) => [n, this.state.tensors[n]]));
  }

  /** The full state (copies), e.g. to write a checkpoint. */
  snapshot(): TrainerState {
    const tensors: Record<string, HostTensor> = {};
    for (const [k, v] of Object.entries(this.state.tensors)) tensors[k] = { ...v, dims: [...v.dims], data: v.data.slice() };
    return { step: this.state.step, tensors };
  }

  restore(state: TrainerState): void {
    for (const name of Object.keys(this.state.tensors)) {
      const t = state.tensors[name];
      const cur = this.state.tensors[name];
      if (!t || t.data.length !== cur.data.length || t.dtype !== cur.dtype) {
        throw new ApiError('INVALID_ARGUMENT', `checkpoint tensor ${name} is missing or has another shape/dtype`);
      }
    }
    this.state = { step: state.step, tensors: { ...state.tensors } };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

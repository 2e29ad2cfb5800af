// The tape: `g.op(type, inputs, attrs)` appends a node and returns typed output values with
// inferred shapes (symbolic dims are strings, e.g. 'batch'). Nodes are appended in creation
// order, so the tape is already topologically sorted; `toModel` emits the nodes that reach an
// output as an ONNX ModelProto.
import { ApiError } from '../../shared/errors';
import { encodeAttribute, encodeTensor, encodeValueInfo, ProtoWriter, type AttrValue, type DType, type Dim, type ExternalData } from './onnx-proto';
import { float32ToF16 } from '../io/safetensors';
import { getOpDef } from './ops/registry';
import './ops/all';

export type { AttrValue, DType, Dim, ExternalData };
export type Attrs = Record<string, AttrValue>;

export interface Value {
  readonly id: number;
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly Dim[];
  readonly graph: Graph;
  /** The node that produced it; absent for graph inputs and initializers. */
  readonly node?: Node;
}

export interface Node {
  readonly id: number;
  readonly opType: string;
  readonly domain: string;
  readonly inputs: readonly (Value | null)[];
  readonly outputs: readonly Value[];
  readonly attrs: Attrs;
}

interface Initializer {
  value: Value;
  data: Uint8Array | ExternalData;
}

export const DEFAULT_OPSET = 21;
export const IR_VERSION = 10;

export function graphError(message: string): ApiError {
  return new ApiError('GRAPH_ERROR', message);
}

export class Graph {
  private nextId = 0;
  readonly inputs: Value[] = [];
  readonly nodes: Node[] = [];
  readonly initializers: Initializer[] = [];
  readonly outputs: Value[] = [];
  private readonly names = new Set<string>();
  readonly opsets = new Map<string, number>([['', DEFAULT_OPSET]]);
  /** Values autodiff treats as constants (see `stopGradient` in autodiff.ts). */
  readonly stopped = new Set<number>();

  constructor(readonly name = 'linguascope') {}

  private value(dtype: DType, shape: readonly Dim[], name?: string, node?: Node): Value {
    const id = this.nextId++;
    const unique = name ?? `v${id}`;
    if (this.names.has(unique)) throw graphError(`a value named "${unique}" already exists in graph ${this.name}`);
    this.names.add(unique);
    return { id, name: unique, dtype, shape: [...shape], graph: this, node };
  }

  input(name: string, dtype: DType, shape: readonly Dim[]): Value {
    const v = this.value(dtype, shape, name);
    this.inputs.push(v);
    return v;
  }

  /** A weight stored in the model (raw bytes) or pointing into another file (external data). */
  initializer(name: string, dtype: DType, shape: readonly number[], data: Uint8Array | ExternalData): Value {
    const v = this.value(dtype, shape, name);
    this.initializers.push({ value: v, data });
    return v;
  }

  /** A small constant tensor; `shape` [] makes a scalar. */
  constant(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType, shape: readonly number[] = [values.length]): Value {
    const bytes = toBytes(values, dtype);
    return this.initializer(`const${this.nextId}`, dtype, shape, bytes);
  }

  scalar(value: number, dtype: DType): Value {
    return this.constant([value], dtype, []);
  }

  op(opType: string, inputs: readonly (Value | null)[], attrs: Attrs = {}, domain = ''): Value[] {
    for (const v of inputs) {
      if (v && v.graph !== this) throw graphError(`${opType}: input ${v.name} belongs to another graph`);
    }
    const def = getOpDef(opType, domain);
    const inferred = def.infer(inputs, attrs);
    const node: { -readonly [K in keyof Node]: Node[K] } = { id: this.nodes.length, opType, domain, inputs: [...inputs], outputs: [], attrs };
    node.outputs = inferred.map((o) => this.value(o.dtype, o.shape, undefined, node));
    this.nodes.push(node);
    return [...node.outputs];
  }

  op1(opType: string, inputs: readonly (Value | null)[], attrs: Attrs = {}, domain = ''): Value {
    return this.op(opType, inputs, attrs, domain)[0];
  }

  /** Declares a graph output under `name` (an Identity is added when the value has another name). */
  output(value: Value, name?: string): Value {
    const out = name && name !== value.name ? this.named(value, name) : value;
    this.outputs.push(out);
    return out;
  }

  private named(value: Value, name: string): Value {
    const node: { -readonly [K in keyof Node]: Node[K] } = { id: this.nodes.length, opType: 'Identity', domain: '', inputs: [value], outputs: [], attrs: {} };
    node.outputs = [this.value(value.dtype, value.shape, name, node)];
    this.nodes.push(node);
    return node.outputs[0];
  }

  /** Nodes that some output depends on, in tape order. */
  liveNodes(): Node[] {
    const live = new Set<number>();
    const stack = [...this.outputs];
    const seen = new Set<number>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v.id)) continue;
      seen.add(v.id);
      if (v.node && !live.has(v.node.id)) {
        live.add(v.node.id);
        for (const i of v.node.inputs) if (i) stack.push(i);
      }
    }
    return this.nodes.filter((n) => live.has(n.id));
  }

  toModel(options: { producer?: string } = {}): Uint8Array {
    if (this.outputs.length === 0) throw graphError(`graph ${this.name} has no outputs`);
    const nodes = this.liveNodes();
    const used = new Set<number>();
    for (const n of nodes) for (const i of n.inputs) if (i) used.add(i.id);
    for (const o of this.outputs) used.add(o.id);
    const graph = new ProtoWriter();
    for (const n of nodes) {
      const node = new ProtoWriter();
      for (const i of n.inputs) node.string(1, i ? i.name : '');
      for (const o of n.outputs) node.string(2, o.name);
      node.string(3, `${n.opType}_${n.id}`).string(4, n.opType);
      for (const [k, v] of Object.entries(n.attrs)) node.message(5, encodeAttribute(k, v));
      if (n.domain) node.string(7, n.domain);
      graph.message(1, node);
    }
    graph.string(2, this.name);
    for (const init of this.initializers) {
      if (used.has(init.value.id)) graph.message(5, encodeTensor(init.value.name, init.value.dtype, init.value.shape as number[], init.data));
    }
    // Every declared input stays (callers feed them by name), used or not.
    for (const v of this.inputs) graph.message(11, encodeValueInfo(v.name, v.dtype, v.shape));
    for (const v of this.outputs) graph.message(12, encodeValueInfo(v.name, v.dtype, v.shape));
    const model = new ProtoWriter().int(1, IR_VERSION).string(2, options.producer ?? 'linguascope');
    for (const [domain, version] of this.opsets) model.message(8, new ProtoWriter().string(1, domain).int(2, version));
    model.message(7, graph);
    return model.finish();
  }
}

export function toBytes(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case 'float64':
      return new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer);
    case 'float16':
      // Rounded to nearest even through float32 (io/safetensors.ts), as numpy/torch round.
      return new Uint8Array(float32ToF16(Float32Array.from(values as ArrayLike<number>)).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'bool':
    case 'uint8':
      return Uint8Array.from(values as ArrayLike<number>, (v) => Number(v));
    default:
      throw graphError(`constants of dtype ${dtype} are not supported; build them in float32 and Cast`);
  }
}

// Minimal protobuf encoder for the ONNX messages we emit (onnx.proto, proto2): ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto. Encoding only: ORT parses.
// Messages become lists of byte chunks so large raw tensors are never copied until the end.

export const enum Wire {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** ONNX TensorProto.DataType. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;

export type DType = keyof typeof ONNX_DTYPE;

const textEncoder = new TextEncoder();

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private length = 0;

  private flushScratch(): void {
    if (this.scratch.length) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.scratch = [];
    }
  }

  private varint(value: number | bigint): void {
    // int64 fields: negative numbers are ten-byte two's complement varints.
    let v = BigInt.asUintN(64, BigInt(value));
    if (v < 0x80n) {
      this.scratch.push(Number(v));
      this.length += 1;
      return;
    }
    while (v >= 0x80n) {
      this.scratch.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
      this.length += 1;
    }
    this.scratch.push(Number(v));
    this.length += 1;
  }

  private tag(field: number, wire: Wire): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, Wire.Varint);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, Wire.Fixed32);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.scratch.push(...b);
    this.length += 4;
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, Wire.Bytes);
    this.varint(data.byteLength);
    this.flushScratch();
    this.chunks.push(data);
    this.length += data.byteLength;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value));
  }

  message(field: number, inner: ProtoWriter): this {
    this.tag(field, Wire.Bytes);
    this.varint(inner.byteLength);
    this.flushScratch();
    // One push per chunk: spreading a large graph's parts (hundreds of thousands of chunks) as
    // call arguments overflows the stack.
    for (const part of inner.parts()) this.chunks.push(part);
    this.length += inner.byteLength;
    return this;
  }

  get byteLength(): number {
    return this.length;
  }

  parts(): Uint8Array[] {
    this.flushScratch();
    return this.chunks;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.parts()) {
      out.set(chunk, at);
      at += chunk.byteLength;
    }
    return out;
  }
}

export type Dim = number | string;

export function encodeValueInfo(name: string, dtype: DType, shape: readonly Dim[] | null): ProtoWriter {
  const tensorType = new ProtoWriter().int(1, ONNX_DTYPE[dtype]);
  if (shape) {
    const shapeProto = new ProtoWriter();
    for (const d of shape) {
      shapeProto.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
    }
    tensorType.message(2, shapeProto);
  }
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface ExternalData {
  /** Path relative to the model file's folder. */
  location: string;
  offset: number;
  length: number;
}

export function encodeTensor(name: string, dtype: DType, dims: readonly number[], data: Uint8Array | ExternalData): ProtoWriter {
  const t = new ProtoWriter();
  for (const d of dims) t.int(1, d);
  t.int(2, ONNX_DTYPE[dtype]).string(8, name);
  if (data instanceof Uint8Array) {
    t.bytes(9, data);
  } else {
    const entry = (key: string, value: string) => new ProtoWriter().string(1, key).string(2, value);
    t.message(13, entry('location', data.location))
      .message(13, entry('offset', String(data.offset)))
      .message(13, entry('length', String(data.length)))
      .int(14, 1);
  }
  return t;
}

export type AttrValue = number | string | number[] | string[] | { float: number } | { floats: number[] } | { tensor: ProtoWriter };

/** ints are integers; floats must be marked ({float: x}) so 1.0 is not mistaken for INT. */
export function encodeAttribute(name: string, value: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; pass {float: ${value}}`);
    return a.int(3, value).int(20, 2);
  }
  if (typeof value === 'string') return a.string(4, value).int(20, 3);
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v === 'number')) {
      for (const v of value as number[]) a.int(8, v);
      return a.int(20, 7);
    }
    for (const v of value as string[]) a.string(9, v);
    return a.int(20, 8);
  }
  if ('float' in value) return a.float(2, value.float).int(20, 1);
  if ('floats' in value) {
    for (const v of value.floats) a.float(7, v);
    return a.int(20, 6);
  }
  return a.message(5, value.tensor).int(20, 4);
}

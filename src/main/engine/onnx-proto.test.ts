// The protobuf writer on a model as large as a full-size training graph (Gemma-2-2B with LoRA
// backward and AdamW: ~16k nodes, hundreds of thousands of chunks): nesting a message must not
// pass its chunks as call arguments (that overflowed the stack on Node's main thread).
import { describe, expect, it } from 'vitest';
import { ProtoWriter } from './onnx-proto';

describe('ProtoWriter', () => {
  it('nests a message of 400,000 chunks and writes every byte', () => {
    const inner = new ProtoWriter();
    for (let i = 0; i < 400_000; i++) inner.string(1, 'x');
    const outer = new ProtoWriter().message(7, inner);
    const bytes = outer.finish();
    // tag + 3-byte length varint + 400,000 × (tag, length, 'x')
    expect(bytes.byteLength).toBe(1 + 3 + 1_200_000);
    expect(bytes[0]).toBe((7 << 3) | 2);
    expect(Array.from(bytes.subarray(4, 7))).toEqual([(1 << 3) | 2, 1, 'x'.charCodeAt(0)]);
  });
});

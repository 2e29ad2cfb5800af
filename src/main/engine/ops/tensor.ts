// Shape-moving ops: Reshape, Transpose, Slice, Concat, Expand, Gather, Unsqueeze, Squeeze,
// and the helpers gradient rules use (Shape, Size, Pad, ScatterND).
import { graphError, type Dim, type Value } from '../graph';
import { cast } from './elementwise';
import { defineOp } from './registry';
import { broadcastShapes, expandTo, int64s, isStatic, normalizeAxis, numel, reshapeTo, shapeOf, unbroadcast } from './shapes';

/** The values of an int64 constant, or the dims of `v` when it is Shape(v). */
export function knownInts(v: Value, op: string): Dim[] {
  const init = v.graph.initializers.find((i) => i.value === v);
  if (init && init.data instanceof Uint8Array) return Array.from(new BigInt64Array(init.data.slice().buffer), Number);
  if (v.node?.opType === 'Shape') return [...v.node.inputs[0]!.shape];
  // Shapes assembled from pieces of other shapes: Concat of known parts, Slice of a known vector.
  if (v.node?.opType === 'Concat') return v.node.inputs.flatMap((part) => knownInts(part!, op));
  if (v.node?.opType === 'Slice' && v.shape.length === 1) {
    const [source, starts, ends] = v.node.inputs;
    const whole = knownInts(source!, op);
    const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + whole.length : i, 0), whole.length);
    return whole.slice(clamp(knownInts(starts!, op)[0] as number), clamp(knownInts(ends!, op)[0] as number));
  }
  throw graphError(`${op}: the shape/indices input must be a constant, Shape(x), or Concat/Slice of those`);
}

export const reshape = (x: Value, shape: readonly number[]) => x.graph.op1('Reshape', [x, int64s(x.graph, shape)]);
export const transpose = (x: Value, perm: number[]) => x.graph.op1('Transpose', [x], { perm });
export const unsqueeze = (x: Value, axes: number[]) => x.graph.op1('Unsqueeze', [x, int64s(x.graph, axes)]);
export const squeeze = (x: Value, axes: number[]) => x.graph.op1('Squeeze', [x, int64s(x.graph, axes)]);
export const concat = (xs: Value[], axis: number) => xs[0].graph.op1('Concat', xs, { axis });
export const expand = (x: Value, shape: readonly number[]) => expandTo(x, int64s(x.graph, shape));
/** x[..., start:end, ...] along `axis`, step 1. */
export const slice = (x: Value, axis: number, start: number, end: number) =>
  x.graph.op1('Slice', [x, int64s(x.graph, [start]), int64s(x.graph, [end]), int64s(x.graph, [axis])]);
/** Rows of `table` (V, D) for integer `indices` (...): (..., D). */
export const gather = (table: Value, indices: Value, axis = 0) => table.graph.op1('Gather', [table, indices], { axis });

const reshapeBack = (dy: Value, x: Value) => reshapeTo(dy, shapeOf(x));

/** The dim a Reshape's -1 stands for: what is left of x's elements once `others` are taken out.
 * Symbolic dims cancel by name; a leftover product of names becomes a name such as "batch*seq". */
function inferredDim(shape: readonly Dim[], others: readonly Dim[]): Dim {
  const names = shape.filter((d): d is string => typeof d === 'string');
  let ratio = numel(shape.filter((d): d is number => typeof d === 'number'));
  for (const d of others) {
    if (typeof d === 'number') {
      ratio /= d;
      continue;
    }
    const at = names.indexOf(d);
    if (at < 0) throw graphError(`Reshape: cannot tell what -1 is when reshaping [${shape}] into a shape with ${d}`);
    names.splice(at, 1);
  }
  if (!Number.isInteger(ratio)) throw graphError(`Reshape: cannot reshape [${shape}] into [${others}] plus -1`);
  if (names.length === 0) return ratio;
  const name = names.join('*');
  return ratio === 1 ? name : `${ratio}*${name}`;
}

defineOp({
  type: 'Reshape',
  // A 0 in the target copies x's dim unless allowzero (then it is a zero-size axis).
  infer: ([x, shape], attrs) => {
    const target = knownInts(shape!, 'Reshape').map((d, i) => (d === 0 && !attrs.allowzero ? x!.shape[i] : d));
    const minus = target.indexOf(-1);
    if (minus >= 0) target[minus] = inferredDim(x!.shape, target.filter((_, i) => i !== minus));
    if (isStatic(x!.shape) && isStatic(target) && numel(x!.shape) !== numel(target)) {
      throw graphError(`Reshape: cannot reshape [${x!.shape}] into [${target}]`);
    }
    return [{ dtype: x!.dtype, shape: target }];
  },
  vjp: (n, [dy]) => [dy && reshapeBack(dy, n.inputs[0]!), null],
});

defineOp({
  type: 'Transpose',
  infer: ([x], attrs) => {
    const perm = (attrs.perm as number[] | undefined) ?? [...x!.shape.keys()].reverse();
    return [{ dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]) }];
  },
  vjp: (n, [dy]) => {
    if (!dy) return [null];
    const perm = (n.attrs.perm as number[] | undefined) ?? [...n.inputs[0]!.shape.keys()].reverse();
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(dy, inverse)];
  },
});

function unsqueezedShape(shape: readonly Dim[], axes: number[]): Dim[] {
  const rank = shape.length + axes.length;
  const norm = axes.map((a) => normalizeAxis(a, rank, 'Unsqueeze'));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : shape[j++]);
  return out;
}

defineOp({
  type: 'Unsqueeze',
  infer: ([x, axes]) => [{ dtype: x!.dtype, shape: unsqueezedShape(x!.shape, knownInts(axes!, 'Unsqueeze') as number[]) }],
  vjp: (n, [dy]) => [dy && reshapeBack(dy, n.inputs[0]!), null],
});

defineOp({
  type: 'Squeeze',
  infer: ([x, axes]) => {
    const norm = (knownInts(axes!, 'Squeeze') as number[]).map((a) => normalizeAxis(a, x!.shape.length, 'Squeeze'));
    return [{ dtype: x!.dtype, shape: x!.shape.filter((_, i) => !norm.includes(i)) }];
  },
  vjp: (n, [dy]) => [dy && reshapeBack(dy, n.inputs[0]!), null],
});

defineOp({
  type: 'Expand',
  infer: ([x, shape]) => [{ dtype: x!.dtype, shape: broadcastShapes('Expand', x!.shape, knownInts(shape!, 'Expand')) }],
  vjp: (n, [dy]) => [dy && unbroadcast(dy, n.inputs[0]!), null],
});

// Slice with constant starts/ends/axes and step 1; the gradient pads dy with zeros back to x's shape.
defineOp({
  type: 'Slice',
  infer: ([x, starts, ends, axes, steps]) => {
    const s = knownInts(starts!, 'Slice') as number[];
    const e = knownInts(ends!, 'Slice') as number[];
    const ax = axes ? (knownInts(axes, 'Slice') as number[]) : s.map((_, i) => i);
    if (steps && (knownInts(steps, 'Slice') as number[]).some((st) => st !== 1)) throw graphError('Slice: only step 1 is supported');
    const shape = [...x!.shape];
    ax.forEach((a, i) => {
      const axis = normalizeAxis(a, shape.length, 'Slice');
      const dim = shape[axis];
      if (typeof dim !== 'number') throw graphError('Slice: the sliced axis must have a static size');
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      shape[axis] = Math.max(clamp(e[i]) - clamp(s[i]), 0);
    });
    return [{ dtype: x!.dtype, shape }];
  },
  vjp: (n, [dy]) => {
    if (!dy) return [null, null, null, null, null];
    const x = n.inputs[0]!;
    const rank = x.shape.length;
    const s = knownInts(n.inputs[1]!, 'Slice') as number[];
    const ax = n.inputs[3] ? (knownInts(n.inputs[3], 'Slice') as number[]) : s.map((_, i) => i);
    const pads = new Array(2 * rank).fill(0);
    ax.forEach((a, i) => {
      const axis = normalizeAxis(a, rank, 'Slice');
      const dim = x.shape[axis] as number;
      const start = Math.min(Math.max(s[i] < 0 ? s[i] + dim : s[i], 0), dim);
      pads[axis] = start;
      pads[rank + axis] = dim - start - (dy.shape[axis] as number);
    });
    return [dy.graph.op1('Pad', [dy, int64s(dy.graph, pads)]), null, null, null, null];
  },
});

defineOp({
  type: 'Pad',
  infer: ([x, pads]) => {
    const p = knownInts(pads!, 'Pad') as number[];
    const r = x!.shape.length;
    return [{ dtype: x!.dtype, shape: x!.shape.map((d, i) => (typeof d === 'number' ? d + p[i] + p[r + i] : d)) }];
  },
});

defineOp({
  type: 'Concat',
  infer: (inputs, attrs) => {
    const first = inputs[0]!;
    const axis = normalizeAxis(attrs.axis as number, first.shape.length, 'Concat');
    const sizes = inputs.map((v) => v!.shape[axis]);
    const total = sizes.every((d) => typeof d === 'number') ? (sizes as number[]).reduce((a, b) => a + b, 0) : `concat${axis}`;
    return [{ dtype: first.dtype, shape: first.shape.map((d, i) => (i === axis ? total : d)) }];
  },
  vjp: (n, [dy]) => {
    if (!dy) return n.inputs.map(() => null);
    const axis = normalizeAxis(n.attrs.axis as number, dy.shape.length, 'Concat');
    let offset = 0;
    return n.inputs.map((x) => {
      const size = x!.shape[axis];
      if (typeof size !== 'number') throw graphError('Concat gradient: concatenated sizes must be static');
      const part = slice(dy, axis, offset, offset + size);
      offset += size;
      return part;
    });
  },
});

// Gather along axis 0 (embedding lookup): the gradient scatters-adds rows into zeros of the table.
defineOp({
  type: 'Gather',
  infer: ([data, indices], attrs) => {
    const axis = normalizeAxis((attrs.axis as number | undefined) ?? 0, data!.shape.length, 'Gather');
    return [{ dtype: data!.dtype, shape: [...data!.shape.slice(0, axis), ...indices!.shape, ...data!.shape.slice(axis + 1)] }];
  },
  vjp: (n, [dy]) => {
    if (!dy) return [null, null];
    if (((n.attrs.axis as number | undefined) ?? 0) !== 0) throw graphError('Gather gradient: only axis 0 is supported');
    const [table, indices] = [n.inputs[0]!, n.inputs[1]!];
    const g = table.graph;
    const zeros = expandTo(g.scalar(0, table.dtype), shapeOf(table));
    const idx = g.op1('Unsqueeze', [g.op1('Cast', [indices], { to: 7 }), int64s(g, [-1])]);
    return [g.op1('ScatterND', [zeros, idx, dy], { reduction: 'add' }), null];
  },
});

defineOp({ type: 'Shape', infer: ([x]) => [{ dtype: 'int64', shape: [x!.shape.length] }] });
defineOp({ type: 'Size', infer: () => [{ dtype: 'int64', shape: [] }] });
defineOp({ type: 'ScatterND', infer: ([data]) => [{ dtype: data!.dtype, shape: [...data!.shape] }] });

// One-hot rows (targets of a cross-entropy): indices (...) -> (..., depth), values [off, on].
defineOp({
  type: 'OneHot',
  infer: ([indices, depth, values]) => [{ dtype: values!.dtype, shape: [...indices!.shape, knownInts(depth!, 'OneHot')[0]] }],
});
// ORT's CPU OneHot has float32 values only: build in float32 and cast (exact for 0 and 1).
export const oneHot = (indices: Value, depth: number, dtype: Value['dtype']) => {
  const g = indices.graph;
  const rows = g.op1('OneHot', [indices, int64s(g, [depth]), g.constant([0, 1], 'float32', [2])], { axis: -1 });
  return dtype === 'float32' ? rows : cast(rows, dtype);
};

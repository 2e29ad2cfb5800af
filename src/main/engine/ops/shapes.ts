// Shape arithmetic with symbolic dims (strings), and the broadcast undo used by gradient rules.
import { graphError, type Dim, type DType, type Value } from '../graph';

export function broadcastShapes(op: string, ...shapes: (readonly Dim[])[]): Dim[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (dim === 1 || dim === d) dim = d;
      else if (typeof dim === 'number' && typeof d === 'number') {
        throw graphError(`${op}: shapes [${shapes.map((x) => x.join(',')).join('] and [')}] do not broadcast`);
      } else if (typeof dim === 'string' && typeof d === 'number') dim = d;
    }
    out.push(dim);
  }
  return out;
}

export function sameShape(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isStatic(shape: readonly Dim[]): shape is number[] {
  return shape.every((d) => typeof d === 'number');
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function normalizeAxis(axis: number, rank: number, op: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw graphError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

export function int64s(g: Value['graph'], values: readonly number[]): Value {
  return g.constant(values, 'int64', [values.length]);
}

export function scalarLike(x: Value, value: number, dtype: DType = x.dtype): Value {
  return x.graph.scalar(value, dtype);
}

/** The shape of `x` as a value: a constant when static, else computed with Shape. */
export function shapeOf(x: Value): Value {
  return isStatic(x.shape) ? int64s(x.graph, x.shape) : x.graph.op1('Shape', [x]);
}

/**
 * Expand(x, shape). A result with a static zero-size axis is an empty constant instead:
 * onnxruntime 1.30 with graph optimizations on (basic or all) drops an Expand whose input comes
 * from another node when the constant target has 0 where the input has 1 (it treats the Expand as
 * a no-op), so e.g. Expand([1,3] -> [0,3]) returns [1,3]; with optimizations disabled it is right.
 */
export function expandTo(x: Value, shape: Value): Value {
  const y = x.graph.op1('Expand', [x, shape]);
  return isStatic(y.shape) && numel(y.shape) === 0 ? x.graph.constant([], y.dtype, y.shape) : y;
}

/** Reshape to `shape` taken literally (allowzero: a 0 is a zero-size axis, not "copy this dim"). */
export function reshapeTo(x: Value, shape: Value): Value {
  return x.graph.op1('Reshape', [x, shape], { allowzero: 1 });
}

/** Sums `grad` (the shape of a broadcast result) back to the shape of `target`. */
export function unbroadcast(grad: Value, target: Value): Value {
  if (sameShape(grad.shape, target.shape)) return grad;
  const g = grad.graph;
  const lead = grad.shape.length - target.shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.shape.length; i++) {
    if (i < lead) axes.push(i);
    else if (target.shape[i - lead] === 1 && grad.shape[i] !== 1) axes.push(i);
  }
  const summed = axes.length ? g.op1('ReduceSum', [grad, int64s(g, axes)], { keepdims: 1 }) : grad;
  return sameShape(summed.shape, target.shape) ? summed : reshapeTo(summed, shapeOf(target));
}

// Reductions (axes as an int64 input, opset >= 18) and the softmax family.
import { graphError, type Value } from '../graph';
import { div, exp, mul, sub, cast, equal } from './elementwise';
import { defineOp, type Inferred } from './registry';
import { expandTo, int64s, normalizeAxis, shapeOf } from './shapes';

function constantAxes(v: Value | null, op: string): number[] | null {
  if (!v) return null;
  const init = v.graph.initializers.find((i) => i.value === v);
  if (!init || !(init.data instanceof Uint8Array)) throw graphError(`${op}: axes must be a constant`);
  return Array.from(new BigInt64Array(init.data.slice().buffer), Number);
}

function reducedShape([x, axesValue]: readonly (Value | null)[], keepdims: boolean, op: string): Inferred[] {
  const rank = x!.shape.length;
  const axes = (constantAxes(axesValue ?? null, op) ?? [...Array(rank).keys()]).map((a) => normalizeAxis(a, rank, op));
  const shape = x!.shape.flatMap((d, i) => (axes.includes(i) ? (keepdims ? [1] : []) : [d]));
  return [{ dtype: x!.dtype, shape }];
}

// Axes are emitted non-negative: onnxruntime 1.30's CPU reductions return an empty input unreduced
// when an axis is negative (ReduceSum([0,5], axes [-1]) gives [0,5]; axes [1] gives [0]).
const reduce = (type: string) => (x: Value, axes: number[], keepdims = true) =>
  x.graph.op1(type, [x, int64s(x.graph, axes.map((a) => normalizeAxis(a, x.shape.length, type)))], { keepdims: keepdims ? 1 : 0 });
export const reduceSum = reduce('ReduceSum');
export const reduceMean = reduce('ReduceMean');
export const reduceMax = reduce('ReduceMax');
export const softmax = (x: Value, axis = -1) => x.graph.op1('Softmax', [x], { axis });
export const logSoftmax = (x: Value, axis = -1) => x.graph.op1('LogSoftmax', [x], { axis });

/** dy of a reduction, with the reduced axes restored (size 1) and expanded to x's shape. */
function spread(dy: Value, x: Value, axesValue: Value | null, keepdims: boolean): Value {
  const g = x.graph;
  let d = dy;
  if (!keepdims) {
    const axes = constantAxes(axesValue, 'reduce') ?? [...Array(x.shape.length).keys()];
    d = g.op1('Unsqueeze', [d, int64s(g, axes.map((a) => normalizeAxis(a, x.shape.length, 'reduce')))]);
  }
  return expandTo(d, shapeOf(x));
}

/** Number of elements reduced into each output element, as x's dtype: size(x) / size(y). */
function reducedCount(x: Value, y: Value): Value {
  const g = x.graph;
  return div(cast(g.op1('Size', [x]), x.dtype), cast(g.op1('Size', [y]), x.dtype));
}

const keep = (attrs: Record<string, unknown>) => (attrs.keepdims ?? 1) !== 0;

defineOp({
  type: 'ReduceSum',
  infer: (inputs, attrs) => reducedShape(inputs, keep(attrs), 'ReduceSum'),
  vjp: (n, [dy]) => [dy && spread(dy, n.inputs[0]!, n.inputs[1] ?? null, keep(n.attrs)), null],
});
defineOp({
  type: 'ReduceMean',
  infer: (inputs, attrs) => reducedShape(inputs, keep(attrs), 'ReduceMean'),
  vjp: (n, [dy]) => [dy && div(spread(dy, n.inputs[0]!, n.inputs[1] ?? null, keep(n.attrs)), reducedCount(n.inputs[0]!, n.outputs[0])), null],
});
// The gradient goes to the maxima, split evenly between ties.
defineOp({
  type: 'ReduceMax',
  infer: (inputs, attrs) => reducedShape(inputs, keep(attrs), 'ReduceMax'),
  vjp: (n, [dy]) => {
    if (!dy) return [null, null];
    const x = n.inputs[0]!;
    const axesValue = n.inputs[1] ?? null;
    const mask = cast(equal(x, spread(n.outputs[0], x, axesValue, keep(n.attrs))), x.dtype);
    const axes = constantAxes(axesValue, 'ReduceMax') ?? [...Array(x.shape.length).keys()];
    const ties = spread(reduceSum(mask, axes, keep(n.attrs)), x, axesValue, keep(n.attrs));
    return [div(mul(mask, spread(dy, x, axesValue, keep(n.attrs))), ties), null];
  },
});

const sameAsInput = (inputs: readonly (Value | null)[]): Inferred[] => [{ dtype: inputs[0]!.dtype, shape: [...inputs[0]!.shape] }];
/** Softmax-family op over `axis`, with its gradient rule in terms of y = op(x). */
function softmaxFamily(type: string, rule: (y: Value, dy: Value, axis: number) => Value): void {
  defineOp({
    type,
    infer: sameAsInput,
    vjp: (n, [dy]) => {
      if (!dy) return [null];
      const y = n.outputs[0];
      return [rule(y, dy, normalizeAxis((n.attrs.axis as number | undefined) ?? -1, y.shape.length, type))];
    },
  });
}

// y = softmax(x): dx = y * (dy - sum(dy * y, axis))
softmaxFamily('Softmax', (y, dy, axis) => mul(y, sub(dy, reduceSum(mul(dy, y), [axis]))));
// y = log_softmax(x): dx = dy - exp(y) * sum(dy, axis)
softmaxFamily('LogSoftmax', (y, dy, axis) => sub(dy, mul(exp(y), reduceSum(dy, [axis]))));

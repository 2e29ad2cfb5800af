// Elementwise ops (numpy broadcasting). Each forward helper sits beside its gradient rule.
// Shapes: out = broadcast(a, b); gradients are summed back over broadcast axes (unbroadcast).
import type { Node, Value } from '../graph';
import { ONNX_DTYPE } from '../onnx-proto';
import { defineOp, type Inferred } from './registry';
import { broadcastShapes, scalarLike, unbroadcast } from './shapes';

const sameAsInput = (inputs: readonly (Value | null)[]): Inferred[] => [{ dtype: inputs[0]!.dtype, shape: [...inputs[0]!.shape] }];
const broadcast = (type: string) => (inputs: readonly (Value | null)[]): Inferred[] => [
  { dtype: inputs[0]!.dtype, shape: broadcastShapes(type, ...inputs.map((v) => v!.shape)) },
];
const compare = (type: string) => (inputs: readonly (Value | null)[]): Inferred[] => [
  { dtype: 'bool', shape: broadcastShapes(type, inputs[0]!.shape, inputs[1]!.shape) },
];

const op = (type: string, ...inputs: Value[]) => inputs[0].graph.op1(type, inputs);
export const add = (a: Value, b: Value) => op('Add', a, b);
export const sub = (a: Value, b: Value) => op('Sub', a, b);
export const mul = (a: Value, b: Value) => op('Mul', a, b);
export const div = (a: Value, b: Value) => op('Div', a, b);
export const pow = (a: Value, b: Value) => op('Pow', a, b);
export const neg = (x: Value) => op('Neg', x);
export const sqrt = (x: Value) => op('Sqrt', x);
export const reciprocal = (x: Value) => op('Reciprocal', x);
export const exp = (x: Value) => op('Exp', x);
export const log = (x: Value) => op('Log', x);
export const tanh = (x: Value) => op('Tanh', x);
export const relu = (x: Value) => op('Relu', x);
export const sigmoid = (x: Value) => op('Sigmoid', x);
export const abs = (x: Value) => op('Abs', x);
export const sign = (x: Value) => op('Sign', x);
export const greater = (a: Value, b: Value) => op('Greater', a, b);
export const equal = (a: Value, b: Value) => op('Equal', a, b);
export const where = (cond: Value, a: Value, b: Value) => cond.graph.op1('Where', [cond, a, b]);
export const cast = (x: Value, dtype: Value['dtype']) => x.graph.op1('Cast', [x], { to: ONNX_DTYPE[dtype] });
/** GELU with the tanh approximation (Gemma's gelu_pytorch_tanh), ONNX Gelu from opset 20. */
export const geluTanh = (x: Value) => x.graph.op1('Gelu', [x], { approximate: 'tanh' });

const DTYPE_OF = Object.fromEntries(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k])) as Record<number, Value['dtype']>;

const x0 = (n: Node) => n.inputs[0]!;
const x1 = (n: Node) => n.inputs[1]!;
const y0 = (n: Node) => n.outputs[0];

function binary(type: string, vjp: (a: Value, b: Value, y: Value, dy: Value) => [Value | null, Value | null]) {
  defineOp({
    type,
    infer: broadcast(type),
    vjp: (n, [dy]) => {
      if (!dy) return [null, null];
      const [da, db] = vjp(x0(n), x1(n), y0(n), dy);
      return [da && unbroadcast(da, x0(n)), db && unbroadcast(db, x1(n))];
    },
  });
}

binary('Add', (_a, _b, _y, dy) => [dy, dy]);
// min(a, b): the gradient goes to the smaller operand (to a on ties).
binary('Min', (a, b, _y, dy) => {
  const takeA = a.graph.op1('LessOrEqual', [a, b]);
  const zero = scalarLike(dy, 0);
  return [where(takeA, dy, zero), where(takeA, zero, dy)];
});
// max(a, b): the gradient goes to the larger operand (to a on ties).
binary('Max', (a, b, _y, dy) => {
  const takeA = a.graph.op1('GreaterOrEqual', [a, b]);
  const zero = scalarLike(dy, 0);
  return [where(takeA, dy, zero), where(takeA, zero, dy)];
});
binary('Sub', (_a, _b, _y, dy) => [dy, neg(dy)]);
binary('Mul', (a, b, _y, dy) => [mul(dy, b), mul(dy, a)]);
// y = a / b: da = dy / b, db = -dy * y / b
binary('Div', (_a, b, y, dy) => [div(dy, b), neg(div(mul(dy, y), b))]);
// y = a^b: da = dy * b * a^(b-1), db = dy * y * ln(a)
binary('Pow', (a, b, y, dy) => [mul(dy, mul(b, pow(a, sub(b, scalarLike(b, 1))))), mul(dy, mul(y, log(a)))]);

function unary(type: string, vjp: (x: Value, y: Value, dy: Value) => Value) {
  defineOp({ type, infer: sameAsInput, vjp: (n, [dy]) => [dy ? vjp(x0(n), y0(n), dy) : null] });
}

unary('Neg', (_x, _y, dy) => neg(dy));
unary('Identity', (_x, _y, dy) => dy);
unary('Sqrt', (_x, y, dy) => div(mul(dy, scalarLike(y, 0.5)), y));
unary('Reciprocal', (_x, y, dy) => neg(mul(dy, mul(y, y))));
unary('Exp', (_x, y, dy) => mul(dy, y));
unary('Log', (x, _y, dy) => div(dy, x));
unary('Tanh', (_x, y, dy) => mul(dy, sub(scalarLike(y, 1), mul(y, y))));
unary('Sigmoid', (_x, y, dy) => mul(dy, mul(y, sub(scalarLike(y, 1), y))));
unary('Abs', (x, _y, dy) => mul(dy, sign(x)));
unary('Relu', (x, _y, dy) => where(greater(x, scalarLike(x, 0)), dy, scalarLike(dy, 0)));
// d/dx [0.5 x (1 + t)], t = tanh(k (x + c x^3)): 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2)
unary('Gelu', (x, _y, dy) => {
  const k = Math.sqrt(2 / Math.PI);
  const c = 0.044715;
  const x2 = mul(x, x);
  const t = tanh(mul(scalarLike(x, k), add(x, mul(scalarLike(x, c), mul(x2, x)))));
  const one = scalarLike(x, 1);
  const left = mul(scalarLike(x, 0.5), add(one, t));
  const right = mul(mul(scalarLike(x, 0.5 * k), x), mul(sub(one, mul(t, t)), add(one, mul(scalarLike(x, 3 * c), x2))));
  return mul(dy, add(left, right));
});
// Sign is flat almost everywhere: no gradient flows through it.
defineOp({ type: 'Sign', infer: sameAsInput, vjp: () => [null] });

defineOp({ type: 'Greater', infer: compare('Greater') });
defineOp({ type: 'GreaterOrEqual', infer: compare('GreaterOrEqual') });
defineOp({ type: 'Less', infer: compare('Less') });
defineOp({ type: 'LessOrEqual', infer: compare('LessOrEqual') });
defineOp({ type: 'Equal', infer: compare('Equal') });
defineOp({
  type: 'Where',
  infer: (inputs) => [{ dtype: inputs[1]!.dtype, shape: broadcastShapes('Where', ...inputs.map((v) => v!.shape)) }],
  vjp: (n, [dy]) => {
    if (!dy) return [null, null, null];
    const zero = scalarLike(dy, 0);
    const cond = n.inputs[0]!;
    return [null, unbroadcast(where(cond, dy, zero), n.inputs[1]!), unbroadcast(where(cond, zero, dy), n.inputs[2]!)];
  },
});
defineOp({
  type: 'Cast',
  infer: (inputs, attrs) => [{ dtype: DTYPE_OF[attrs.to as number], shape: [...inputs[0]!.shape] }],
  vjp: (n, [dy]) => [dy && cast(dy, x0(n).dtype)],
});

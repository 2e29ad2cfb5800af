// Every op's gradient rule against float64 finite differences (test/helpers/gradcheck.ts).
// One line per case: shapes include broadcasting and edge sizes (1, odd).
import { describe, expect, it } from 'vitest';
import { maxGradError, type InputSpec } from '../../../../test/helpers/gradcheck';
import type { Value } from '../graph';
import * as E from './elementwise';
import { matmul } from './linalg';
import { logSoftmax, reduceMax, reduceMean, reduceSum, softmax } from './reduce';
import { concat, expand, gather, reshape, slice, squeeze, transpose, unsqueeze } from './tensor';

const F64_TOLERANCE = 1e-6;
const pos: [number, number] = [0.5, 2];
const away: [number, number] = [0.2, 1.5]; // keeps Abs/Relu/Sign away from their kink at 0

type Check = { eps: number; tolerance: number };
const F32_CHECK: Check = { eps: 1e-3, tolerance: 1e-3 };

const cases: [string, (...xs: Value[]) => Value, InputSpec[], Check?][] = [
  ['Add broadcast [2,3]+[3]', E.add, [{ shape: [2, 3] }, { shape: [3] }]],
  ['Add broadcast [2,1]+[1,5]', E.add, [{ shape: [2, 1] }, { shape: [1, 5] }]],
  ['Sub [3,1,2]-[4,1]', E.sub, [{ shape: [3, 1, 2] }, { shape: [4, 1] }]],
  ['Mul [1]*[3,3]', E.mul, [{ shape: [1] }, { shape: [3, 3] }]],
  ['Div [2,3]/[2,1]', E.div, [{ shape: [2, 3] }, { shape: [2, 1], range: pos }]],
  ['Pow [2,3]^[3]', E.pow, [{ shape: [2, 3], range: pos }, { shape: [3] }]],
  ['Min broadcast [2,3] vs [3]', (a, b) => a.graph.op1('Min', [a, b]), [{ shape: [2, 3] }, { shape: [3] }]],
  ['Neg', E.neg, [{ shape: [5] }]],
  ['Sqrt', E.sqrt, [{ shape: [2, 3], range: pos }]],
  ['Reciprocal', E.reciprocal, [{ shape: [3, 1], range: pos }]],
  ['Exp', E.exp, [{ shape: [7] }]],
  ['Log', E.log, [{ shape: [2, 2], range: pos }]],
  ['Tanh', E.tanh, [{ shape: [3, 3] }]],
  ['Sigmoid', E.sigmoid, [{ shape: [4] }]],
  ['Relu (x > 0)', E.relu, [{ shape: [3], range: away }]],
  ['Relu (x < 0)', (x) => E.relu(E.neg(x)), [{ shape: [3], range: away }]],
  ['Abs', (x) => E.abs(E.sub(x, x.graph.scalar(0.7, 'float64'))), [{ shape: [4], range: [-0.2, 0.4] }]],
  ['Gelu tanh', E.geluTanh, [{ shape: [2, 5], range: [-3, 3] }]],
  ['Where', (c, a, b) => E.where(E.greater(c, c.graph.scalar(0, 'float64')), a, b), [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [3] }]],
  ['MatMul [3,4]@[4,2]', matmul, [{ shape: [3, 4] }, { shape: [4, 2] }]],
  ['MatMul batched [2,3,4]@[4,5]', matmul, [{ shape: [2, 3, 4] }, { shape: [4, 5] }]],
  ['MatMul batched [2,1,3,4]@[3,4,1]', matmul, [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 1] }]],
  ['ReduceSum axis 1 keepdims', (x) => reduceSum(x, [1]), [{ shape: [2, 3, 2] }]],
  ['ReduceSum all no keepdims', (x) => E.mul(reduceSum(x, [0, 1], false), x.graph.scalar(1, 'float64')), [{ shape: [3, 2] }]],
  ['ReduceMean axis -1', (x) => reduceMean(x, [-1], false), [{ shape: [3, 5] }]],
  ['ReduceMax axis 0', (x) => reduceMax(x, [0]), [{ shape: [4, 3] }]],
  ['Softmax axis -1', (x) => softmax(x, -1), [{ shape: [2, 5] }]],
  ['Softmax axis 0', (x) => softmax(x, 0), [{ shape: [3, 2] }]],
  ['LogSoftmax', (x) => logSoftmax(x, -1), [{ shape: [3, 4] }]],
  ['Reshape', (x) => reshape(x, [3, 2]), [{ shape: [2, 3] }]],
  ['Transpose', (x) => transpose(x, [2, 0, 1]), [{ shape: [2, 3, 4] }]],
  ['Unsqueeze + Squeeze', (x) => squeeze(E.mul(unsqueeze(x, [1]), unsqueeze(x, [1])), [1]), [{ shape: [3, 2] }]],
  ['Expand', (x) => expand(x, [4, 3]), [{ shape: [1, 3] }]],
  ['Slice', (x) => slice(x, 1, 1, 4), [{ shape: [2, 5] }]],
  ['Slice negative start', (x) => slice(x, 0, -2, 100), [{ shape: [5, 2] }]],
  ['Concat', (a, b) => concat([a, b, a], 1), [{ shape: [2, 1] }, { shape: [2, 3] }]],
  ['Gather rows (repeated indices)', (table, idx) => gather(table, idx), [{ shape: [5, 3] }, { shape: [2, 4], int: { max: 5 } }]],
  ['Cast f64->f32->f64 (f32 precision)', (x) => E.mul(E.cast(E.cast(x, 'float32'), 'float64'), x), [{ shape: [3] }], F32_CHECK],
  ['fan-out: x*x + tanh(x)', (x) => E.add(E.mul(x, x), E.tanh(x)), [{ shape: [2, 2] }]],
];

describe('gradient rules vs float64 finite differences', () => {
  it.each(cases)('%s', async (_name, build, specs, check) => {
    expect(await maxGradError(build, specs, 1, check?.eps)).toBeLessThan(check?.tolerance ?? F64_TOLERANCE);
  });
});

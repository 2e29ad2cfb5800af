// Every op's gradient rule against float64 finite differences (test/helpers/gradcheck.ts), with the
// analytic gradient computed in float64 (to 1e-6) and in float32 (to 1e-3). One line per case:
// shapes include broadcasting, scalars and edge sizes (1, odd); empty batches run separately.
import { describe, expect, it } from 'vitest';
import { expectEmptyBatchGradients, maxGradError, type FloatType, type InputSpec } from '../../../../test/helpers/gradcheck';
import type { Value } from '../graph';
import * as E from './elementwise';
import { linear, matmul } from './linalg';
import { logSoftmax, reduceMax, reduceMean, reduceSum, softmax } from './reduce';
import { concat, expand, gather, reshape, slice, squeeze, transpose, unsqueeze } from './tensor';

const TOLERANCE: Record<FloatType, number> = { float64: 1e-6, float32: 1e-3 };
const DTYPES: FloatType[] = ['float64', 'float32'];
const pos: [number, number] = [0.5, 2];
const away: [number, number] = [0.2, 1.5]; // keeps Abs/Relu/Sign away from their kink at 0
const c = (x: Value, v: number) => x.graph.scalar(v, x.dtype); // constants follow the input's dtype
const otherFloat = (x: Value): FloatType => (x.dtype === 'float64' ? 'float32' : 'float64');

/** A case whose float64 graph itself rounds through float32: a larger step, and float32 accuracy even in float64. */
type Check = { eps?: number; float64Tolerance?: number };
const ROUNDS_THROUGH_F32: Check = { eps: 1e-3, float64Tolerance: 1e-3 };

type Case = [string, (...xs: Value[]) => Value, InputSpec[], Check?];

const cases: Case[] = [
  ['Add broadcast [2,3]+[3]', E.add, [{ shape: [2, 3] }, { shape: [3] }]],
  ['Add broadcast [2,1]+[1,5]', E.add, [{ shape: [2, 1] }, { shape: [1, 5] }]],
  ['Add scalar + [3]', E.add, [{ shape: [] }, { shape: [3] }]],
  ['Sub [3,1,2]-[4,1]', E.sub, [{ shape: [3, 1, 2] }, { shape: [4, 1] }]],
  ['Mul [1]*[3,3]', E.mul, [{ shape: [1] }, { shape: [3, 3] }]],
  ['Mul [1,1]*[1,1] (all size 1)', E.mul, [{ shape: [1, 1] }, { shape: [1, 1] }]],
  ['Div [2,3]/[2,1]', E.div, [{ shape: [2, 3] }, { shape: [2, 1], range: pos }]],
  ['Div [3]/scalar', E.div, [{ shape: [3] }, { shape: [], range: pos }]],
  ['Pow [2,3]^[3]', E.pow, [{ shape: [2, 3], range: pos }, { shape: [3] }]],
  ['Max broadcast [2,3] vs [3]', (a, b) => a.graph.op1('Max', [a, b]), [{ shape: [2, 3] }, { shape: [3] }]],
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
  ['Abs', (x) => E.abs(E.sub(x, c(x, 0.7))), [{ shape: [4], range: [-0.2, 0.4] }]],
  ['Gelu tanh', E.geluTanh, [{ shape: [2, 5], range: [-3, 3] }]],
  ['Where', (cond, a, b) => E.where(E.greater(cond, c(cond, 0)), a, b), [{ shape: [2, 3] }, { shape: [2, 3] }, { shape: [3] }]],
  ['Where scalar branch', (cond, a, b) => E.where(E.greater(cond, c(cond, 0)), a, b), [{ shape: [3, 1] }, { shape: [] }, { shape: [1, 3] }]],
  ['MatMul [3,4]@[4,2]', matmul, [{ shape: [3, 4] }, { shape: [4, 2] }]],
  ['MatMul batched [2,3,4]@[4,5]', matmul, [{ shape: [2, 3, 4] }, { shape: [4, 5] }]],
  ['MatMul batched [2,1,3,4]@[3,4,1]', matmul, [{ shape: [2, 1, 3, 4] }, { shape: [3, 4, 1] }]],
  ['MatMul row by column [1,5]@[5,1]', matmul, [{ shape: [1, 5] }, { shape: [5, 1] }]],
  ['MatMul outer product, K = 1 [3,1]@[1,3]', matmul, [{ shape: [3, 1] }, { shape: [1, 3] }]],
  ['Gemm transB (linear) [3,4]x[5,4]^T', (x, w) => linear(x, w), [{ shape: [3, 4] }, { shape: [5, 4] }]],
  ['Gemm transB + bias [3,4]x[5,4]^T+[5]', (x, w, b) => linear(x, w, b), [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [5] }]],
  ['Gemm [2,3]x[3,1]', (a, b) => a.graph.op1('Gemm', [a, b]), [{ shape: [2, 3] }, { shape: [3, 1] }]],
  ['ReduceSum axis 1 keepdims', (x) => reduceSum(x, [1]), [{ shape: [2, 3, 2] }]],
  ['ReduceSum all no keepdims', (x) => E.mul(reduceSum(x, [0, 1], false), c(x, 1)), [{ shape: [3, 2] }]],
  ['ReduceSum over a size-1 axis', (x) => reduceSum(x, [0], false), [{ shape: [1, 3] }]],
  ['ReduceMean axis -1', (x) => reduceMean(x, [-1], false), [{ shape: [3, 5] }]],
  ['ReduceMean axes 0,2 keepdims', (x) => reduceMean(x, [0, 2]), [{ shape: [3, 2, 1] }]],
  ['ReduceMax axis 0', (x) => reduceMax(x, [0]), [{ shape: [4, 3] }]],
  ['ReduceMax axis -1 no keepdims, odd', (x) => reduceMax(x, [-1], false), [{ shape: [3, 5] }]],
  ['Softmax axis -1', (x) => softmax(x, -1), [{ shape: [2, 5] }]],
  ['Softmax axis 0', (x) => softmax(x, 0), [{ shape: [3, 2] }]],
  ['Softmax over a size-1 axis', (x) => softmax(x, -1), [{ shape: [3, 1] }]],
  ['LogSoftmax', (x) => logSoftmax(x, -1), [{ shape: [3, 4] }]],
  ['LogSoftmax axis 1 of 3, odd', (x) => logSoftmax(x, 1), [{ shape: [1, 3, 3] }]],
  ['Reshape', (x) => reshape(x, [3, 2]), [{ shape: [2, 3] }]],
  ['Reshape -1 and 0 (copy)', (x) => reshape(x, [0, -1]), [{ shape: [3, 1, 5] }]],
  ['Transpose', (x) => transpose(x, [2, 0, 1]), [{ shape: [2, 3, 4] }]],
  ['Transpose with size-1 axes', (x) => transpose(x, [1, 2, 0]), [{ shape: [1, 3, 1] }]],
  ['Unsqueeze + Squeeze', (x) => squeeze(E.mul(unsqueeze(x, [1]), unsqueeze(x, [1])), [1]), [{ shape: [3, 2] }]],
  ['Expand', (x) => expand(x, [4, 3]), [{ shape: [1, 3] }]],
  ['Expand adds leading axes [3,1]->[2,3,5]', (x) => expand(x, [2, 3, 5]), [{ shape: [3, 1] }]],
  ['Slice', (x) => slice(x, 1, 1, 4), [{ shape: [2, 5] }]],
  ['Slice negative start', (x) => slice(x, 0, -2, 100), [{ shape: [5, 2] }]],
  ['Slice one element', (x) => slice(x, -1, 2, 3), [{ shape: [3, 3] }]],
  ['Concat', (a, b) => concat([a, b, a], 1), [{ shape: [2, 1] }, { shape: [2, 3] }]],
  ['Concat axis 0, odd', (a, b) => concat([a, b], 0), [{ shape: [1, 3] }, { shape: [3, 3] }]],
  ['Gather rows (repeated indices)', (table, idx) => gather(table, idx), [{ shape: [5, 3] }, { shape: [2, 4], int: { max: 5 } }]],
  ['Gather a scalar index', (table, idx) => gather(table, idx), [{ shape: [3, 1] }, { shape: [], int: { max: 3 } }]],
  ['Cast round trip through the other float type', (x) => E.mul(E.cast(E.cast(x, otherFloat(x)), x.dtype), x), [{ shape: [3] }], ROUNDS_THROUGH_F32],
  ['fan-out: x*x + tanh(x)', (x) => E.add(E.mul(x, x), E.tanh(x)), [{ shape: [2, 2] }]],
];

// Batch axis 0: the graphs must run and give empty (or, for inputs without the batch axis, zero) gradients.
const emptyBatch: [string, (...xs: Value[]) => Value, InputSpec[]][] = [
  ['Add [0,3]+[3]', E.add, [{ shape: [0, 3] }, { shape: [3] }]],
  ['Sub [0,1]-[1,4]', E.sub, [{ shape: [0, 1] }, { shape: [1, 4] }]],
  ['Mul scalar*[0,2]', E.mul, [{ shape: [] }, { shape: [0, 2] }]],
  ['Div [0,3]/[1,3]', E.div, [{ shape: [0, 3] }, { shape: [1, 3], range: pos }]],
  ['Pow [0,2]^[2]', E.pow, [{ shape: [0, 2], range: pos }, { shape: [2] }]],
  ['Min [0,3] vs [3]', (a, b) => a.graph.op1('Min', [a, b]), [{ shape: [0, 3] }, { shape: [3] }]],
  ['Neg, Sqrt, Reciprocal, Log', (x) => E.log(E.reciprocal(E.sqrt(E.neg(x)))), [{ shape: [0, 3], range: [-2, -0.5] }]],
  ['Exp, Tanh, Sigmoid', (x) => E.sigmoid(E.tanh(E.exp(x))), [{ shape: [0, 3] }]],
  ['Relu, Abs, Gelu', (x) => E.geluTanh(E.abs(E.relu(x))), [{ shape: [0, 3], range: away }]],
  ['Where [0,3] with [3] branch', (cond, a, b) => E.where(E.greater(cond, c(cond, 0)), a, b), [{ shape: [0, 3] }, { shape: [0, 3] }, { shape: [3] }]],
  ['Cast round trip', (x) => E.cast(E.cast(x, otherFloat(x)), x.dtype), [{ shape: [0, 2] }]],
  ['MatMul batch 0 [0,3,4]@[4,2]', matmul, [{ shape: [0, 3, 4] }, { shape: [4, 2] }]],
  ['MatMul M = 0 [0,4]@[4,3]', matmul, [{ shape: [0, 4] }, { shape: [4, 3] }]],
  ['MatMul K = 0 [3,0]@[0,2]', matmul, [{ shape: [3, 0] }, { shape: [0, 2] }]],
  ['Gemm transB + bias, 0 rows [0,4]x[5,4]^T+[5]', (x, w, b) => linear(x, w, b), [{ shape: [0, 4] }, { shape: [5, 4] }, { shape: [5] }]],
  ['ReduceSum axis 1 of [0,3]', (x) => reduceSum(x, [1], false), [{ shape: [0, 3] }]],
  ['ReduceSum over the empty axis', (x) => reduceSum(x, [0]), [{ shape: [0, 3] }]],
  ['ReduceMean axis -1 of [0,5]', (x) => reduceMean(x, [-1], false), [{ shape: [0, 5] }]],
  ['ReduceMax axis -1 of [2,0,3]', (x) => reduceMax(x, [-1]), [{ shape: [2, 0, 3] }]],
  ['Softmax [0,5]', (x) => softmax(x, -1), [{ shape: [0, 5] }]],
  ['LogSoftmax [0,4]', (x) => logSoftmax(x, -1), [{ shape: [0, 4] }]],
  ['Reshape [0,2,3] -> [-1,6]', (x) => reshape(x, [-1, 6]), [{ shape: [0, 2, 3] }]],
  ['Reshape [2,0,3] -> [-1,3]', (x) => reshape(x, [-1, 3]), [{ shape: [2, 0, 3] }]],
  ['Transpose [0,2,3]', (x) => transpose(x, [2, 0, 1]), [{ shape: [0, 2, 3] }]],
  ['Unsqueeze + Squeeze [0,2]', (x) => squeeze(unsqueeze(x, [1]), [1]), [{ shape: [0, 2] }]],
  ['Expand [1,3] -> [0,3]', (x) => expand(x, [0, 3]), [{ shape: [1, 3] }]],
  ['Slice axis 1 of [0,5]', (x) => slice(x, 1, 1, 4), [{ shape: [0, 5] }]],
  ['Concat axis 1 of [0,1],[0,3]', (a, b) => concat([a, b], 1), [{ shape: [0, 1] }, { shape: [0, 3] }]],
  ['Concat axis 0 of [0,3],[2,3]', (a, b) => concat([a, b], 0), [{ shape: [0, 3] }, { shape: [2, 3] }]],
  ['Gather with an empty batch of indices', (table, idx) => gather(table, idx), [{ shape: [5, 3] }, { shape: [0, 4], int: { max: 5 } }]],
];

describe.each(DTYPES)('gradient rules vs float64 finite differences, analytic in %s', (dtype) => {
  it.each(cases)('%s', async (_name, build, specs, check) => {
    const tolerance = dtype === 'float64' ? (check?.float64Tolerance ?? TOLERANCE.float64) : TOLERANCE.float32;
    expect(await maxGradError(build, specs, { dtype, eps: check?.eps })).toBeLessThan(tolerance);
  });
});

describe.each(DTYPES)('empty batch: forward and backward run, gradients are empty or zero, in %s', (dtype) => {
  it.each(emptyBatch)('%s', async (_name, build, specs) => {
    await expectEmptyBatchGradients(build, specs, { dtype });
  });
});

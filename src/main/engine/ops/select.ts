// Selection ops used by inference graphs (SAE encoding, sparse summaries). TopK's values get a
// gradient through the threshold form used by `topkMask` (a Where), so TopK itself needs none;
// the others return indices or flags and have no gradient.
import type { Value } from '../graph';
import { defineOp } from './registry';
import { int64s, normalizeAxis } from './shapes';

/** The k largest values along `axis` (sorted, descending) and their indices. */
export const topk = (x: Value, k: number, axis = -1) => {
  const [values, indices] = x.graph.op('TopK', [x, int64s(x.graph, [k])], { axis, largest: 1, sorted: 1 });
  return { values, indices };
};

/** Coordinates of the non-zero entries of x: (nnz, rank) int64, row-major order. */
export const nonZero = (x: Value) => x.graph.op1('Transpose', [x.graph.op1('NonZero', [x])], { perm: [1, 0] });

/** data[indices[i]] for index tuples (m, r) into the first r axes. */
export const gatherNd = (data: Value, indices: Value) => data.graph.op1('GatherND', [data, indices]);

export const isNaN = (x: Value) => x.graph.op1('IsNaN', [x]);

/** True where x is +inf or -inf. */
export const isInf = (x: Value) => x.graph.op1('IsInf', [x]);

defineOp({
  type: 'TopK',
  infer: ([x, k], attrs) => {
    const axis = normalizeAxis((attrs.axis as number | undefined) ?? -1, x!.shape.length, 'TopK');
    const init = x!.graph.initializers.find((i) => i.value === k);
    const kk = init && init.data instanceof Uint8Array ? Number(new BigInt64Array(init.data.slice().buffer)[0]) : 'k';
    const shape = x!.shape.map((d, i) => (i === axis ? kk : d));
    return [
      { dtype: x!.dtype, shape },
      { dtype: 'int64', shape },
    ];
  },
});

let nnzCounter = 0;
defineOp({ type: 'NonZero', infer: ([x]) => [{ dtype: 'int64', shape: [x!.shape.length, `nnz${nnzCounter++}`] }] });

defineOp({
  type: 'GatherND',
  infer: ([data, indices]) => {
    const r = indices!.shape[indices!.shape.length - 1];
    const depth = typeof r === 'number' ? r : 0;
    return [{ dtype: data!.dtype, shape: [...indices!.shape.slice(0, -1), ...data!.shape.slice(depth)] }];
  },
});

defineOp({ type: 'IsNaN', infer: ([x]) => [{ dtype: 'bool', shape: [...x!.shape] }] });
defineOp({ type: 'IsInf', infer: ([x]) => [{ dtype: 'bool', shape: [...x!.shape] }] });

// MatMul with numpy semantics for rank >= 2 (batch dims broadcast): a (..., M, K) @ b (..., K, N).
import { graphError, type Value } from '../graph';
import { defineOp } from './registry';
import { broadcastShapes, unbroadcast } from './shapes';

export const matmul = (a: Value, b: Value) => a.graph.op1('MatMul', [a, b]);

/** Swaps the last two axes. */
export function transposeLast(x: Value): Value {
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return x.graph.op1('Transpose', [x], { perm });
}

defineOp({
  type: 'MatMul',
  infer: ([a, b]) => {
    const [sa, sb] = [a!.shape, b!.shape];
    if (sa.length < 2 || sb.length < 2) throw graphError(`MatMul: operands must have rank >= 2, got [${sa}] and [${sb}]`);
    const k1 = sa[sa.length - 1];
    const k2 = sb[sb.length - 2];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw graphError(`MatMul: inner dimensions differ: [${sa}] @ [${sb}]`);
    }
    const batch = broadcastShapes('MatMul', sa.slice(0, -2), sb.slice(0, -2));
    return [{ dtype: a!.dtype, shape: [...batch, sa[sa.length - 2], sb[sb.length - 1]] }];
  },
  // dA = dY @ B^T, dB = A^T @ dY, each summed over broadcast batch axes.
  vjp: (n, [dy]) => {
    if (!dy) return [null, null];
    const [a, b] = [n.inputs[0]!, n.inputs[1]!];
    return [unbroadcast(matmul(dy, transposeLast(b)), a), unbroadcast(matmul(transposeLast(a), dy), b)];
  },
});

/** x (N, K) times a weight stored as (M, K) (the Hugging Face Linear layout), plus an optional
 * bias (M): Gemm with transB = 1, so the stored weight is used in place, never transposed. */
export const linear = (x: Value, weight: Value, bias?: Value) =>
  x.graph.op1('Gemm', bias ? [x, weight, bias] : [x, weight], { transB: 1 });

defineOp({
  type: 'Gemm',
  infer: ([a, b, c], attrs) => {
    if ((attrs.transA ?? 0) !== 0 || (attrs.alpha ?? undefined) !== undefined || (attrs.beta ?? undefined) !== undefined) {
      throw graphError('Gemm: only transA = 0 with alpha = beta = 1 is supported');
    }
    if (a!.shape.length !== 2 || b!.shape.length !== 2) throw graphError(`Gemm: operands must be matrices, got [${a!.shape}] and [${b!.shape}]`);
    const transB = attrs.transB === 1;
    const [k1, k2, n] = [a!.shape[1], b!.shape[transB ? 1 : 0], b!.shape[transB ? 0 : 1]];
    if (typeof k1 === 'number' && typeof k2 === 'number' && k1 !== k2) {
      throw graphError(`Gemm: inner dimensions differ: [${a!.shape}] x [${b!.shape}]${transB ? '^T' : ''}`);
    }
    if (c && c.shape.length === 1 && typeof c.shape[0] === 'number' && typeof n === 'number' && c.shape[0] !== n) {
      throw graphError(`Gemm: bias of size ${c.shape[0]} does not match ${n} outputs`);
    }
    return [{ dtype: a!.dtype, shape: [a!.shape[0], n] }];
  },
  // Y = A B' (+ C), B' = B or B^T: dA = dY B'^T, dB' = A^T dY (transposed back when transB), dC = Σ rows.
  vjp: (n, [dy]) => {
    if (!dy) return [null, null, null];
    const [a, b, c] = n.inputs;
    const transB = n.attrs.transB === 1;
    const da = transB ? matmul(dy, b!) : matmul(dy, transposeLast(b!));
    const db = transB ? matmul(transposeLast(dy), a!) : matmul(transposeLast(a!), dy);
    return [da, db, c ? unbroadcast(dy, c) : null];
  },
});

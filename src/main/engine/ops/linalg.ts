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

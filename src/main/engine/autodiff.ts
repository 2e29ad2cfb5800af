// Reverse-mode autodiff on the tape: walks the nodes in reverse creation order, restricted to
// nodes on a path from `params` to `loss`, applies each op's gradient rule and accumulates fan-in
// with Add. Frozen weights (not on such a path) get no gradient work.
import { graphError, type Node, type Value } from './graph';
import { getOpDef } from './ops/registry';
import { add } from './ops/elementwise';
import { expandTo, shapeOf } from './ops/shapes';

/** d loss / d param for each param; `seed` is d loss (default 1, loss must be a scalar). */
export function gradients(loss: Value, params: readonly Value[], seed?: Value): Value[] {
  const g = loss.graph;
  if (!seed && loss.shape.length !== 0) throw graphError(`gradients: loss must be a scalar, got shape [${loss.shape}]`);
  const nodes = g.nodes;

  // Forward reachability from params, backward reachability from loss.
  const fromParams = new Set<number>(params.map((p) => p.id));
  const relevant: Node[] = [];
  for (const node of nodes) {
    if (node.outputs.some((o) => g.stopped.has(o.id))) continue;
    if (node.inputs.some((i) => i && fromParams.has(i.id))) {
      node.outputs.forEach((o) => fromParams.add(o.id));
      relevant.push(node);
    }
  }
  const toLoss = new Set<number>([loss.id]);
  const path: Node[] = [];
  for (let i = relevant.length - 1; i >= 0; i--) {
    const node = relevant[i];
    if (node.outputs.some((o) => toLoss.has(o.id))) {
      node.inputs.forEach((v) => v && toLoss.add(v.id));
      path.push(node);
    }
  }

  const grads = new Map<number, Value>([[loss.id, seed ?? g.scalar(1, loss.dtype)]]);
  const accumulate = (v: Value, d: Value) => {
    const prev = grads.get(v.id);
    grads.set(v.id, prev ? add(prev, d) : d);
  };
  for (const node of path) {
    const dy = node.outputs.map((o) => grads.get(o.id) ?? null);
    if (dy.every((d) => d === null)) continue;
    const def = getOpDef(node.opType, node.domain);
    if (!def.vjp) throw graphError(`op ${node.opType} has no gradient rule, but the loss depends on it through a parameter`);
    const dx = def.vjp(node, dy);
    node.inputs.forEach((input, i) => {
      if (input && dx[i] && fromParams.has(input.id) && toLoss.has(input.id)) accumulate(input, dx[i]!);
    });
  }
  // A parameter the loss does not depend on gets zeros of its shape.
  return params.map((p) => grads.get(p.id) ?? expandTo(g.scalar(0, p.dtype), shapeOf(p)));
}

/** x as a value no gradient flows back through (PyTorch's `detach`): an Identity at run time. */
export function stopGradient(x: Value): Value {
  const y = x.graph.op1('Identity', [x]);
  x.graph.stopped.add(y.id);
  return y;
}

// Op definitions by (domain, type): shape/dtype inference for the forward op and, beside it,
// the gradient rule (a vector-Jacobian product built from the same graph ops).
import { ApiError } from '../../../shared/errors';
import type { Attrs, DType, Dim, Node, Value } from '../graph';

export interface Inferred {
  dtype: DType;
  shape: Dim[];
}

/** dy: one gradient per output (null where no gradient flows). Returns one per input (null = none). */
export type Vjp = (node: Node, dy: readonly (Value | null)[]) => (Value | null)[];

export interface OpDef {
  type: string;
  domain?: string;
  infer(inputs: readonly (Value | null)[], attrs: Attrs): Inferred[];
  /** Absent: the op is not differentiable; autodiff through it raises an error naming it. */
  vjp?: Vjp;
}

const registry = new Map<string, OpDef>();
const key = (type: string, domain = '') => `${domain}::${type}`;

export function defineOp(def: OpDef): void {
  const k = key(def.type, def.domain);
  if (registry.has(k)) throw new Error(`op ${def.type} is defined twice`);
  registry.set(k, def);
}

export function getOpDef(type: string, domain = ''): OpDef {
  const def = registry.get(key(type, domain));
  if (!def) throw new ApiError('GRAPH_ERROR', `op ${domain ? `${domain}.` : ''}${type} is not defined in the engine`);
  return def;
}

export function definedOps(): string[] {
  return [...registry.keys()];
}

// A pickle reader for the one thing PyTorch checkpoints pickle: a dict of tensor names to tensors
// whose bytes live elsewhere (zip entries, or raw data after the pickles in the legacy format).
//
// A pickle is a program for a stack machine whose opcodes may import any Python object by name
// (GLOBAL) and call it (REDUCE, INST, OBJ, NEWOBJ, BUILD's __setstate__). Nothing here ever calls
// anything: the reader interprets an allow-list of opcodes over plain data, and the few globals a
// state dict names become inert markers whose REDUCE is interpreted by this file (an
// OrderedDict is a Map, `_rebuild_tensor_v2(storage, offset, size, stride, ...)` a TensorRef).
// Every other opcode or global is refused by name (PickleRefused), before anything after it is
// read. The format is CPython's `Lib/pickletools.py` (opcode table) and PyTorch's
// `torch/serialization.py` (`persistent_id`, `_rebuild_tensor_v2`).
import type { SafetensorsDtype } from './safetensors';

/** A storage named by a persistent id: ('storage', <torch.XStorage>, key, location, numel). */
export interface StorageRef {
  readonly kind: 'storage';
  readonly dtype: SafetensorsDtype;
  readonly storageClass: string;
  readonly key: string;
  readonly location: string;
  /** Elements of the storage's dtype. */
  readonly numel: number;
  /** Legacy format only: (view key, offset, size) when this names a view of another storage. */
  readonly view?: { key: string; offset: number; size: number };
}

/** A tensor over a storage: elements [offset, offset + prod(shape)) when contiguous. */
export interface TensorRef {
  readonly kind: 'tensor';
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: number[];
  readonly stride: number[];
}

/** An allowed global, inert until REDUCE interprets it. */
interface GlobalRef {
  readonly kind: 'global';
  readonly name: string;
}

/** A Python tuple (immutable) — kept apart from lists so arguments can be checked. */
class Tuple {
  constructor(readonly items: PickleValue[]) {}
}

export type PickleValue = null | boolean | number | bigint | string | Uint8Array | PickleValue[] | Tuple | Map<PickleValue, PickleValue> | StorageRef | TensorRef | GlobalRef;

/** Why a pickle was not read. `what` is the opcode or global refused, or the damage found. */
export class PickleRefused extends Error {
  constructor(
    /** 'truncated': the bytes end inside the pickle (a reader holding only a prefix may read more). */
    readonly reason: 'opcode' | 'global' | 'malformed' | 'truncated',
    readonly what: string,
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'PickleRefused';
  }
}

/** torch's storage classes (torch/storage.py `_LegacyStorage` subclasses) by the dtype they hold.
 * Complex, quantized and float8 storages are not weights we compute with: refused by name. */
const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  'torch.FloatStorage': 'F32',
  'torch.DoubleStorage': 'F64',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ShortStorage': 'I16',
  'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL',
};

const REBUILD_TENSOR_V2 = 'torch._utils._rebuild_tensor_v2';
const REBUILD_TENSOR = 'torch._utils._rebuild_tensor';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const ORDERED_DICT = 'collections.OrderedDict';
const CALLABLE_GLOBALS = new Set([REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, ORDERED_DICT]);

/** Opcodes by byte, with the names pickletools gives them (for messages). Only these are read. */
const OP = {
  PROTO: 0x80,
  FRAME: 0x95,
  STOP: 0x2e, // .
  MARK: 0x28, // (
  EMPTY_DICT: 0x7d, // }
  EMPTY_LIST: 0x5d, // ]
  EMPTY_TUPLE: 0x29, // )
  TUPLE: 0x74, // t
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  APPEND: 0x61, // a
  APPENDS: 0x65, // e
  SETITEM: 0x73, // s
  SETITEMS: 0x75, // u
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  LONG1: 0x8a,
  BINFLOAT: 0x47, // G
  BINUNICODE: 0x58, // X
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  SHORT_BINBYTES: 0x43, // C
  BINBYTES: 0x42, // B
  NONE: 0x4e, // N
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  MEMOIZE: 0x94,
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  GLOBAL: 0x63, // c
  STACK_GLOBAL: 0x93,
  REDUCE: 0x52, // R
  BUILD: 0x62, // b
  BINPERSID: 0x51, // Q
} as const;

/** Names of the opcodes we refuse, so a message can say which one a file used. */
const REFUSED_NAMES: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x50: 'PERSID', 0x49: 'INT', 0x4c: 'LONG', 0x8b: 'LONG4', 0x46: 'FLOAT', 0x53: 'STRING', 0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x6c: 'LIST', 0x64: 'DICT', 0x70: 'PUT', 0x67: 'GET', 0x30: 'POP',
  0x31: 'POP_MARK', 0x32: 'DUP', 0x8e: 'BINBYTES8', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
};

/** Python-2 module names that pickle's fix_imports maps to Python 3 ones: both are refused, but
 * a message names the module the file wrote. */
function globalName(module: string, name: string): string {
  return `${module}.${name}`;
}

function isStorageRef(v: PickleValue): v is StorageRef {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof Tuple) && v.kind === 'storage';
}

export function isTensorRef(v: PickleValue): v is TensorRef {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof Tuple) && v.kind === 'tensor';
}

function isGlobal(v: PickleValue): v is GlobalRef {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof Uint8Array) && !Array.isArray(v) && !(v instanceof Tuple) && v.kind === 'global';
}

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (v instanceof Tuple) return `a tuple of ${v.items.length}`;
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Map) return 'a dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'global' ? `the global ${v.name}` : `a ${v.kind}`;
  return `a ${typeof v}`;
}

/** What a persistent id resolves to: the storage it names (the caller knows the storage table). */
export type PersistentLoad = (pid: PickleValue, position: number) => StorageRef;

/** The persistent-id tuple torch writes for a storage, checked field by field. Legacy files add a
 * sixth field: None or (view key, offset, size). */
export function storageFromPersistentId(pid: PickleValue, position: number): StorageRef {
  const bad = (why: string): PickleRefused => new PickleRefused('malformed', 'persistent id', `a persistent id ${why}`, position);
  if (!(pid instanceof Tuple)) throw bad(`is ${describe(pid)}, not the ('storage', class, key, location, size) tuple torch writes`);
  const [tag, cls, key, location, numel, view] = pid.items;
  if (tag !== 'storage' || (pid.items.length !== 5 && pid.items.length !== 6)) throw bad(`is not a ('storage', class, key, location, size) tuple`);
  if (!isGlobal(cls)) throw bad(`names its storage class as ${describe(cls)}`);
  const dtype = Object.hasOwn(STORAGE_DTYPES, cls.name) ? STORAGE_DTYPES[cls.name] : undefined;
  if (!dtype) throw new PickleRefused('global', cls.name, `storage class ${cls.name} is not one of the tensor storages read here (${Object.keys(STORAGE_DTYPES).join(', ')})`, position);
  if (typeof key !== 'string' || typeof location !== 'string') throw bad('has a key or location that is not a string');
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw bad('has a size that is not a non-negative integer');
  let viewOf: StorageRef['view'];
  if (view !== undefined && view !== null) {
    const items = view instanceof Tuple ? view.items : [];
    const [viewKey, offset, size] = items;
    if (items.length !== 3 || typeof viewKey !== 'string' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(size)) throw bad('has view metadata that is not (key, offset, size)');
    viewOf = { key: viewKey, offset: offset as number, size: size as number };
  }
  return { kind: 'storage', dtype, storageClass: cls.name, key, location, numel, ...(viewOf ? { view: viewOf } : {}) };
}

function intList(v: PickleValue): number[] | undefined {
  if (!(v instanceof Tuple)) return undefined;
  return v.items.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0) ? (v.items as number[]) : undefined;
}

/** Interprets REDUCE of an allowed global: builds data, calls nothing. */
function reduce(fn: GlobalRef, args: PickleValue, position: number): PickleValue {
  const bad = (why: string): PickleRefused => new PickleRefused('malformed', fn.name, `${fn.name}${why}`, position);
  if (!(args instanceof Tuple)) throw bad(` is called with ${describe(args)} instead of an argument tuple`);
  const a = args.items;
  if (fn.name === ORDERED_DICT) {
    // OrderedDict() — items come by SETITEMS; a list of pairs as argument would be data too.
    if (a.length === 0) return new Map();
    throw bad(` is called with ${a.length} arguments; torch writes OrderedDict() and fills it with SETITEMS`);
  }
  if (fn.name === REBUILD_TENSOR_V2 || fn.name === REBUILD_TENSOR) {
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    // _rebuild_tensor(storage, storage_offset, size, stride)
    const [storage, offset, size, stride, , hooks] = a;
    const arity = fn.name === REBUILD_TENSOR ? [4] : [6, 7];
    if (!arity.includes(a.length)) throw bad(` is called with ${a.length} arguments, expected ${arity.join(' or ')}`);
    if (!isStorageRef(storage)) throw bad(`'s first argument is ${describe(storage)}, not a storage`);
    const shape = intList(size);
    const strides = intList(stride);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw bad(`'s storage offset is not a non-negative integer`);
    if (!shape || !strides || shape.length !== strides.length) throw bad(`'s size and stride are not integer tuples of one length`);
    // Backward hooks are Python functions; a state dict saved for inference has none.
    if (hooks !== undefined && !(hooks instanceof Map && hooks.size === 0)) throw bad(` carries backward hooks (functions), which are not tensor data`);
    return { kind: 'tensor', storage, offset, shape: [...shape], stride: [...strides] };
  }
  if (fn.name === REBUILD_PARAMETER) {
    // _rebuild_parameter(data, requires_grad, backward_hooks): the tensor, as a parameter.
    const [data, , hooks] = a;
    if (a.length !== 3 || !isTensorRef(data)) throw bad(` is not called as (tensor, requires_grad, backward_hooks)`);
    if (!(hooks instanceof Map && hooks.size === 0)) throw bad(` carries backward hooks (functions), which are not tensor data`);
    return data;
  }
  throw bad(' cannot be called'); // storage classes: named only inside persistent ids
}

/** Reads one pickle from `bytes` starting at `start`; returns its value and where it ended. */
export function readPickle(bytes: Uint8Array, persistentLoad: PersistentLoad, start = 0): { value: PickleValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pos = start;
  let opAt = start;

  const malformed = (why: string): PickleRefused => new PickleRefused('malformed', why, `the pickle is damaged at byte ${opAt}: ${why}`, opAt);
  const need = (n: number): number => {
    if (n < 0) throw malformed('a length is negative');
    if (pos + n > bytes.length) throw new PickleRefused('truncated', 'end of data', `the pickle is damaged at byte ${opAt}: it ends in the middle of an opcode (truncated)`, opAt);
    const at = pos;
    pos += n;
    return at;
  };
  const pop = (): PickleValue => {
    if (stack.length <= (marks.at(-1) ?? 0) && marks.length > 0) throw malformed('an opcode pops past a MARK');
    if (stack.length === 0) throw malformed('an opcode pops an empty stack');
    return stack.pop()!;
  };
  const popMark = (): PickleValue[] => {
    const mark = marks.pop();
    if (mark === undefined) throw malformed('an opcode needs a MARK that was never set');
    return stack.splice(mark);
  };
  const text = (at: number, n: number): string => {
    try {
      return utf8.decode(bytes.subarray(at, at + n));
    } catch {
      throw malformed('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 && bytes.length - pos <= 256) throw new PickleRefused('truncated', 'end of data', `the pickle is damaged at byte ${opAt}: it ends inside a GLOBAL name (truncated)`, opAt);
    if (end < 0 || end - pos > 256) throw malformed('a GLOBAL name has no end of line');
    const s = text(pos, end - pos);
    pos = end + 1;
    return s;
  };
  const pushGlobal = (module: string, name: string): void => {
    const full = globalName(module, name);
    if (!CALLABLE_GLOBALS.has(full) && !Object.hasOwn(STORAGE_DTYPES, full)) {
      throw new PickleRefused('global', full, `the pickle imports ${full}, which is not one of the tensor-building names allowed here; nothing was run`, opAt);
    }
    stack.push({ kind: 'global', name: full });
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof Map)) throw malformed(`SETITEM(S) on ${describe(target)}, not a dict`);
    if (items.length % 2 !== 0) throw malformed('SETITEMS with an odd number of items');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (typeof key !== 'string' && typeof key !== 'number') throw malformed(`a dict key is ${describe(key)}, not a string or integer`);
      target.set(key, items[i + 1]);
    }
  };

  for (;;) {
    opAt = pos;
    const op = bytes[need(1)];
    switch (op) {
      case OP.PROTO: {
        const version = bytes[need(1)];
        if (version > 5) throw malformed(`pickle protocol ${version} is newer than 5`);
        break;
      }
      case OP.FRAME:
        need(8); // a length hint for buffered readers; the opcodes follow in place
        break;
      case OP.STOP:
        if (stack.length !== 1 || marks.length !== 0) throw malformed('STOP with other than one value on the stack');
        return { value: stack[0], end: pos };
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.EMPTY_LIST:
        stack.push([]);
        break;
      case OP.EMPTY_TUPLE:
        stack.push(new Tuple([]));
        break;
      case OP.TUPLE:
        stack.push(new Tuple(popMark()));
        break;
      case OP.TUPLE1:
      case OP.TUPLE2:
      case OP.TUPLE3: {
        const n = op - OP.TUPLE1 + 1;
        const items: PickleValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(new Tuple(items));
        break;
      }
      case OP.APPEND: {
        const item = pop();
        const list = stack.at(-1);
        if (!Array.isArray(list)) throw malformed(`APPEND to ${describe(list ?? null)}, not a list`);
        list.push(item);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const list = stack.at(-1);
        if (!Array.isArray(list)) throw malformed(`APPENDS to ${describe(list ?? null)}, not a list`);
        list.push(...items);
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        setItems(stack.at(-1) ?? null, [key, value]);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        setItems(stack.at(-1) ?? null, items);
        break;
      }
      case OP.BININT:
        stack.push(view.getInt32(need(4), true));
        break;
      case OP.BININT1:
        stack.push(bytes[need(1)]);
        break;
      case OP.BININT2:
        stack.push(view.getUint16(need(2), true));
        break;
      case OP.LONG1: {
        // Little-endian two's complement of n bytes; numbers beyond 2^53 stay bigint.
        const n = bytes[need(1)];
        const at = need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i]);
        if (n > 0 && bytes[at + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case OP.BINFLOAT:
        stack.push(view.getFloat64(need(8), false)); // big-endian, as pickle writes it
        break;
      case OP.BINUNICODE: {
        const n = view.getUint32(need(4), true);
        stack.push(text(need(n), n));
        break;
      }
      case OP.SHORT_BINUNICODE: {
        const n = bytes[need(1)];
        stack.push(text(need(n), n));
        break;
      }
      case OP.BINUNICODE8: {
        const n = Number(view.getBigUint64(need(8), true));
        stack.push(text(need(n), n));
        break;
      }
      case OP.SHORT_BINBYTES: {
        const n = bytes[need(1)];
        stack.push(bytes.slice(need(n), pos));
        break;
      }
      case OP.BINBYTES: {
        const n = view.getUint32(need(4), true);
        stack.push(bytes.slice(need(n), pos));
        break;
      }
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BINPUT:
      case OP.LONG_BINPUT: {
        const index = op === OP.BINPUT ? bytes[need(1)] : view.getUint32(need(4), true);
        if (stack.length === 0) throw malformed('PUT with an empty stack');
        memo.set(index, stack.at(-1)!);
        break;
      }
      case OP.MEMOIZE:
        if (stack.length === 0) throw malformed('MEMOIZE with an empty stack');
        memo.set(memo.size, stack.at(-1)!);
        break;
      case OP.BINGET:
      case OP.LONG_BINGET: {
        const index = op === OP.BINGET ? bytes[need(1)] : view.getUint32(need(4), true);
        if (!memo.has(index)) throw malformed(`GET of memo slot ${index}, which was never PUT`);
        stack.push(memo.get(index)!);
        break;
      }
      case OP.GLOBAL: {
        const module = line();
        const name = line();
        pushGlobal(module, name);
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw malformed('STACK_GLOBAL of values that are not strings');
        pushGlobal(module, name);
        break;
      }
      case OP.REDUCE: {
        const args = pop();
        const fn = pop();
        if (!isGlobal(fn) || !CALLABLE_GLOBALS.has(fn.name)) {
          const what = isGlobal(fn) ? fn.name : describe(fn);
          throw new PickleRefused('global', what, `the pickle calls ${what}, which is not one of the tensor-building names allowed here; nothing was run`, opAt);
        }
        stack.push(reduce(fn, args, opAt));
        break;
      }
      case OP.BUILD: {
        // The state set on an object after construction: an OrderedDict's attributes (torch's
        // `_metadata` of module versions) or a tensor's Python attributes. Neither holds tensor
        // data; the state is checked to be data and otherwise dropped.
        const state = pop();
        const target = stack.at(-1) ?? null;
        if (!(target instanceof Map) && !isTensorRef(target)) throw malformed(`BUILD on ${describe(target)}`);
        if (isGlobal(state)) throw malformed('BUILD with a global as state');
        break;
      }
      case OP.BINPERSID: {
        const pid = pop();
        stack.push(persistentLoad(pid, opAt));
        break;
      }
      default: {
        const name = REFUSED_NAMES[op];
        if (name) throw new PickleRefused('opcode', name, `the pickle uses opcode ${name} (byte 0x${op.toString(16).padStart(2, '0')} at ${opAt}), which a tensor state dict never needs; nothing was run`, opAt);
        throw new PickleRefused('opcode', `0x${op.toString(16).padStart(2, '0')}`, `byte 0x${op.toString(16).padStart(2, '0')} at ${opAt} is not a pickle opcode (damaged or not a pickle)`, opAt);
      }
    }
  }
}

/** The tensors of a state dict: a dict (or OrderedDict) of names to tensors. */
export function stateDictTensors(value: PickleValue): Map<string, TensorRef> | string {
  if (!(value instanceof Map)) return `holds ${describe(value)}, not a state dict (a dict of tensor names to tensors)`;
  const out = new Map<string, TensorRef>();
  for (const [key, v] of value) {
    if (typeof key !== 'string') return `has a key that is ${describe(key)}, not a tensor name`;
    if (!isTensorRef(v)) return `maps '${key.slice(0, 80)}' to ${describe(v)}, not a tensor (a training checkpoint, not a state dict?)`;
    out.set(key, v);
  }
  return out;
}

/** Item size of each dtype a storage can hold. */
export const ITEM_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

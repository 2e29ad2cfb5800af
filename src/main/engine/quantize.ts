// The "fast" precision: a graph transform that replaces a float linear y = x·Wᵀ (Gemm, transB = 1,
// W stored (N, K) as in Hugging Face) or y = x·W (MatMul, W stored (K, N)) whose W is a weight
// initializer by onnxruntime's com.microsoft.DynamicQuantizeMatMul(x, Wq, s, ∅, bias): the weight
// is int8, the activations are quantized to uint8 per call (onnxruntime's dynamic range), and the
// int8 GEMM uses VNNI/AMX where the CPU has them.
//
// Weights are quantized per output column, symmetric, with no zero point:
//   s[n]     = max_k |W[n,k]| / 127                (float32 division; s = 1 for an all-zero column)
//   Wq[k,n]  = clamp(rint(W[n,k] / s[n]), −127, 127)   (rint: round half to even, as numpy)
// Wq is stored (K, N), the layout DynamicQuantizeMatMul reads (B of A·B). scripts/reference/
// make_quant_fixtures.py computes the same in numpy; quantize.test.ts compares bit for bit.
import { closeSync, openSync, readSync, realpathSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ApiError } from '../../shared/errors';
import { graphError, type Graph, type Node, type Value } from './graph';
import type { ExternalData } from './onnx-proto';
import { openQuantCacheWriter, quantCacheFile, readQuantCache, type QuantCacheOptions } from './quant-cache';

export const QUANT_DOMAIN = 'com.microsoft';
/** int8 bytes the model itself may carry without `sinkFile`: protobuf caps a model at 2 GiB, and
 * the rest of the graph needs room (Gemma-2-2B's 26 layers need 1.35 GB). */
export const MAX_IN_MODEL_BYTES = 1.75 * 2 ** 30;

export interface QuantizeOptions {
  /** The folder the graph's external-data locations are relative to. */
  root: string;
  /** Which weights (by initializer name) to quantize; default `decoderProjections`. */
  select?: (weightName: string) => boolean;
  /** Where the int8 weights go: a file under `root` (external data; needed past protobuf's 2 GiB
   * model limit), or, when absent, into the model bytes. */
  sinkFile?: string;
  /** Test hook only: quantize to this many bits (levels ±(2^(bits−1) − 1)) to prove that the
   * fidelity gate catches a bad quantization. Default 8. */
  bits?: number;
  /** Without `sinkFile`: the most int8 bytes the model may carry (default MAX_IN_MODEL_BYTES). */
  maxInModelBytes?: number;
  /** Keep the int8 weights between runs (engine/quant-cache.ts): a file holding every weight this
   * graph quantizes is used instead of reading and quantizing the float weights. */
  cache?: QuantCacheOptions;
}

export interface QuantizeReport {
  /** The weights replaced, in graph order. */
  replaced: string[];
  /** Bytes of int8 weights and float32 scales written. */
  bytes: number;
  /** With `cache`: whether the weights came from it, were written to it, or could not be (why). */
  cache?: { file: string; status: 'hit' | 'written' | 'not written'; detail?: string };
}

/** The decoder projections that read the RMS-normed residual stream: q, k, v, gate, up (2/3 of a
 * Gemma-2-2B layer's multiply-adds). o_proj and down_proj stay float32: their inputs (attention
 * output, gelu(gate)·up) are heavy-tailed, and one range per tensor for the uint8 activations
 * loses their small values: on the demo model (16 UDHR segments, en es hi ml, 6 SAEs) quantizing
 * them too took the gate's mean-activation difference from 0.93 % to 2.5 % and the gap difference
 * from 0.70 to 1.73 points. The embeddings (a Gather), the LM head and the SAEs stay float32. */
export const decoderProjections = (name: string) => /^model\.layers\.\d+\.(self_attn\.[qkv]_proj|mlp\.(gate|up)_proj)\.weight$/.test(name);

/** Symmetric per-column quantization of W, given as (N rows of K) when `rowsAreOutputs` (Gemm
 * transB) or (K rows of N) otherwise. Returns Wq (K, N) row-major and s (N). */
export function quantizeColumns(w: Float32Array, K: number, N: number, rowsAreOutputs: boolean, bits = 8): { q: Int8Array; scale: Float32Array } {
  const qmax = 2 ** (bits - 1) - 1;
  const at = rowsAreOutputs ? (k: number, n: number) => w[n * K + k] : (k: number, n: number) => w[k * N + n];
  const scale = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let m = 0;
    for (let k = 0; k < K; k++) {
      const a = Math.abs(at(k, n));
      if (!(a <= m)) m = a; // NaN also lands here and is caught below
    }
    if (!Number.isFinite(m)) throw new ApiError('WEIGHTS_INVALID', `column ${n} of a weight holds a non-finite value; it cannot be quantized`);
    scale[n] = m === 0 ? 1 : Math.fround(m / qmax);
  }
  const q = new Int8Array(K * N);
  // 64 x 64 tiles: the (N, K) source is read along its rows and Wq written along its rows, instead
  // of striding a whole matrix per element.
  const T = 64;
  for (let n0 = 0; n0 < N; n0 += T) {
    const n1 = Math.min(n0 + T, N);
    for (let k0 = 0; k0 < K; k0 += T) {
      const k1 = Math.min(k0 + T, K);
      for (let n = n0; n < n1; n++) {
        const s = scale[n];
        // W[n, k] at n·K + k (Gemm, transB) or k·N + n (MatMul).
        const [base, step] = rowsAreOutputs ? [n * K, 1] : [n, N];
        for (let k = k0; k < k1; k++) {
          // Quotient of two float32s rounded once to float32 (what numpy's float32 division gives).
          const r = rint(Math.fround(w[base + k * step] / s));
          q[k * N + n] = r > qmax ? qmax : r < -qmax ? -qmax : r;
        }
      }
    }
  }
  return { q, scale };
}

/** Round half to even (numpy.rint). */
function rint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Replaces the selected float linears of `g` in place; see the file comment. */
export function quantizeGraph(g: Graph, options: QuantizeOptions): QuantizeReport {
  const select = options.select ?? decoderProjections;
  const bits = options.bits ?? 8;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw graphError(`quantization bits must be 2..8, got ${bits}`);
  const inits = new Map(g.initializers.map((i) => [i.value.id, i]));
  // The linears to replace, found first so a cache file is used only when it holds all of them.
  const targets: { i: number; node: Node; gemm: boolean; init: (typeof g.initializers)[number]; K: number; N: number }[] = [];
  for (let i = 0; i < g.nodes.length; i++) {
    const node = g.nodes[i];
    const gemm = node.opType === 'Gemm' && node.domain === '' && node.attrs.transB === 1;
    const matmul = node.opType === 'MatMul' && node.domain === '';
    if (!gemm && !matmul) continue;
    const [x, b] = node.inputs;
    // A weight read through a Cast (bf16/f16 storage) counts as the stored tensor.
    const stored = b?.node?.opType === 'Cast' && b.node.inputs[0] && inits.has(b.node.inputs[0].id) ? b.node.inputs[0] : b;
    const init = stored ? inits.get(stored.id) : undefined;
    if (!x || !init || init.value.shape.length !== 2 || x.shape.length !== 2 || !select(init.value.name)) continue;
    const [rows, cols] = init.value.shape as number[];
    targets.push({ i, node, gemm, init, ...(gemm ? { K: cols, N: rows } : { K: rows, N: cols }) });
  }
  const report: QuantizeReport = { replaced: [], bytes: 0 };
  let hits: ReturnType<typeof readQuantCache> | undefined;
  let writer: ReturnType<typeof openQuantCacheWriter> | null = null;
  if (options.cache && targets.length) {
    const file = quantCacheFile(options.cache, bits);
    hits = readQuantCache(options.cache, bits);
    const weights = 'weights' in hits ? hits.weights : undefined;
    const complete = weights && targets.every((t) => weights.get(t.init.value.name)?.K === t.K && weights.get(t.init.value.name)?.N === t.N);
    if (complete) report.cache = { file, status: 'hit' };
    else {
      hits = undefined;
      try {
        writer = openQuantCacheWriter(options.cache, bits);
      } catch (error) {
        report.cache = { file, status: 'not written', detail: (error as Error).message };
      }
    }
  }
  const cacheWrite = (name: string, K: number, N: number, q: Uint8Array, s: Uint8Array) => {
    if (!writer) return;
    try {
      writer.add(name, K, N, q, s);
    } catch (error) {
      // A full disk or a vanished folder costs the cache, never the run.
      writer.abort();
      writer = null;
      report.cache = { file: quantCacheFile(options.cache!, bits), status: 'not written', detail: (error as Error).message };
    }
  };
  const sink = options.sinkFile ? openSink(options.root, options.sinkFile) : null;
  try {
    for (const { i, node, gemm, init, K, N } of targets) {
      const [x, , bias] = node.inputs;
      const hit = hits && 'weights' in hits ? hits.weights.get(init.value.name) : undefined;
      let qBytes: Uint8Array;
      let sBytes: Uint8Array;
      if (hit) {
        qBytes = hit.q;
        sBytes = hit.scale;
      } else {
        const w = readFloats(options.root, init.value.name, init.value.dtype, init.data, K * N);
        const { q, scale } = quantizeColumns(w, K, N, gemm, bits);
        qBytes = new Uint8Array(q.buffer);
        sBytes = new Uint8Array(scale.buffer);
        cacheWrite(init.value.name, K, N, qBytes, sBytes);
      }
      const cap = options.maxInModelBytes ?? MAX_IN_MODEL_BYTES;
      if (!sink && report.bytes + qBytes.length > cap) {
        throw graphError(`the fast precision's int8 weights pass ${(cap / 2 ** 30).toFixed(2)} GiB at '${init.value.name}' (protobuf's 2 GiB model limit); run this model in precision exact`);
      }
      const qv = g.initializer(`${init.value.name}.int8`, 'int8', [K, N], sink ? sink.write(qBytes) : qBytes);
      const sv = g.initializer(`${init.value.name}.scale`, 'float32', [N], sink ? sink.write(sBytes) : sBytes);
      report.bytes += qBytes.length + sBytes.length;
      const replacement: Node = { id: node.id, opType: 'DynamicQuantizeMatMul', domain: QUANT_DOMAIN, inputs: bias ? [x, qv, sv, null, bias] : [x, qv, sv], outputs: node.outputs, attrs: {} };
      g.nodes[i] = replacement;
      // The outputs keep their names and consumers; their producer is now the quantized node, so
      // liveness (and with it which initializers the model carries) no longer reaches W.
      for (const o of node.outputs) (o as { node?: Node }).node = replacement;
      report.replaced.push(init.value.name);
    }
    if (writer) {
      const w = writer as ReturnType<typeof openQuantCacheWriter>;
      writer = null;
      try {
        report.cache = { file: w.finish(), status: 'written' };
      } catch (error) {
        w.abort();
        report.cache = { file: quantCacheFile(options.cache!, bits), status: 'not written', detail: (error as Error).message };
      }
    }
  } finally {
    sink?.close();
    // Thrown out of the loop (e.g. the 2 GiB guard): no half cache file is left.
    (writer as ReturnType<typeof openQuantCacheWriter> | null)?.abort();
  }
  if (report.replaced.length) g.opsets.set(QUANT_DOMAIN, 1);
  return report;
}

function readFloats(root: string, name: string, dtype: string, data: Uint8Array | ExternalData, count: number): Float32Array {
  let bytes: Uint8Array;
  if (data instanceof Uint8Array) {
    bytes = data;
  } else {
    bytes = new Uint8Array(data.length);
    const fd = openSync(join(root, data.location), 'r');
    try {
      let got = 0;
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, data.offset + got);
        if (n === 0) throw new ApiError('WEIGHTS_INVALID', `${data.location}: tensor '${name}' ends early (file truncated?)`);
        got += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  const copy = bytes.slice(); // aligned
  switch (dtype) {
    case 'float32':
      return new Float32Array(copy.buffer, 0, count);
    case 'float64':
      return Float32Array.from(new Float64Array(copy.buffer, 0, count));
    case 'bfloat16': {
      const h = new Uint16Array(copy.buffer, 0, count);
      const u = new Uint32Array(count);
      for (let i = 0; i < count; i++) u[i] = h[i] << 16;
      return new Float32Array(u.buffer);
    }
    case 'float16': {
      const h = new Uint16Array(copy.buffer, 0, count);
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(h[i]);
      return out;
    }
    default:
      throw graphError(`weight '${name}' is ${dtype}; only float weights can be quantized`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** An append-only external-data file under `root`; locations are relative to `root`. */
function openSink(root: string, file: string) {
  const location = relative(realpathSync(root), join(realpathSync(dirname(file)), file.split(sep).at(-1)!));
  if (location.startsWith('..') || isAbsolute(location)) throw graphError(`the quantized-weight file ${file} must lie under ${root}, the folder the graph reads weights from`);
  const fd = openSync(file, 'w');
  let offset = 0;
  return {
    write(bytes: Uint8Array): ExternalData {
      writeSync(fd, bytes, 0, bytes.length, offset);
      const at = { location: location.split(sep).join('/'), offset, length: bytes.length };
      // 64-byte alignment keeps onnxruntime's memory-mapped reads aligned.
      offset += Math.ceil(bytes.length / 64) * 64;
      return at;
    },
    close: () => closeSync(fd),
  };
}

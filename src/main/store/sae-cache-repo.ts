// The activation cache: one row per (phrase, SAE) keyed by content hashes. A batch's rows are
// written in one transaction, so a run killed at any moment leaves whole batches or nothing, and
// the next run computes only what is missing.
//
// A row holds what the analysis reads, not the phrase's whole sparse code (an SAE of width 16k
// leaves thousands of features active over a long phrase, 4 bytes each even compressed):
// - exact sums (float64 of the float32 extraction) of the mean and max over every active feature,
//   and their count: the "all features" figures;
// - exact sums over the reference phrase's active set F_en (the English version of the segment)
//   and |F_en|: the "english-active" figures. The key of a non-reference row therefore includes
//   the reference phrase's tokens;
// - the `keep` strongest features by mean and by max as a sparse float16 list (5e-4 relative):
//   the most disparate features and their phrases; `cut` bounds every value left out;
// - on reference rows only, the active set itself as a bitmap, so later rows (a language added
//   to an analysis, a resumed run) can be summed against it without recomputing English;
// - the fidelity sums;
// - `exact`: float32 values (as extracted: exact) of the features an analysis asked for (its
//   top-feature candidates), written by a second pass and merged as later analyses ask for more.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ApiError } from '../../shared/errors';
import { f16ToFloat32, float32ToF16 } from '../io/safetensors';
import type { Fidelity, PhraseSummary } from '../sae/extract';
import { storeCall, type Db } from './db';

export interface CachedSummary {
  /** Kept features (ascending): the `keep` largest by mean and the `keep` largest by max. */
  features: Uint32Array;
  mean: Float32Array;
  max: Float32Array;
  /** Exact sums over every active feature, and how many are active. */
  total: { mean: number; max: number; active: number };
  /** Exact sums over the reference phrase's active features F_en, and |F_en|. */
  reference: { mean: number; max: number; count: number };
  /** Largest mean and max among active features not kept (0 when every one was kept). */
  cut: { mean: number; max: number };
  /** The phrase's active features as a bitmap (bit f of byte f >> 3); reference rows only. */
  active: Uint8Array | null;
  fidelity: Fidelity;
  /** Exact values of the features an analysis asked for (0 where inactive); null if none yet. */
  exact: ExactValues | null;
}

/** Float32 values of chosen features, ascending feature order. */
export interface ExactValues {
  features: Uint32Array;
  mean: Float32Array;
  max: Float32Array;
}

/** Relative error of a float16 value in the kept lists (round to nearest, 11 significant bits),
 * plus the absolute error of the subnormal range: the margins of every bound drawn from them. */
export const F16_RELATIVE = 2 ** -11;
export const F16_ABSOLUTE = 2 ** -25;

/**
 * What a row tells about feature f: its exact value (mean and max), or bounds.
 * - exact: in the row's `exact` list; or certainly inactive (a reference row's bitmap lacks it, or
 *   the row kept every active feature and f is not among them): 0;
 * - kept in the float16 list: that value ± its rounding;
 * - otherwise: between 0 and the row's cut.
 */
export function featureValue(row: CachedSummary, f: number): { exact: boolean; mean: [number, number]; max: [number, number] } {
  const e = row.exact ? sortedIndex(row.exact.features, f) : -1;
  if (e >= 0) return { exact: true, mean: [row.exact!.mean[e], row.exact!.mean[e]], max: [row.exact!.max[e], row.exact!.max[e]] };
  if (row.active && (row.active[f >> 3] & (1 << (f & 7))) === 0) return { exact: true, mean: [0, 0], max: [0, 0] };
  const j = sortedIndex(row.features, f);
  if (j >= 0) {
    const around = (v: number): [number, number] => [Math.max(0, v - v * F16_RELATIVE - F16_ABSOLUTE), v + v * F16_RELATIVE + F16_ABSOLUTE];
    return { exact: false, mean: around(row.mean[j]), max: around(row.max[j]) };
  }
  if (row.cut.mean === 0 && row.cut.max === 0) return { exact: true, mean: [0, 0], max: [0, 0] };
  return { exact: false, mean: [0, row.cut.mean], max: [0, row.cut.max] };
}

/** Position of f in an ascending list, or -1. */
export function sortedIndex(list: Uint32Array, f: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] === f) return mid;
    if (list[mid] < f) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The values of `features` (ascending) in a full phrase summary: 0 where inactive. */
export function exactValues(s: PhraseSummary, features: readonly number[]): ExactValues {
  const mean = new Float32Array(features.length);
  const max = new Float32Array(features.length);
  features.forEach((f, i) => {
    const j = sortedIndex(s.features, f);
    if (j >= 0) {
      mean[i] = s.mean[j];
      max[i] = s.max[j];
    }
  });
  return { features: Uint32Array.from(features), mean, max };
}

/** The union of two exact lists (the newer value wins where both hold a feature: they are equal). */
export function mergeExact(a: ExactValues | null, b: ExactValues): ExactValues {
  if (!a) return b;
  const all = [...new Set([...a.features, ...b.features])].sort((x, y) => x - y);
  const mean = new Float32Array(all.length);
  const max = new Float32Array(all.length);
  all.forEach((f, i) => {
    const [src, j] = sortedIndex(b.features, f) >= 0 ? [b, sortedIndex(b.features, f)] : [a, sortedIndex(a.features, f)];
    mean[i] = src.mean[j];
    max[i] = src.max[j];
  });
  return { features: Uint32Array.from(all), mean, max };
}

const FORMAT = 2;

export function cacheKey(parts: { model: string; sae: string; settings: string; tokens: readonly number[]; reference?: readonly number[] }): string {
  const ref = parts.reference ? `\nreference:${parts.reference.join(',')}` : '';
  return createHash('sha256').update(`${parts.model}\n${parts.sae}\n${parts.settings}\n${parts.tokens.join(',')}${ref}`).digest('hex');
}

export function activeBitmap(features: Uint32Array, dSae: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(dSae / 8));
  for (const f of features) bits[f >> 3] |= 1 << (f & 7);
  return bits;
}

const hasBit = (bits: Uint8Array, f: number) => (bits[f >> 3] & (1 << (f & 7))) !== 0;

function popcount(bits: Uint8Array): number {
  let n = 0;
  for (let b of bits) {
    for (; b; b &= b - 1) n++;
  }
  return n;
}

/** The `keep` largest entries of `values` (ties: lower position first), as positions. */
function largest(values: Float32Array, keep: number): number[] {
  return Array.from(values.keys())
    .sort((a, b) => values[b] - values[a] || a - b)
    .slice(0, keep);
}

/**
 * The cache row of one phrase's full summary. `reference` is the reference phrase's active-set
 * bitmap; null when the phrase is the reference itself (its row then stores its own bitmap).
 */
export function cacheRow(s: PhraseSummary, reference: Uint8Array | null, keep: number, dSae: number): CachedSummary {
  const n = s.features.length;
  let sumMean = 0;
  let sumMax = 0;
  let refMean = 0;
  let refMax = 0;
  for (let j = 0; j < n; j++) {
    sumMean += s.mean[j];
    sumMax += s.max[j];
    if (reference && hasBit(reference, s.features[j])) {
      refMean += s.mean[j];
      refMax += s.max[j];
    }
  }
  const active = reference ? null : activeBitmap(s.features, dSae);
  const refCount = reference ? popcount(reference) : n;
  let kept: number[];
  if (n <= keep) kept = Array.from({ length: n }, (_, j) => j);
  else kept = [...new Set([...largest(s.mean, keep), ...largest(s.max, keep)])].sort((a, b) => a - b);
  const isKept = new Uint8Array(n);
  for (const j of kept) isKept[j] = 1;
  let cutMean = 0;
  let cutMax = 0;
  for (let j = 0; j < n; j++) {
    if (isKept[j]) continue;
    cutMean = Math.max(cutMean, s.mean[j]);
    cutMax = Math.max(cutMax, s.max[j]);
  }
  // Kept values are rounded to float16 here, so a row read back equals the row written.
  const f16 = (v: Float32Array) => f16ToFloat32(float32ToF16(Float32Array.from(kept, (j) => v[j])));
  return {
    features: Uint32Array.from(kept, (j) => s.features[j]),
    mean: f16(s.mean),
    max: f16(s.max),
    total: { mean: sumMean, max: sumMax, active: n },
    reference: reference ? { mean: refMean, max: refMax, count: refCount } : { mean: sumMean, max: sumMax, count: n },
    cut: { mean: cutMean, max: cutMax },
    active,
    fidelity: s.fidelity,
    exact: null,
  };
}

/** deflate(u8 format | f64 total mean, max | u32 active | f64 reference mean, max | u32 |F_en| |
 * f32 cut mean, max | u32 kept | varint index deltas | f16 means | f16 maxima). */
export function encodeRow(r: CachedSummary): Buffer {
  const n = r.features.length;
  const varints = writeVarintDeltas(r.features);
  const head = 1 + 16 + 4 + 16 + 4 + 8 + 4;
  const out = Buffer.alloc(head + varints.length + 4 * n);
  let at = out.writeUInt8(FORMAT, 0);
  at = out.writeDoubleLE(r.total.mean, at);
  at = out.writeDoubleLE(r.total.max, at);
  at = out.writeUInt32LE(r.total.active, at);
  at = out.writeDoubleLE(r.reference.mean, at);
  at = out.writeDoubleLE(r.reference.max, at);
  at = out.writeUInt32LE(r.reference.count, at);
  at = out.writeFloatLE(r.cut.mean, at);
  at = out.writeFloatLE(r.cut.max, at);
  at = out.writeUInt32LE(n, at);
  Buffer.from(varints).copy(out, at);
  at += varints.length;
  Buffer.from(float32ToF16(r.mean).buffer).copy(out, at);
  Buffer.from(float32ToF16(r.max).buffer).copy(out, at + 2 * n);
  return deflateRawSync(out);
}

function writeVarintDeltas(features: Uint32Array): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const f of features) {
    let d = f - prev;
    prev = f;
    while (d >= 0x80) {
      out.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    out.push(d);
  }
  return out;
}

/** deflate(u32 n | varint feature deltas | f32 means | f32 maxima). */
export function encodeExact(e: ExactValues): Buffer {
  const n = e.features.length;
  const varints = writeVarintDeltas(e.features);
  const out = Buffer.alloc(4 + varints.length + 8 * n);
  out.writeUInt32LE(n, 0);
  Buffer.from(varints).copy(out, 4);
  Buffer.from(e.mean.buffer, e.mean.byteOffset, 4 * n).copy(out, 4 + varints.length);
  Buffer.from(e.max.buffer, e.max.byteOffset, 4 * n).copy(out, 4 + varints.length + 4 * n);
  return deflateRawSync(out);
}

/** `n` ascending feature ids stored as LEB128 varint deltas from `at`; `end` is the byte after them. */
function readFeatureIds(raw: Buffer, at: number, n: number): { features: Uint32Array; end: number } {
  const features = new Uint32Array(n);
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let d = 0;
    let shift = 0;
    for (;;) {
      const b = raw[at++];
      d += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    prev += d;
    features[i] = prev;
  }
  return { features, end: at };
}

export function decodeExact(blob: Buffer): ExactValues {
  const raw = inflateRawSync(blob);
  const n = raw.readUInt32LE(0);
  const { features, end: at } = readFeatureIds(raw, 4, n);
  const floats = (offset: number) => Float32Array.from({ length: n }, (_, i) => raw.readFloatLE(offset + 4 * i));
  return { features, mean: floats(at), max: floats(at + 4 * n) };
}

export function decodeRow(blob: Buffer, activeBlob: Buffer | null, fidelity: Fidelity, exactBlob: Buffer | null = null): CachedSummary {
  const raw = inflateRawSync(blob);
  if (raw[0] !== FORMAT) throw new ApiError('STORE_ERROR', `a cache row has format ${raw[0]}, this version reads ${FORMAT}`);
  let at = 1;
  const f64 = () => ((at += 8), raw.readDoubleLE(at - 8));
  const u32 = () => ((at += 4), raw.readUInt32LE(at - 4));
  const f32 = () => ((at += 4), raw.readFloatLE(at - 4));
  const total = { mean: f64(), max: f64(), active: u32() };
  const reference = { mean: f64(), max: f64(), count: u32() };
  const cut = { mean: f32(), max: f32() };
  const n = u32();
  const read = readFeatureIds(raw, at, n);
  const features = read.features;
  at = read.end;
  const halves = (offset: number) => f16ToFloat32(Uint16Array.from({ length: n }, (_, i) => raw.readUInt16LE(offset + 2 * i)));
  const active = activeBlob ? new Uint8Array(inflateRawSync(activeBlob)) : null;
  return { features, mean: halves(at), max: halves(at + 2 * n), total, reference, cut, active, fidelity, exact: exactBlob ? decodeExact(exactBlob) : null };
}

function encodeFidelity(f: Fidelity): Buffer {
  const b = Buffer.alloc(48);
  [f.sse, f.sumSq, f.cos, f.l0, f.sumNormSq, f.count].forEach((v, i) => b.writeDoubleLE(v, 8 * i));
  return b;
}

function decodeFidelity(b: Buffer): Fidelity {
  const v = (i: number) => b.readDoubleLE(8 * i);
  return { sse: v(0), sumSq: v(1), cos: v(2), l0: v(3), sumNormSq: v(4), count: v(5) };
}

export class SaeCacheRepo {
  constructor(private readonly db: Db) {}

  /** Which of `keys` are cached. */
  has(keys: readonly string[]): Set<string> {
    return storeCall('read the activation cache', () => {
      const stmt = this.db.prepare('SELECT 1 FROM sae_cache WHERE key = ?').pluck();
      return new Set(keys.filter((k) => stmt.get(k) !== undefined));
    });
  }

  get(key: string): CachedSummary | null {
    const row = storeCall('read the activation cache', () => this.db.prepare('SELECT summary, active, fidelity, exact FROM sae_cache WHERE key = ?').get(key)) as
      | { summary: Buffer; active: Buffer | null; fidelity: Buffer; exact: Buffer | null }
      | undefined;
    return row ? decodeRow(row.summary, row.active, decodeFidelity(row.fidelity), row.exact) : null;
  }

  /** The active-set bitmap of a cached reference row (null when absent). */
  active(key: string): Uint8Array | null {
    const blob = storeCall('read the activation cache', () => this.db.prepare('SELECT active FROM sae_cache WHERE key = ?').pluck().get(key)) as Buffer | null | undefined;
    return blob ? new Uint8Array(inflateRawSync(blob)) : null;
  }

  /** All rows of one batch, or none. */
  putBatch(rows: { key: string; row: CachedSummary }[]): void {
    const encoded = rows.map(({ key, row }) => [key, encodeRow(row), row.active ? deflateRawSync(row.active) : null, encodeFidelity(row.fidelity)] as const);
    const now = new Date().toISOString();
    storeCall('write to the activation cache', () => {
      const insert = this.db.prepare('INSERT OR REPLACE INTO sae_cache (key, summary, active, fidelity, created_at) VALUES (?, ?, ?, ?, ?)');
      this.db.transaction(() => {
        for (const [key, summary, active, fidelity] of encoded) insert.run(key, summary, active, fidelity, now);
      })();
    });
  }

  /** Adds exact feature values to stored rows, merged with what they hold, in one transaction. */
  putExact(rows: { key: string; exact: ExactValues }[]): void {
    storeCall('write to the activation cache', () => {
      const read = this.db.prepare('SELECT exact FROM sae_cache WHERE key = ?').pluck();
      const write = this.db.prepare('UPDATE sae_cache SET exact = ? WHERE key = ?');
      this.db.transaction(() => {
        for (const { key, exact } of rows) {
          const stored = read.get(key) as Buffer | null | undefined;
          if (stored === undefined) throw new ApiError('STORE_ERROR', 'a cached activation summary disappeared during the analysis; run it again');
          write.run(encodeExact(mergeExact(stored ? decodeExact(stored) : null, exact)), key);
        }
      })();
    });
  }

  /** A stored top-feature set (see the top_feature_sets migration), or null. */
  topSet(key: string): number[] | null {
    const json = storeCall('read the activation cache', () => this.db.prepare('SELECT features FROM top_feature_sets WHERE key = ?').pluck().get(key)) as string | undefined;
    return json === undefined ? null : (JSON.parse(json) as number[]);
  }

  putTopSets(sets: { key: string; features: number[] }[]): void {
    const now = new Date().toISOString();
    storeCall('write to the activation cache', () => {
      const insert = this.db.prepare('INSERT OR REPLACE INTO top_feature_sets (key, features, created_at) VALUES (?, ?, ?)');
      this.db.transaction(() => {
        for (const { key, features } of sets) insert.run(key, JSON.stringify(features), now);
      })();
    });
  }

  /** Stored bytes of the given rows (blob sizes plus the key). */
  bytes(keys: readonly string[]): number {
    return storeCall('read the activation cache', () => {
      const stmt = this.db.prepare('SELECT length(summary) + coalesce(length(active), 0) + length(fidelity) + coalesce(length(exact), 0) + length(key) FROM sae_cache WHERE key = ?').pluck();
      return keys.reduce((sum, k) => sum + ((stmt.get(k) as number | undefined) ?? 0), 0);
    });
  }
}

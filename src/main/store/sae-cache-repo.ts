// The activation cache: one row per (phrase, SAE) keyed by content hashes. A batch's rows are
// written in one transaction, so a run killed at any moment leaves whole batches or nothing, and
// the next run computes only what is missing. Values are stored as float16 (5e-4 relative
// precision); every analysis reads them back from here, so a run's figures are the same whether
// its phrases were computed now or earlier.
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ApiError } from '../../shared/errors';
import { float32ToF16 } from '../io/safetensors';
import type { Fidelity, PhraseSummary } from '../sae/extract';
import type { Db } from './db';

export interface CachedSummary {
  features: Uint32Array;
  mean: Float32Array;
  max: Float32Array;
  fidelity: Fidelity;
}

export function cacheKey(parts: { model: string; sae: string; settings: string; tokens: readonly number[] }): string {
  return createHash('sha256').update(`${parts.model}\n${parts.sae}\n${parts.settings}\n${parts.tokens.join(',')}`).digest('hex');
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function encodeFeatures(s: Pick<PhraseSummary, 'features' | 'mean' | 'max'>): Buffer {
  const n = s.features.length;
  const varints: number[] = [];
  let prev = 0;
  for (let i = 0; i < n; i++) {
    let d = s.features[i] - prev;
    prev = s.features[i];
    while (d >= 0x80) {
      varints.push((d & 0x7f) | 0x80);
      d >>>= 7;
    }
    varints.push(d);
  }
  const out = Buffer.alloc(4 + varints.length + 4 * n);
  out.writeUInt32LE(n, 0);
  Buffer.from(varints).copy(out, 4);
  const at = 4 + varints.length;
  Buffer.from(float32ToF16(s.mean).buffer).copy(out, at);
  Buffer.from(float32ToF16(s.max).buffer).copy(out, at + 2 * n);
  return deflateRawSync(out);
}

export function decodeFeatures(blob: Buffer): Pick<CachedSummary, 'features' | 'mean' | 'max'> {
  const raw = inflateRawSync(blob);
  const n = raw.readUInt32LE(0);
  const features = new Uint32Array(n);
  let at = 4;
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
  const mean = new Float32Array(n);
  const max = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    mean[i] = f16ToF32(raw.readUInt16LE(at + 2 * i));
    max[i] = f16ToF32(raw.readUInt16LE(at + 2 * n + 2 * i));
  }
  return { features, mean, max };
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

function storeError(error: unknown): ApiError {
  const e = error as { code?: string; message?: string };
  if (e.code === 'SQLITE_FULL') return new ApiError('STORE_ERROR', 'the disk is full: the activation cache cannot grow; free space and run again (nothing cached so far is lost)');
  if (e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_LOCKED') return new ApiError('STORE_ERROR', 'the database is locked by another program; close it and run again (nothing cached so far is lost)');
  return new ApiError('STORE_ERROR', `the activation cache could not be written: ${e.message ?? String(error)}`);
}

export class SaeCacheRepo {
  constructor(private readonly db: Db) {}

  /** Which of `keys` are cached. */
  has(keys: readonly string[]): Set<string> {
    const stmt = this.db.prepare('SELECT 1 FROM sae_phrase_cache WHERE key = ?').pluck();
    return new Set(keys.filter((k) => stmt.get(k) !== undefined));
  }

  get(key: string): CachedSummary | null {
    const row = this.db.prepare('SELECT features, fidelity FROM sae_phrase_cache WHERE key = ?').get(key) as { features: Buffer; fidelity: Buffer } | undefined;
    return row ? { ...decodeFeatures(row.features), fidelity: decodeFidelity(row.fidelity) } : null;
  }

  /** All rows of one batch, or none. */
  putBatch(rows: { key: string; summary: PhraseSummary }[]): number {
    const insert = this.db.prepare('INSERT OR REPLACE INTO sae_phrase_cache (key, features, fidelity, created_at) VALUES (?, ?, ?, ?)');
    const now = new Date().toISOString();
    let bytes = 0;
    try {
      this.db.transaction(() => {
        for (const { key, summary } of rows) {
          const features = encodeFeatures(summary);
          bytes += features.byteLength + 48 + 64;
          insert.run(key, features, encodeFidelity(summary.fidelity), now);
        }
      })();
    } catch (error) {
      throw storeError(error);
    }
    return bytes;
  }

  /** Stored bytes of the given rows (blob sizes plus the key). */
  bytes(keys: readonly string[]): number {
    const stmt = this.db.prepare('SELECT length(features) + length(fidelity) + length(key) FROM sae_phrase_cache WHERE key = ?').pluck();
    return keys.reduce((sum, k) => sum + ((stmt.get(k) as number | undefined) ?? 0), 0);
  }
}

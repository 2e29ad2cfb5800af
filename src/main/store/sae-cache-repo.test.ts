// The activation cache rows: what a row keeps of a phrase's summary, the round trip through
// SQLite, and a full disk or a locked database losing nothing already stored.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { PhraseSummary } from '../sae/extract';
import { openDatabase } from './db';
import { activeBitmap, cacheKey, cacheRow, exactValues, featureValue, SaeCacheRepo, sortedIndex } from './sae-cache-repo';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const fidelity = { sse: 1.5, sumSq: 10, cos: 2.5, l0: 7, sumNormSq: 4, count: 3 };
/** A phrase summary with `n` active features spread over a width of 4096. */
function summary(n: number, seed: number): PhraseSummary {
  const features = Uint32Array.from({ length: n }, (_, i) => i * 7 + (seed % 7));
  const mean = Float32Array.from(features, (f) => ((f * 2654435761 + seed) % 1000) / 997 + 0.001);
  const max = Float32Array.from(mean, (m, i) => m * (1 + (i % 5)));
  return { features, mean, max, fidelity };
}

describe('cache rows', () => {
  it('keeps exact sums over all features and over the reference set, the strongest features, and the cut', () => {
    const en = summary(300, 1);
    const hi = summary(200, 8);
    const enRow = cacheRow(en, null, 16, 4096);
    const hiRow = cacheRow(hi, enRow.active, 16, 4096);
    let sumMean = 0;
    let refMean = 0;
    let refMax = 0;
    const enSet = new Set(en.features);
    hi.features.forEach((f, j) => {
      sumMean += hi.mean[j];
      if (enSet.has(f)) {
        refMean += hi.mean[j];
        refMax += hi.max[j];
      }
    });
    expect(hiRow.total.mean).toBeCloseTo(sumMean, 9);
    expect(hiRow.total.active).toBe(200);
    expect(hiRow.reference.mean).toBeCloseTo(refMean, 9);
    expect(hiRow.reference.max).toBeCloseTo(refMax, 9);
    expect(hiRow.reference.count).toBe(300);
    expect(hiRow.active).toBeNull();
    expect(enRow.reference).toEqual({ mean: enRow.total.mean, max: enRow.total.max, count: 300 });
    expect(Array.from(enRow.active!.subarray(0, 2))).toEqual(Array.from(activeBitmap(en.features, 4096).subarray(0, 2)));
    // Kept: the 16 largest by mean and the 16 largest by max; every value left out is <= the cut.
    const byMean = [...hi.mean].sort((a, b) => b - a);
    expect(hiRow.features.length).toBeGreaterThanOrEqual(16);
    expect(hiRow.features.length).toBeLessThanOrEqual(32);
    expect(Math.min(...hiRow.mean)).toBeGreaterThan(0);
    const kept = new Set(hiRow.features);
    hi.features.forEach((f, j) => {
      if (!kept.has(f)) {
        expect(hi.mean[j]).toBeLessThanOrEqual(hiRow.cut.mean);
        expect(hi.max[j]).toBeLessThanOrEqual(hiRow.cut.max);
      }
    });
    expect(hiRow.cut.mean).toBeLessThanOrEqual(byMean[15]);
  });

  it('round-trips through SQLite bit for bit; keys separate the reference phrase', () => {
    const repo = new SaeCacheRepo(openDatabase(join(tmp.dir, 'round.db')));
    const enRow = cacheRow(summary(300, 1), null, 16, 4096);
    const hiRow = cacheRow(summary(200, 8), enRow.active, 16, 4096);
    repo.putBatch([
      { key: 'en', row: enRow },
      { key: 'hi', row: hiRow },
    ]);
    expect(repo.get('en')).toEqual(enRow);
    expect(repo.get('hi')).toEqual(hiRow);
    expect(repo.active('en')).toEqual(enRow.active);
    expect(repo.active('hi')).toBeNull();
    expect(repo.has(['en', 'hi', 'zz'])).toEqual(new Set(['en', 'hi']));
    const parts = { model: 'm', sae: 's', settings: '{}', tokens: [2, 5, 9] };
    expect(cacheKey(parts)).not.toBe(cacheKey({ ...parts, reference: [2, 5, 9] }));
    expect(cacheKey({ ...parts, reference: [2, 5] })).not.toBe(cacheKey({ ...parts, reference: [2, 6] }));
  });

  it('exact values: float32 round trip, merged feature by feature; what a row can and cannot tell', () => {
    const repo = new SaeCacheRepo(openDatabase(join(tmp.dir, 'exact.db')));
    const en = summary(300, 1);
    const hi = summary(200, 8);
    const enRow = cacheRow(en, null, 16, 4096);
    const hiRow = cacheRow(hi, enRow.active, 16, 4096);
    repo.putBatch([{ key: 'en', row: enRow }, { key: 'hi', row: hiRow }]);
    const notKept = [...hi.features].filter((f) => sortedIndex(hiRow.features, f) < 0);
    const first = [notKept[0], notKept[5], 4095];
    repo.putExact([{ key: 'hi', exact: exactValues(hi, first.sort((a, b) => a - b)) }]);
    repo.putExact([{ key: 'hi', exact: exactValues(hi, [notKept[5], notKept[9]]) }]);
    const row = repo.get('hi')!;
    expect(Array.from(row.exact!.features)).toEqual([notKept[0], notKept[5], notKept[9], 4095].sort((a, b) => a - b));
    for (const f of row.exact!.features) {
      const j = sortedIndex(hi.features, f);
      // float32 as extracted, bit for bit; 0 where inactive.
      expect(featureValue(row, f)).toEqual({ exact: true, mean: [j < 0 ? 0 : hi.mean[j], j < 0 ? 0 : hi.mean[j]], max: [j < 0 ? 0 : hi.max[j], j < 0 ? 0 : hi.max[j]] });
    }
    // Left out and not asked for: bounded by the cut, never 0.
    expect(featureValue(row, notKept[1])).toEqual({ exact: false, mean: [0, hiRow.cut.mean], max: [0, hiRow.cut.max] });
    // Kept as float16: the true value lies within the stated rounding.
    const k = hiRow.features[0];
    const v = featureValue(row, k);
    expect(v.exact).toBe(false);
    const j = sortedIndex(hi.features, k);
    expect(hi.mean[j]).toBeGreaterThanOrEqual(v.mean[0]);
    expect(hi.mean[j]).toBeLessThanOrEqual(v.mean[1]);
    // A reference row's bitmap makes an inactive feature an exact 0.
    const inactive = [...Array(4096).keys()].find((f) => sortedIndex(en.features, f) < 0)!;
    expect(featureValue(repo.get('en')!, inactive)).toEqual({ exact: true, mean: [0, 0], max: [0, 0] });
    // A row that kept every active feature tells every other one is 0.
    const small = cacheRow(summary(5, 2), enRow.active, 16, 4096);
    expect(featureValue(small, 4095)).toEqual({ exact: true, mean: [0, 0], max: [0, 0] });
    expect(repo.bytes(['hi'])).toBeGreaterThan(0);
    expect(() => repo.putExact([{ key: 'gone', exact: exactValues(hi, [1]) }])).toThrow(expect.objectContaining({ code: 'STORE_ERROR', message: expect.stringContaining('disappeared') }));
    // The failed batch changed nothing.
    expect(Array.from(repo.get('hi')!.exact!.features)).toHaveLength(4);
  });

  it('a full disk fails the batch with STORE_ERROR and keeps every row stored before', () => {
    const db = openDatabase(join(tmp.dir, 'full.db'));
    const repo = new SaeCacheRepo(db);
    const first = cacheRow(summary(50, 3), null, 64, 4096);
    repo.putBatch([{ key: 'kept', row: first }]);
    // SQLite reports SQLITE_FULL when the file may not grow past max_page_count, as on a full disk.
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 200 }, (_, i) => ({ key: `new${i}`, row: cacheRow(summary(500, i), null, 500, 4096) }));
    expect(() => repo.putBatch(big)).toThrow(expect.objectContaining({ code: 'STORE_ERROR', message: expect.stringContaining('the disk is full') }));
    expect(repo.has(big.map((r) => r.key)).size).toBe(0);
    expect(repo.get('kept')).toEqual(first);
  });

  it('a locked database fails the batch with STORE_ERROR and keeps every row stored before', () => {
    const path = join(tmp.dir, 'locked.db');
    const db = openDatabase(path);
    db.pragma('busy_timeout = 50');
    const repo = new SaeCacheRepo(db);
    const first = cacheRow(summary(50, 3), null, 64, 4096);
    repo.putBatch([{ key: 'kept', row: first }]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(() => repo.putBatch([{ key: 'new', row: first }])).toThrow(expect.objectContaining({ code: 'STORE_ERROR', message: expect.stringContaining('locked by another program') }));
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(repo.has(['new']).size).toBe(0);
    expect(repo.get('kept')).toEqual(first);
    repo.putBatch([{ key: 'new', row: first }]);
    expect(repo.has(['new']).size).toBe(1);
  });
});

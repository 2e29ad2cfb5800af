// Batch independence of the fused extraction: a phrase's summary (feature means and maxima,
// fidelity sums) is bit-identical whichever phrases of its padded length share its batch, so a
// figure never depends on which run or batch computed a cached row.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeHost } from '../engine/runtime-host';
import { openModelFolder } from '../models/model';
import { paddedLength, SaeExtractor, type PhraseSummary } from './extract';
import { loadSae } from './sae';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const runtime = new RuntimeHost();
let extractor: SaeExtractor;

beforeAll(async () => {
  const folder = openModelFolder(join(fixtures, 'models', 'gemma2'));
  extractor = await SaeExtractor.load(folder, [await loadSae(join(fixtures, 'saes', 'saelens', 'jumprelu'))], runtime);
}, 120_000);
afterAll(async () => {
  await extractor.release();
  await runtime.close();
});

describe('paddedLength', () => {
  it('rounds up to 8 tokens, then to an eighth of the power of two below, capped at the context', () => {
    const cases: [number, number][] = [[1, 8], [7, 8], [8, 8], [9, 16], [63, 64], [64, 64], [65, 72], [127, 128], [128, 128], [129, 144], [300, 320], [1000, 1024]];
    for (const [n, want] of cases) expect(paddedLength(n), String(n)).toBe(want);
    expect(paddedLength(129, 130)).toBe(130);
    for (let n = 1; n < 5000; n++) {
      const p = paddedLength(n);
      expect(p).toBeGreaterThanOrEqual(n);
      expect(p - n).toBeLessThanOrEqual(Math.max(7, n / 8));
    }
  });
});

/** Token ids 3..102 of a deterministic pseudo-random phrase. */
const phrase = (seed: number, n: number) => Array.from({ length: n }, (_, i) => ((seed * 31 + i * 17 + i * i) % 100) + 3);

/** Everything a cache row is made of, as plain arrays (so toEqual compares bits of finite floats). */
const plain = (s: PhraseSummary) => ({ features: Array.from(s.features), mean: Array.from(s.mean), max: Array.from(s.max), fidelity: s.fidelity });

it('a phrase gets bit-identical summaries in any batch of its padded length', async () => {
  const p = phrase(1, 11); // padded to 16
  const alone = plain((await extractor.run([p]))[0][0]);
  const batches: number[][][] = [
    [phrase(2, 16), p], // a longer neighbour of the same padded length
    [p, phrase(3, 9), phrase(4, 13), phrase(5, 12)],
    [...Array.from({ length: 15 }, (_, i) => phrase(10 + i, 9 + (i % 8))), p],
  ];
  for (const batch of batches) {
    const at = batch.indexOf(p);
    expect(plain((await extractor.run(batch))[at][0]), `batch of ${batch.length}`).toEqual(alone);
  }
  // The lengthened phrase of a batch is itself unchanged: padding by lengthening equals padding.
  const q = phrase(6, 13);
  const qAlone = plain((await extractor.run([q]))[0][0]);
  expect(plain((await extractor.run([q, phrase(7, 16)]))[0][0])).toEqual(qAlone);
}, 120_000);

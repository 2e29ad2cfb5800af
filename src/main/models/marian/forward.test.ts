// The Marian graphs against Hugging Face transformers: a tiny random MarianMTModel made by
// scripts/reference/make_marian_generate_fixtures.py (transformers 5.24, torch 2.15, eager
// attention, float32). Encoder states of a right-padded batch and teacher-forced decoder logits
// are compared everywhere (padding rows included); the KV-cached step is checked against the
// full recompute; the stored-positions layout of old opus-mt checkpoints loads to the same
// numbers; the sinusoidal table equals the one transformers stores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMarianFixture as loadFixtureModel, MARIAN_FIXTURES as root, MARIAN_OPUS_LAYOUT_DIR as OPUS_DIR } from '../../../../test/helpers/marian-fixture';
import { readTensorAsFloat32, readWeightIndex } from '../../io/safetensors';
import { readMarianConfig } from './config';
import type { DecoderCache, MarianModel } from './model';
import { sinusoidalPositions } from './weights';

interface Expected {
  pad: number;
  sources: number[][];
  encoder: { shape: number[]; last_hidden_state: number[] };
  decoder: { decoder_input_ids: number[][]; shape: number[]; logits: number[] };
}
const expected = JSON.parse(readFileSync(join(root, 'generate-expected.json'), 'utf8')) as Expected;

/** The bound. Measured here (2-core Xeon, ORT 1.30 CPU): encoder 9.3e-7, logits 2.1e-6 (the
 * fixture stores them rounded to 7 and 6 decimals). */
const TOLERANCE = 1e-4;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('Marian forward vs transformers', () => {
  let model: MarianModel;
  beforeAll(async () => {
    model = await loadFixtureModel();
  });
  afterAll(async () => {
    await model?.release();
  });

  it('encoder hidden states of a right-padded batch equal transformers within 1e-4', async () => {
    const encoded = await model.encode(expected.sources);
    expect(encoded.hidden.dims).toEqual(expected.encoder.shape);
    const diff = maxAbsDiff(encoded.hidden.data as Float32Array, expected.encoder.last_hidden_state);
    expect(diff).toBeLessThan(TOLERANCE);
  });

  it('teacher-forced decoder logits equal transformers within 1e-4', async () => {
    const encoded = await model.encode(expected.sources);
    const ids = expected.decoder.decoder_input_ids;
    const logits = (await model.step(encoded, ids, model.emptyCache(ids.length))).scores!;
    expect([ids.length, ids[0].length, model.config.vocabSize]).toEqual(expected.decoder.shape);
    expect(maxAbsDiff(logits, expected.decoder.logits)).toBeLessThan(TOLERANCE);
  });

  it('log_probs is the log-softmax of the logits (1e-5)', async () => {
    const encoded = await model.encode(expected.sources);
    const ids = expected.decoder.decoder_input_ids;
    const V = model.config.vocabSize;
    const logits = (await model.step(encoded, ids, model.emptyCache(ids.length))).scores!;
    const logProbs = (await model.step(encoded, ids, model.emptyCache(ids.length), undefined, { scores: 'log_probs' })).scores!;
    const reference = new Float64Array(logits.length);
    for (let r = 0; r < logits.length / V; r++) {
      const row = logits.subarray(r * V, (r + 1) * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      row.forEach((x, v) => (reference[r * V + v] = x - lse));
    }
    expect(maxAbsDiff(logProbs, reference)).toBeLessThan(1e-5);
  });

  it('decoding outputs: bans per row, renormalised or not, top entries sorted (lower id first on ties), greedy = best allowed logit', async () => {
    const encoded = await model.encode(expected.sources);
    const ids = expected.decoder.decoder_input_ids;
    const R = ids.length;
    const S = ids[0].length;
    const V = model.config.vocabSize;
    const K = 7;
    const logits = (await model.step(encoded, ids, model.emptyCache(R))).scores!;
    // Rows without a ban, with one, with two (padding the others), with the row's own best token.
    const ban = ids.map((_, r) => (r % 3 === 0 ? [] : r % 3 === 1 ? [expected.pad] : [expected.pad, 0]));
    const logSoftmax = (xs: number[]) => {
      const m = Math.max(...xs.filter((x) => x > -Infinity));
      const lse = m + Math.log(xs.reduce((acc, x) => acc + Math.exp(x - m), 0));
      return xs.map((x) => x - lse);
    };
    for (const renormalize of [true, false]) {
      const beam = await model.step(encoded, ids, model.emptyCache(R), undefined, { decode: 'beam', top: K, ban, renormalize });
      const greedy = await model.step(encoded, ids, model.emptyCache(R), undefined, { decode: 'greedy', ban });
      for (let r = 0; r < R; r++) {
        for (let t = 0; t < S; t++) {
          const row = Array.from(logits.subarray((r * S + t) * V, (r * S + t + 1) * V));
          const allowed = row.map((x, v) => (ban[r].includes(v) ? -Infinity : x));
          const reference = renormalize ? logSoftmax(allowed) : logSoftmax(row).map((x, v) => (ban[r].includes(v) ? -Infinity : x));
          const order = [...reference.keys()].sort((a, b) => reference[b] - reference[a] || a - b);
          const at = (r * S + t) * K;
          expect(Array.from(beam.topIds!.subarray(at, at + K))).toEqual(order.slice(0, K));
          expect(maxAbsDiff(beam.topLogProbs!.subarray(at, at + K), order.slice(0, K).map((i) => reference[i]))).toBeLessThan(1e-5);
          expect(greedy.topIds![r * S + t]).toBe(order[0]);
        }
      }
    }
  });

  it('the KV-cached step, one token at a time, equals the full recompute (1e-5)', async () => {
    const encoded = await model.encode(expected.sources);
    const ids = expected.decoder.decoder_input_ids;
    const S = ids[0].length;
    const V = model.config.vocabSize;
    const full = (await model.step(encoded, ids, model.emptyCache(ids.length))).scores!;
    let cache: DecoderCache = model.emptyCache(ids.length);
    const stepped = new Float32Array(full.length);
    for (let t = 0; t < S; t++) {
      const out = await model.step(encoded, ids.map((row) => [row[t]]), cache);
      cache = out.cache;
      for (let r = 0; r < ids.length; r++) stepped.set(out.scores!.subarray(r * V, (r + 1) * V), (r * S + t) * V);
    }
    expect(cache.length).toBe(S);
    expect(maxAbsDiff(stepped, full)).toBeLessThan(1e-5);
  });

  it('a reordered cache continues the rows it names (beam search reorders beams)', async () => {
    const encoded = await model.encode([expected.sources[2], expected.sources[2]]);
    const prefixes = [[expected.pad, 5, 9], [expected.pad, 17, 3]];
    const V = model.config.vocabSize;
    const first = await model.step(encoded, prefixes.map((p) => p.slice(0, 2)), model.emptyCache(2));
    // Row 0 continues cache row 1 and row 1 continues cache row 0: swapped prefixes.
    const swapped = await model.step(encoded, [[prefixes[1][2]], [prefixes[0][2]]], first.cache, [1, 0]);
    const direct = await model.step(encoded, [prefixes[1], prefixes[0]], model.emptyCache(2));
    for (let r = 0; r < 2; r++) {
      const last = direct.scores!.subarray((r * 3 + 2) * V, (r * 3 + 3) * V);
      expect(maxAbsDiff(swapped.scores!.subarray(r * V, (r + 1) * V), last)).toBeLessThan(1e-5);
    }
  });

  it('a checkpoint in the old opus-mt layout (tied copies, stored positions) gives the same logits', async () => {
    const opus = await loadFixtureModel(OPUS_DIR);
    try {
      const encoded = await opus.encode(expected.sources);
      const ids = expected.decoder.decoder_input_ids;
      const logits = (await opus.step(encoded, ids, opus.emptyCache(ids.length))).scores!;
      expect(maxAbsDiff(logits, expected.decoder.logits)).toBeLessThan(TOLERANCE);
    } finally {
      await opus.release();
    }
  });

  it("the computed sinusoidal table equals transformers' stored one (sin half, then cos half)", () => {
    const index = readWeightIndex(OPUS_DIR);
    const { config } = readMarianConfig(OPUS_DIR);
    for (const name of ['model.encoder.embed_positions.weight', 'model.decoder.embed_positions.weight']) {
      const stored = readTensorAsFloat32(index.tensors.get(name)!);
      expect(maxAbsDiff(sinusoidalPositions(0, config.maxPositions, config.dModel), stored)).toBeLessThan(1e-6);
    }
    // A window of the table starts where asked.
    const all = sinusoidalPositions(0, 10, 16);
    expect(Array.from(sinusoidalPositions(4, 3, 16))).toEqual(Array.from(all.subarray(4 * 16, 7 * 16)));
    // Odd widths: ⌈d/2⌉ sin columns then ⌊d/2⌋ cos columns (position 1: sin(1), sin(1/10000^(2/5)), …).
    const odd = sinusoidalPositions(1, 1, 5);
    expect(odd[0]).toBeCloseTo(Math.sin(1), 6);
    expect(odd[3]).toBeCloseTo(Math.cos(1), 6);
    expect(odd[1]).toBeCloseTo(Math.sin(1 / 10000 ** (2 / 5)), 6);
  });
});

// Greedy and beam-search outputs against transformers' generate() on the tiny random Marian of
// scripts/reference/make_marian_generate_fixtures.py: ten sources one by one and as one padded
// batch, under greedy, 3 and 4 beams, length_penalty 0.6/1.0/1.4, early_stopping false/true/"never",
// with and without forced EOS and renormalize_logits, and the folder's own generation_config.json
// (4 beams, pad banned, forced EOS, renormalised).
// Token ids must be identical; sequence scores within 1e-4.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMarianFixture as loadFixtureModel, MARIAN_FIXTURES as root, MARIAN_MODEL_DIR as MODEL_DIR } from '../../../../test/helpers/marian-fixture';
import { ApiError } from '../../../shared/errors';
import { readMarianConfig, type MarianGeneration } from './config';
import { firstAllowed, generate, generatedIds, LogitsProcessors } from './generate';
import type { MarianModel } from './model';


interface Case {
  name: string;
  settings:
    | { num_beams?: number; length_penalty?: number; early_stopping?: boolean | 'never'; forced_eos_token_id?: null; renormalize_logits?: boolean }
    | 'generation_config.json';
  single: { sequence: number[]; score: number | null }[];
  batch: { sequences: number[][]; scores: number[] | null };
}
const expected = JSON.parse(readFileSync(join(root, 'generate-expected.json'), 'utf8')) as { sources: number[][]; max_length: number; pad: number; generate: Case[] };

const SCORE_TOLERANCE = 1e-4;

function settingsFor(c: Case, folder: MarianGeneration): MarianGeneration {
  if (c.settings === 'generation_config.json') return folder;
  return {
    ...folder,
    maxLength: expected.max_length,
    numBeams: c.settings.num_beams ?? folder.numBeams,
    lengthPenalty: c.settings.length_penalty ?? folder.lengthPenalty,
    earlyStopping: c.settings.early_stopping ?? folder.earlyStopping,
    forcedEosTokenId: 'forced_eos_token_id' in c.settings ? null : folder.forcedEosTokenId,
    renormalizeLogits: c.settings.renormalize_logits ?? folder.renormalizeLogits,
  };
}

describe('Marian generate vs transformers generate()', () => {
  let model: MarianModel;
  const folder = readMarianConfig(MODEL_DIR).generation;
  beforeAll(async () => {
    model = await loadFixtureModel();
  });
  afterAll(async () => {
    await model?.release();
  });

  it('the fixture exercises what it claims: EOS endings and forced EOS at max_length, beams unlike greedy', () => {
    const greedy = expected.generate.find((c) => c.name === 'greedy')!;
    const lengths = greedy.single.map((r) => r.sequence.length);
    expect(lengths.some((n) => n < expected.max_length)).toBe(true);
    expect(lengths.some((n) => n === expected.max_length)).toBe(true);
    const beam = expected.generate.find((c) => c.name === 'beam4_lp1.0')!;
    expect(beam.single.map((r) => r.sequence)).not.toEqual(greedy.single.map((r) => r.sequence));
  });

  for (const c of expected.generate) {
    it(`${c.name}: each source alone gives transformers' ids and score`, async () => {
      const settings = settingsFor(c, folder);
      for (const [i, source] of expected.sources.entries()) {
        const out = await generate(model, [source], settings);
        expect(out.sequences[0], `source ${i}`).toEqual(c.single[i].sequence);
        if (c.single[i].score === null) expect(out.scores).toBeNull();
        else expect(Math.abs(out.scores![0] - c.single[i].score!), `source ${i}`).toBeLessThan(SCORE_TOLERANCE);
      }
    });

    it(`${c.name}: the padded batch of all ten gives transformers' ids and scores`, async () => {
      const out = await generate(model, expected.sources, settingsFor(c, folder));
      expect(out.sequences).toEqual(c.batch.sequences);
      if (c.batch.scores === null) expect(out.scores).toBeNull();
      else out.scores!.forEach((s, i) => expect(Math.abs(s - c.batch.scores![i]), `row ${i}`).toBeLessThan(SCORE_TOLERANCE));
    });
  }

  it('the pad token is never generated and every output starts at the decoder start token', async () => {
    for (const numBeams of [1, 4]) {
      const out = await generate(model, expected.sources, { ...folder, numBeams });
      for (const seq of out.sequences) {
        expect(seq[0]).toBe(folder.decoderStartTokenId);
        const ids = generatedIds(seq, folder);
        expect(ids).not.toContain(folder.padTokenId);
        expect(ids.length).toBeLessThanOrEqual(folder.maxLength - 1);
      }
    }
  });

  it('generatedIds drops the start token and padding and keeps the EOS', () => {
    expect(generatedIds([299, 5, 6, 0, 299, 299], folder)).toEqual([5, 6, 0]);
    expect(generatedIds([299, 5, 6, 7], folder)).toEqual([5, 6, 7]);
  });

  it('logits processors: multi-token bad words ban only after their prefix; a banned [eos] is ignored as transformers does', () => {
    const p = new LogitsProcessors({ ...folder, badWordsIds: [[7, 8], [0], [3], [5, 3]], forcedEosTokenId: null }, 10);
    expect(p.bannable).toEqual([3, 8]);
    expect(p.banned([299, 5, 7]).sort()).toEqual([3, 8]);
    expect(p.banned([299, 5, 6])).toEqual([3]);
    expect(p.banned([299, 5])).toEqual([3]); // [3] and [5, 3] ban the same token once
    expect(p.forced([299, 5, 6])).toBeNull();
    // The greedy pick: the first allowed of a row's sorted top entries.
    expect(firstAllowed([8, 3, 2, 9], p.banned([299, 7]))).toBe(2);
    expect(firstAllowed([8, 3], [8, 3])).toBe(-1);
    const forced = new LogitsProcessors(folder, 4);
    expect(forced.forced([299, 5, 6])).toBe(folder.forcedEosTokenId);
    expect(forced.forced([299, 5])).toBeNull();
  });

  it('renormalising after a ban (subtracting log(1 − p)) equals a fresh log-softmax over the allowed tokens', () => {
    const logits = Array.from({ length: 12 }, (_, i) => Math.sin(i * 1.7) * 4);
    const logSoftmax = (xs: number[]) => {
      const m = Math.max(...xs.filter((x) => x > -Infinity));
      const lse = m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
      return xs.map((x) => x - lse);
    };
    const lp = logSoftmax(logits);
    const p = new LogitsProcessors({ ...folder, badWordsIds: [[4], [9]], forcedEosTokenId: null, renormalizeLogits: true }, 10);
    const shift = p.shift([lp[4], lp[9]]);
    const reference = logSoftmax(logits.map((x, i) => (i === 4 || i === 9 ? -Infinity : x)));
    lp.forEach((v, i) => i !== 4 && i !== 9 && expect(Math.abs(v - shift - reference[i])).toBeLessThan(1e-12));
    expect(new LogitsProcessors({ ...folder, renormalizeLogits: false }, 10).shift([lp[4]])).toBe(0);
    expect(p.shift([])).toBe(0);
  });

  it('cancellation before a step is a CANCELLED error', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(generate(model, [expected.sources[0]], folder, { signal: controller.signal })).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('bad requests are refused with INVALID_ARGUMENT naming the problem', async () => {
    const V = model.config.vocabSize;
    const cases: [number[][], MarianGeneration, RegExp][] = [
      [[], folder, /batch is empty/],
      [[[]], folder, /source 0 has no tokens/],
      [[[5, V, 0]], folder, new RegExp(`source 0: token 1 is ${V}`)],
      [[[5, -1, 0]], folder, /source 0: token 1 is -1/],
      [[[5, 1.5, 0]], folder, /token 1 is 1.5/],
      [[new Array(model.config.maxPositions + 1).fill(5)], folder, /max_position_embeddings/],
      [[[5, 0]], { ...folder, maxLength: 1 }, /max_length 1/],
      [[[5, 0]], { ...folder, maxLength: model.config.maxPositions + 5 }, /max_position_embeddings/],
    ];
    for (const [sources, settings, message] of cases) {
      const error = await generate(model, sources, settings).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('INVALID_ARGUMENT');
      expect((error as ApiError).message).toMatch(message);
    }
  });
});

// Greedy and beam-search outputs against transformers' generate() on the tiny random Marian of
// scripts/reference/make_marian_generate_fixtures.py: ten sources one by one and as one padded
// batch, under greedy, 3 and 4 beams, length_penalty 0.6/1.0/1.4, early_stopping false/true/"never",
// with and without forced EOS and renormalize_logits, and the folder's own generation_config.json
// (4 beams, pad banned, forced EOS, renormalised).
// Token ids must be identical; sequence scores within 1e-4.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMarianFixture as loadFixtureModel, MARIAN_FIXTURES as root, MARIAN_MODEL_DIR as MODEL_DIR } from '../../../../test/helpers/marian-fixture';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readTensorBytes, readWeightIndex, writeSafetensors, type TensorToWrite } from '../../io/safetensors';
import { RuntimeHost } from '../../engine/runtime-host';
import { readMarianConfig, type MarianGeneration } from './config';
import { generate, generatedIds, LogitsProcessors } from './generate';
import { MarianModel } from './model';


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
const temp = tempDir('marian-generate-');
afterAll(() => temp.cleanup());

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
    expect(p.banned([299, 5, 7]).sort()).toEqual([3, 8]);
    expect(p.banned([299, 5, 6])).toEqual([3]);
    expect(p.banned([299, 5])).toEqual([3]); // [3] and [5, 3] ban the same token once
    expect(p.forced([299, 5, 6])).toBeNull();
    const forced = new LogitsProcessors(folder, 4);
    expect(forced.forced([299, 5, 6])).toBe(folder.forcedEosTokenId);
    expect(forced.forced([299, 5])).toBeNull();
  });

  it('a banned pad token holding nearly all the probability changes nothing after renormalising (final_logits_bias[pad] + 100)', async () => {
    // Renormalised after the ban, the distribution over the other tokens does not depend on pad's
    // logit, so transformers' outputs for the fixture hold for this variant too. (Subtracting
    // log(1 − p_pad) from log-probabilities instead gives −log(0) = ∞ here.)
    const dir = join(temp.dir, 'pad-heavy');
    const index = readWeightIndex(MODEL_DIR);
    const tensors: TensorToWrite[] = [...index.tensors.values()].map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: readTensorBytes(e) }));
    const bias = tensors.find((t) => t.name === 'final_logits_bias')!;
    const values = new Float32Array((bias.data as Uint8Array).slice().buffer);
    values[folder.padTokenId] += 100;
    bias.data = new Uint8Array(values.buffer);
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    for (const file of ['config.json', 'generation_config.json']) copyFileSync(join(MODEL_DIR, file), join(dir, file));
    const heavy = await loadFixtureModel(dir);
    try {
      const c = expected.generate.find((x) => x.name === 'folder_config')!;
      const out = await generate(heavy, expected.sources, folder);
      expect(out.sequences).toEqual(c.batch.sequences);
      out.scores!.forEach((score, i) => expect(Math.abs(score - c.batch.scores![i])).toBeLessThan(SCORE_TOLERANCE));
    } finally {
      await heavy.release();
    }
  });

  it('sessions in the RuntimeHost worker (built out/main/runtime-worker.js) decode the same ids as in-thread sessions', async () => {
    const host = new RuntimeHost();
    try {
      const { config } = readMarianConfig(MODEL_DIR);
      const remote = await MarianModel.open({ path: MODEL_DIR, config, weights: readWeightIndex(MODEL_DIR) }, { intraOpThreads: 1 }, (m, o) => host.load(m, o));
      try {
        const c = expected.generate.find((x) => x.name === 'folder_config')!;
        expect((await generate(remote, expected.sources, folder)).sequences).toEqual(c.batch.sequences);
      } finally {
        await remote.release();
      }
    } finally {
      await host.close();
    }
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

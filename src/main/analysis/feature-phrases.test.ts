// phrases.json against the analysis, by class of input: damaged files, entries that are not
// phrases, segments the corpus lacks, layers the run has no SAE for, features past the SAE width,
// features whose segments were all left out; and the per-feature formulas on hand-worked numbers.
import { spawnSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import { tempDir } from '../../../test/helpers/temp';
import { MAX_PHRASES_JSON_BYTES, planFeatures, readFeaturePhrases, type PlanSae } from './feature-phrases';
import { perFeatureFigures } from './per-feature';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const prov = (sourceId: string, feature: number) => ({ producer: 'linguascope', kind: 'neuronpedia', modelId: 'gemma-2-2b', sourceId, feature });
const entry = (segment: string, feature: number, sourceId = '20-gemmascope-res-16k') => ({ segment, feature, provenance: prov(sourceId, feature) });

let n = 0;
function file(content: string | Buffer): string {
  const p = join(tmp.dir, `phrases-${n++}.json`);
  writeFileSync(p, content);
  return p;
}

function error(run: () => unknown): ApiError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected an ApiError');
}

const SAES: PlanSae[] = [
  { path: '/s/layer_5/width_16k/average_l0_68/params.npz', layer: 5, hook: 'blocks.5.hook_resid_post', dSae: 16384, averageL0: 68 },
  { path: '/s/layer_20/width_16k/average_l0_71/params.npz', layer: 20, hook: 'blocks.20.hook_resid_post', dSae: 16384, averageL0: 71 },
];

describe('readFeaturePhrases', () => {
  it('reads what dataset translate writes', () => {
    const p = file(JSON.stringify([entry('f3.1', 3), entry('f3.2', 3), entry('f9.1', 9, '5-gemmascope-res-16k')], null, 1));
    expect(readFeaturePhrases(p)).toEqual([
      { segment: 'f3.1', feature: 3, modelId: 'gemma-2-2b', sourceId: '20-gemmascope-res-16k', layer: 20 },
      { segment: 'f3.2', feature: 3, modelId: 'gemma-2-2b', sourceId: '20-gemmascope-res-16k', layer: 20 },
      { segment: 'f9.1', feature: 9, modelId: 'gemma-2-2b', sourceId: '5-gemmascope-res-16k', layer: 5 },
    ]);
  });

  it('damaged files: INVALID_ARGUMENT naming the file, never its content', () => {
    const cases: [string | Buffer, RegExp][] = [
      ['[{"segment": "f3.1", "feature": 3', /is not valid JSON \((cut short|at character 33)\)/],
      ['{"secret text"}', /is not valid JSON \(at character \d+\)/],
      [Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), /is not valid UTF-8/],
      ['', /is not valid JSON/],
      ['{"segment": "f3.1"}', /is not a list/],
      ['[]', /lists no phrase/],
      [Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]), /not valid JSON|not valid UTF-8/],
    ];
    for (const [content, message] of cases) {
      const p = file(content);
      const e = error(() => readFeaturePhrases(p));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message, String(content)).toMatch(message);
      expect(e.message).toMatch(/^phrases-\d+\.json /);
      expect(e.message).not.toContain('secret');
      expect(e.details).toMatchObject({ file: p });
    }
  });

  it('entries that are not phrases: named by position and segment', () => {
    const cases: [unknown, RegExp][] = [
      ['f3.1', /entry 1 is not an object/],
      [[1, 2], /entry 1 is not an object/],
      [{ feature: 3, provenance: prov('20-x', 3) }, /entry 1: "segment" must be/],
      [{ segment: '', feature: 3, provenance: prov('20-x', 3) }, /"segment" must be/],
      [{ segment: 'x'.repeat(201), feature: 3, provenance: prov('20-x', 3) }, /"segment" must be.*a value of 201 characters/],
      [{ segment: 'f3.1', feature: -1, provenance: prov('20-x', 3) }, /'f3.1'.*"feature" must be.*got -1/],
      [{ segment: 'f3.1', feature: 2.5, provenance: prov('20-x', 3) }, /"feature" must be.*got 2.5/],
      [{ segment: 'f3.1', feature: '3', provenance: prov('20-x', 3) }, /"feature" must be/],
      [{ segment: 'f3.1', feature: 3 }, /no Neuronpedia source names the feature's layer/],
      [{ segment: 'f3.1', feature: 3, provenance: null }, /no Neuronpedia source/],
      [{ segment: 'f3.1', feature: 3, provenance: { modelId: 'gemma-2-2b', sourceId: 'gemmascope-res-16k' } }, /no Neuronpedia source/],
      [{ segment: 'f3.1', feature: 3, provenance: { sourceId: '20-gemmascope-res-16k' } }, /no Neuronpedia source/],
    ];
    for (const [value, message] of cases) {
      const e = error(() => readFeaturePhrases(file(JSON.stringify([value]))));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message, JSON.stringify(value).slice(0, 80)).toMatch(message);
      expect(e.details).toMatchObject({ entry: 1 });
    }
    const twice = error(() => readFeaturePhrases(file(JSON.stringify([entry('f3.1', 3), entry('f3.1', 4)]))));
    expect(twice.message).toMatch(/entry 2: segment 'f3.1' is listed again \(first in entry 1\)/);
  });

  it('a file over the size limit is refused unread', () => {
    const big = file('[');
    truncateSync(big, MAX_PHRASES_JSON_BYTES + 1); // sparse: nothing is written
    const e = error(() => readFeaturePhrases(big));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/over the 67108864-byte limit for a phrases file/);
  });

  it('a folder, a missing file and a FIFO are refused by name without blocking', () => {
    const dir = join(tmp.dir, 'a-folder');
    mkdirSync(dir);
    expect(error(() => readFeaturePhrases(dir)).code).toBe('INVALID_ARGUMENT');
    expect(error(() => readFeaturePhrases(join(tmp.dir, 'nope.json'))).message).toContain('nope.json');
    if (process.platform !== 'win32') {
      const fifo = join(tmp.dir, 'fifo.json');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const e = error(() => readFeaturePhrases(fifo));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/fifo\.json.*named pipe/);
    }
  });
});

describe('planFeatures', () => {
  const phrases = (list: ReturnType<typeof entry>[]) => readFeaturePhrases(file(JSON.stringify(list)));
  const corpus = new Set(['f3.1', 'f3.2', 'f3.3', 'f9.1', 'other']);

  it('groups by source and feature, at the SAE of the source layer; left-out segments counted', () => {
    const list = phrases([entry('f3.1', 3), entry('f3.2', 3), entry('f3.3', 3), entry('f9.1', 9, '5-gemmascope-res-16k')]);
    const { plans, warnings } = planFeatures('/d/phrases.json', list, corpus, ['other', 'f9.1', 'f3.3', 'f3.1'], SAES);
    expect(plans).toEqual([
      { sae: 0, layer: 5, hook: 'blocks.5.hook_resid_post', feature: 9, source: 'gemma-2-2b/5-gemmascope-res-16k', segments: [1], dropped: 0 },
      { sae: 1, layer: 20, hook: 'blocks.20.hook_resid_post', feature: 3, source: 'gemma-2-2b/20-gemmascope-res-16k', segments: [2, 3], dropped: 1 },
    ]);
    // Layer 5's canonical 16k SAE is average_l0_68 and layer 20's is 71: both are the source's.
    expect(warnings).toEqual([]);
  });

  it('warns when the SAE at that layer is not the one behind the source', () => {
    const other = [{ ...SAES[1], path: '/s/layer_20/width_16k/average_l0_38/params.npz', averageL0: 38 }];
    const { warnings } = planFeatures('/d/phrases.json', phrases([entry('f3.1', 3)]), corpus, ['f3.1'], other);
    expect(warnings.join('\n')).toMatch(/average_l0_38.*average_l0_71/);
  });

  it('a segment the corpus lacks, a layer without SAE, a feature past the width, a feature with no segment left', () => {
    const cases: [ReturnType<typeof entry>[], string[], RegExp, Record<string, unknown>][] = [
      [[entry('f3.1', 3), entry('f3.9', 3)], ['f3.1'], /lists segment 'f3.9' \(feature 3\), which the corpus does not have/, { segment: 'f3.9' }],
      [[entry('f3.1', 3, '7-gemmascope-res-16k')], ['f3.1'], /feature 3 of gemma-2-2b\/7-gemmascope-res-16k, which is layer 7; this analysis has SAEs at layers 5, 20: add the layer-7 SAE/, { layer: 7 }],
      [[entry('f3.1', 16384)], ['f3.1'], /feature 16384 of .*the layer-20 SAE \(params.npz\) has 16384 features \(0..16383\)/, { feature: 16384 }],
      [[entry('f3.1', 3), entry('f3.2', 3), entry('f9.1', 9)], ['f9.1', 'other'], /feature 3 of gemma-2-2b\/20-gemmascope-res-16k: none of its 2 segment\(s\) is left in the analysis/, { feature: 3 }],
    ];
    for (const [list, used, message, details] of cases) {
      const e = error(() => planFeatures('/d/phrases.json', phrases(list), corpus, used, SAES));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(/^phrases\.json /);
      expect(e.message).toMatch(message);
      expect(e.details).toMatchObject({ file: '/d/phrases.json', ...details });
    }
  });

  it('with several SAEs at the layer, the residual-stream (resid_post) one', () => {
    const two: PlanSae[] = [{ ...SAES[1], hook: 'blocks.20.hook_resid_pre' }, SAES[1]];
    expect(planFeatures('/d/p.json', phrases([entry('f3.1', 3)]), corpus, ['f3.1'], two).plans[0].sae).toBe(1);
  });
});

describe('perFeatureFigures', () => {
  it('m_f(L) over the feature own segments, deficit against English, gap between the tiers', () => {
    const languages = [
      { code: 'en', tier: 'reference' as const },
      { code: 'es', tier: 'high' as const },
      { code: 'it', tier: 'high' as const },
      { code: 'hi', tier: 'medium-low' as const },
    ];
    // a[L][s] for feature 7 on SAE 1; every other (segment, sae, feature) would be a wrong read.
    const a = [
      [2, 4, 99],
      [1, 3, 99],
      [2, 2, 99],
      [0, 1, 99],
    ];
    const value = (L: number, s: number, sae: number, f: number) => {
      expect([sae, f]).toEqual([1, 7]);
      return a[L][s];
    };
    const [fig] = perFeatureFigures([{ sae: 1, layer: 20, hook: 'h', feature: 7, source: 'm/20-x', segments: [0, 1], dropped: 2 }], languages, value);
    // m: en 3, es 2, it 2, hi 0.5; deficit 100 (3 - m) / 3; M_high 2, M_low 0.5, gap 100 * 1.5 / 2.
    expect(fig).toEqual({
      layer: 20,
      hook: 'h',
      feature: 7,
      source: 'm/20-x',
      segments: 2,
      segments_dropped: 2,
      mean_activation: { en: 3, es: 2, it: 2, hi: 0.5 },
      deficit_vs_en: { en: 0, es: 33.3333, it: 33.3333, hi: 83.3333 },
      gap_percent: 75,
    });
    // English 0: deficits undefined; no medium/low language: no gap.
    const none = perFeatureFigures([{ sae: 0, layer: 1, hook: 'h', feature: 0, source: 's', segments: [0], dropped: 0 }], languages.slice(0, 3), () => 0)[0];
    expect(none.deficit_vs_en).toEqual({ en: null, es: null, it: null });
    expect(none.gap_percent).toBeNull();
  });
});

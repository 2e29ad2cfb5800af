// The sweep panel's grid: the typed lists parsed (ranges, separators, what is not a layer), every
// class of grid fault sweep-service.ts refuses named here by field before anything is sent, the
// grid's own fields dropped from the shared Fine-tune settings (the backend refuses them there), and
// a good form made into a request the contract's schema accepts.
import { describe, expect, it } from 'vitest';
import { backendContract } from '../../../../shared/contract';
import { gridProblems, INITIAL_SWEEP_FORM, parseAlphas, parseLayerSets, sharedSettings, sweepRequest, type SweepContext } from './sweep-request';

const ctx: SweepContext = { model: '/m', saes: ['/s/0', '/s/1', '/s/2', '/s/3'], saeLayers: [0, 1, 2, 3], numLayers: 6, languages: ['en', 'hi'], corpus: 'udhr', limit: null, settings: {} };
const grid = (alphas: number[], sets: number[][], spaces = ['sae-codes'] as const, over: Partial<SweepContext> = {}) => gridProblems(alphas, sets, [...spaces], { ...ctx, ...over });

describe('sweep grid', () => {
  it('parses α lists by commas or spaces and names what is not a number', () => {
    expect(parseAlphas('0.5, 1 2,,')).toEqual({ value: [0.5, 1, 2] });
    expect(parseAlphas('')).toEqual({ value: [] });
    for (const bad of ['1, two', '1e999', 'NaN', '0x']) expect(parseAlphas(bad), bad).toHaveProperty('error');
  });

  it('parses layer sets split by | or ; with ranges, and names a malformed item, a backwards or overlong range', () => {
    expect(parseLayerSets('20 | 5,12 | 0-3')).toEqual({ value: [[20], [5, 12], [0, 1, 2, 3]] });
    expect(parseLayerSets('0-2;4')).toEqual({ value: [[0, 1, 2], [4]] });
    expect(parseLayerSets('1 | ')).toEqual({ value: [[1], []] });
    expect(parseLayerSets('  ')).toEqual({ value: [] });
    expect(parseLayerSets('1 | x')).toEqual({ error: '"x" in set 2 is not a layer or a range such as 0-4' });
    expect(parseLayerSets('-1')).toHaveProperty('error');
    expect(parseLayerSets('1.5')).toHaveProperty('error');
    expect(parseLayerSets('4-2')).toEqual({ error: 'the range 4-2 in set 1 runs backwards' });
    expect(parseLayerSets('0-20000')).toEqual({ error: 'the range 0-20000 in set 1 is too long' });
  });

  it.each([
    ['no α', [], [[0]], undefined, /^α values: give at least one/],
    ['a negative α', [1, -0.5], [[0]], undefined, /^α values: -0.5 outside 0..1e6/],
    ['an α too large', [2e6], [[0]], undefined, /^α values: 2000000 outside/],
    ['a duplicate α', [1, 1], [[0]], undefined, /^α values: 1 listed twice/],
    ['no layer set', [1], [], undefined, /^adapted-layer sets: give at least one/],
    ['an empty set', [1], [[0], []], undefined, /^adapted-layer sets: set 2 is empty/],
    ['a layer beyond the model', [1], [[0, 6]], undefined, /set 1 names layer 6; the model has layers 0..5/],
    ['the same set twice after sorting', [1], [[0, 1], [1, 0, 1]], undefined, /^adapted-layer sets: 0, 1 listed twice/],
    ['a set without an SAE layer', [1], [[4, 5]], undefined, /set 1 \(4, 5\) holds no SAE layer \(SAE layers: 0, 1, 2, 3\)/],
    ['a loss layer without an SAE', [1], [[0]], { settings: { lora: { lossLayers: [5] } } }, /loss layers 5 have no SAE/],
    ['a set after the deepest loss layer', [1], [[4, 5]], { settings: { lora: { lossLayers: [1] } } }, /set 1 \(4, 5\) lies after the deepest loss layer 1/],
  ] as const)('names %s', (_name, alphas, sets, over, message) => {
    const problems = grid([...alphas], sets.map((s) => [...s]), undefined, over as Partial<SweepContext> | undefined);
    expect(problems.some((p) => message.test(p)), problems.join('\n')).toBe(true);
  });

  it('names no space, too many points, and accepts a good grid; a depth it does not know is left to the backend', () => {
    expect(gridProblems([1], [[0]], [], ctx)).toEqual(['loss spaces: choose at least one']);
    const many = Array.from({ length: 201 }, (_, i) => i / 10);
    expect(grid(many, [[0]]).join()).toMatch(/the grid has 201 points \(201 α × 1 sets × 1 spaces\); at most 200/);
    expect(grid([0.5, 2], [[0, 1], [3]])).toEqual([]);
    expect(grid([1], [[0, 60]], undefined, { numLayers: null })).toEqual([]);
  });

  it("drops the grid's own fields from the Fine-tune step's settings and sets the sweep's steps", () => {
    expect(sharedSettings({ steps: 40, loss: { alpha: 2, space: 'residual', reduction: 'max' }, lora: { adaptLayers: [0, 1], rank: 4 } }, 2)).toEqual({ steps: 2, loss: { reduction: 'max' }, lora: { rank: 4 } });
    expect(sharedSettings({ loss: { alpha: 2 }, lora: { adaptLayers: [0] } }, null)).toEqual({});
  });

  it('makes a request the contract accepts, or lists every problem with its field', () => {
    const made = sweepRequest({ ...INITIAL_SWEEP_FORM, alphas: '0.5, 2', layerSets: '0-1 | 3', steps: 2, evalData: ' /data ', task: 'mc', evalLimit: 3, outDir: ' /out ' }, { ...ctx, limit: 8, settings: { loss: { alpha: 9 }, optim: { lr: 0.05 } } });
    expect(made).toEqual({
      request: { model: '/m', saes: ctx.saes, languages: ['en', 'hi'], corpus: 'udhr', limit: 8, alphas: [0.5, 2], adaptLayerSets: [[0, 1], [3]], spaces: ['sae-codes'], settings: { optim: { lr: 0.05 }, steps: 2 }, evalData: '/data', task: 'mc', evalLimit: 3, outDir: '/out' },
    });
    expect(backendContract['sweep.run'].input.safeParse((made as { request: object }).request).success).toBe(true);
    const bad = sweepRequest({ ...INITIAL_SWEEP_FORM, alphas: '1, x', layerSets: '9', task: 'arc' }, { ...ctx, model: '', saes: [], languages: ['en'] });
    expect('problems' in bad && bad.problems).toEqual([
      'choose a model in the Model step',
      'choose SAEs in the SAEs step',
      'the project needs a target language besides English (Languages or Fine-tune step)',
      'α values: "x" is not a number',
      'type the sweep folder: a new or empty folder (or a sweep of the same grid, to resume it)',
      'the task and item limit apply to the evaluation: type its data, or clear them',
    ]);
  });
});

// Record checks by class: the index as string or number (and the forms refused), missing fields,
// non-finite and absurd values, maxValueTokenIndex out of range, values that disagree with
// maxValue, a record of another model or source. Each error names the file, line and field.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../shared/errors';
import { parseActivation, parseExplanation, parseFeature, parseIndex } from './records';

const where = { file: '/x/activations/batch-0.jsonl.gz', label: 'activations/batch-0.jsonl.gz', line: 7 };
const expected = { modelId: 'gemma-2-2b', sourceId: '20-gemmascope-res-16k' };
const good = () => ({
  modelId: 'gemma-2-2b',
  layer: '20-gemmascope-res-16k',
  index: '42',
  tokens: ['<bos>', '▁The', '▁cat', '▁sat'],
  values: [0, 1.5, 9.25, 0.5],
  maxValue: 9.25,
  maxValueTokenIndex: 2,
  binMin: -1,
  id: 'abc',
});

function error(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a typed error');
}

describe('parseIndex', () => {
  it('reads the export\'s string index and a whole number', () => {
    expect(parseIndex('42', where)).toBe(42);
    expect(parseIndex('0', where)).toBe(0);
    expect(parseIndex(42, where)).toBe(42);
  });
  it.each([['042'], ['-1'], ['1e3'], ['4.2'], [' 4'], [''], [-1], [4.5], [Number.MAX_SAFE_INTEGER + 2], [null], [true], [['4']]])('refuses %j', (v) => {
    const e = error(() => parseIndex(v, where));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/activations\/batch-0\.jsonl\.gz line 7: "index"/);
    expect(e.details).toMatchObject({ line: 7, field: 'index' });
  });
});

describe('parseActivation', () => {
  it('reads a well-formed record', () => {
    const r = parseActivation(good(), where, expected);
    expect(r).toMatchObject({ index: 42, maxValue: 9.25, maxValueTokenIndex: 2, binMin: -1, id: 'abc' });
    expect(r.tokens).toHaveLength(4);
  });

  it.each(['tokens', 'values', 'maxValue', 'maxValueTokenIndex', 'index'])('names a missing "%s"', (field) => {
    const rec: Record<string, unknown> = good();
    delete rec[field];
    const e = error(() => parseActivation(rec, where, expected));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toContain(`has no "${field}"`);
  });

  it.each([
    ['values of another length', { values: [0, 1, 9.25] }, /"values" has 3 entries for 4 tokens/],
    ['a token that is not a string', { tokens: ['<bos>', 5, '▁cat', '▁sat'] }, /"tokens"\[1\] is not a string/],
    ['no tokens', { tokens: [], values: [] }, /holds 0 tokens/],
    ['a value that is not a number', { values: [0, '1.5', 9.25, 0.5] }, /"values\[1\]" must be a number/],
    ['an infinite value (1e999 parses to Infinity)', { values: JSON.parse('[0, 1e999, 9.25, 0.5]') }, /"values\[1\]" is not finite/],
    ['an absurd value', { values: [0, 1e12, 9.25, 0.5] }, /not an activation/],
    ['an absurd maxValue', { maxValue: -1e300 }, /not an activation/],
    ['maxValueTokenIndex past the tokens', { maxValueTokenIndex: 4 }, /is not a token position \(0-3\)/],
    ['a negative maxValueTokenIndex', { maxValueTokenIndex: -1 }, /is not a token position/],
    ['a fractional maxValueTokenIndex', { maxValueTokenIndex: 1.5 }, /is not a token position/],
    ['maxValue that is not the largest value', { maxValue: 5 }, /"maxValue" 5 is not the largest/],
    ['maxValueTokenIndex not at the largest value', { maxValueTokenIndex: 1 }, /"values"\[maxValueTokenIndex = 1\] is 1.5/],
    ['a record of another source', { layer: '19-gemmascope-res-16k' }, /source '19-gemmascope-res-16k', not '20-gemmascope-res-16k'/],
    ['a record of another model', { modelId: 'gemma-2-9b' }, /model 'gemma-2-9b', not 'gemma-2-2b'/],
  ])('refuses %s', (_what, change, message) => {
    const e = error(() => parseActivation({ ...good(), ...change }, where, expected));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^activations\/batch-0\.jsonl\.gz line 7: /);
  });

  it('accepts values rounded against an unrounded maxValue', () => {
    expect(parseActivation({ ...good(), maxValue: 9.2504 }, where, expected).maxValue).toBe(9.2504);
  });

  it('does not check the model when none is expected (an API file read without --model-id)', () => {
    expect(parseActivation({ ...good(), modelId: 'other' }, where, { modelId: null, sourceId: expected.sourceId }).index).toBe(42);
  });

  it('refuses a line that is not an object', () => {
    for (const v of [null, [], 'x', 3]) expect(error(() => parseActivation(v, where, expected)).message).toMatch(/is not a JSON object/);
  });
});

describe('feature and explanation rows', () => {
  it('reads maxActApprox (absent or null: none) and refuses a non-number', () => {
    expect(parseFeature({ index: '3', maxActApprox: 4.5 }, where, expected)).toEqual({ index: 3, maxActApprox: 4.5 });
    expect(parseFeature({ index: '3', maxActApprox: null }, where, expected).maxActApprox).toBeNull();
    expect(parseFeature({ index: '3' }, where, expected).maxActApprox).toBeNull();
    expect(error(() => parseFeature({ index: '3', maxActApprox: 'big' }, where, expected)).message).toMatch(/"maxActApprox" must be a number/);
  });
  it('needs a string description', () => {
    expect(parseExplanation({ index: '3', description: 'dogs' }, where, expected)).toEqual({ index: 3, description: 'dogs' });
    expect(error(() => parseExplanation({ index: '3' }, where, expected)).message).toMatch(/has no "description"/);
  });
});

// A saved /api/feature answer, by class: the fixture's answer read whole; not JSON, not an object,
// no layer, no activations, another source, a record of another feature, an oversized file, a
// folder; the index as a number (as some clients save it) read as the string would be.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readApiFeature } from './api-json';
import type { Expected } from './records';

const FIXTURE = join(__dirname, '../../../../test/fixtures/neuronpedia');
const file = join(FIXTURE, 'api-linguascope-demo-3-demo-res-512-300.json');
const expected: Expected = { modelId: null, sourceId: '3-demo-res-512' };
const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const write = (content: string) => {
  const path = join(tmp.dir, `api-${n++}.json`);
  writeFileSync(path, content);
  return path;
};
const failure = (path: string, exp = expected): ApiError => {
  try {
    readApiFeature(path, exp);
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a typed error');
};
const base = () => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { activations: Record<string, unknown>[] };

describe('readApiFeature', () => {
  it('reads the feature, its records and explanations', () => {
    const f = readApiFeature(file, expected);
    expect(f).toMatchObject({ index: 300, modelId: 'linguascope-demo', explanations: ['newlines'] });
    expect(f.records.length).toBe(base().activations.length);
  });
  it('reads a numeric index as the string one', () => {
    const v = base();
    v.index = 300;
    for (const a of v.activations) a.index = 300;
    expect(readApiFeature(write(JSON.stringify(v)), expected).index).toBe(300);
  });
  it.each([
    ['not JSON', 'CANARY-secret {', /is not JSON/],
    ['not an object', '[1,2]', /is not a JSON object/],
    ['no layer', JSON.stringify({ ...base(), layer: undefined }), /has no "layer"/],
    ['no activations', JSON.stringify({ ...base(), activations: undefined }), /has no "activations" list/],
    ['another source', JSON.stringify({ ...base(), layer: '20-gemmascope-res-16k' }), /source '20-gemmascope-res-16k', not '3-demo-res-512'/],
    ['a record of another feature', JSON.stringify({ ...base(), activations: [{ ...base().activations[0], index: '7' }] }), /activations\[0\] is of feature 7, not 300/],
    ['a record with maxValueTokenIndex out of range', JSON.stringify({ ...base(), activations: [{ ...base().activations[0], maxValueTokenIndex: 999 }] }), /"maxValueTokenIndex" 999 is not a token position/],
  ])('refuses %s, naming the file', (_what, content, message) => {
    const e = failure(write(content));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/^api-\d+\.json/);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('CANARY');
  });
  it('refuses another model when one is named, a folder, and a missing file', () => {
    expect(failure(file, { modelId: 'gemma-2-2b', sourceId: '3-demo-res-512' }).message).toMatch(/model 'linguascope-demo', not 'gemma-2-2b'/);
    const dir = join(tmp.dir, 'folder.json');
    mkdirSync(dir);
    expect(failure(dir).code).toBe('NEURONPEDIA_NOT_FOUND');
    expect(failure(join(tmp.dir, 'absent.json')).code).toBe('NEURONPEDIA_NOT_FOUND');
  });
});

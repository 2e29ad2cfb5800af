// Our PyRandom against CPython's random.Random (test/fixtures/py-random/random.json, written by
// scripts/reference/make_py_random_fixtures.py): every value equal, for seeds with one, two and
// three 32-bit words.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PyRandom } from './py-random';

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/fixtures/py-random/random.json', import.meta.url)), 'utf8')) as {
  cases: { seed: number; getrandbits32: number[]; random: number[]; shuffles: { n: number; result: number[] }[]; samples: { n: number; k: number; result: number[] }[] }[];
};

describe('PyRandom = CPython random.Random', () => {
  it.each(fixture.cases.map((c) => [c.seed, c] as const))('seed %s: getrandbits, random, shuffle and sample in sequence', (_seed, c) => {
    const r = new PyRandom(BigInt(c.seed));
    expect(c.getrandbits32.map(() => r.getrandbits(32))).toEqual(c.getrandbits32);
    expect(c.random.map(() => r.random())).toEqual(c.random);
    for (const s of c.shuffles) expect(r.shuffle(Array.from({ length: s.n }, (_, i) => i))).toEqual(s.result);
    for (const s of c.samples) expect(r.sample(Array.from({ length: s.n }, (_, i) => i), s.k)).toEqual(s.result);
  });
});

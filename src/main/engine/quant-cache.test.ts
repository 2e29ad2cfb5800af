// The quantized-weight cache: a second quantization of the same weights (same key) reads the file
// instead of the float weights and gives bit-identical int8 weights, scales and forward outputs;
// each kind of damaged, foreign or unwritable cache is not used and never changes a number.
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { buildForwardGraph, hookName, HOOK_KINDS } from '../models/forward';
import { LoadedModel, openModelFolder } from '../models/model';
import type { ExternalData } from './onnx-proto';
import { quantCacheFile } from './quant-cache';
import { quantizeGraph, type QuantizeOptions } from './quantize';
import { RuntimeHost } from './runtime-host';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/models/', import.meta.url));
const tmp = tempDir('ls-quant-cache-');
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

let copies = 0;
/** A private copy of a fixture model folder (the tests overwrite its weights). */
function modelCopy(name: string): string {
  const dir = join(tmp.dir, `${name}-${copies++}`);
  mkdirSync(dir);
  for (const f of readdirSync(join(fixtures, name))) copyFileSync(join(fixtures, name, f), join(dir, f));
  return dir;
}

/** The int8 weights and scales quantizeGraph put into the graph, by initializer name. */
function quantized(dir: string, options: Omit<QuantizeOptions, 'root'>) {
  const folder = openModelFolder(dir);
  const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => hookName(L, 'resid_post'));
  const { graph } = buildForwardGraph(folder.config, dir, folder.index, { hooks, logits: true });
  const report = quantizeGraph(graph, { ...options, root: dir });
  const bytes = new Map<string, Buffer>();
  for (const i of graph.initializers) {
    if (i.value.name.endsWith('.int8') || i.value.name.endsWith('.scale')) bytes.set(i.value.name, Buffer.from(i.data as Uint8Array));
  }
  return { report, bytes };
}

function expectSameBytes(a: Map<string, Buffer>, b: Map<string, Buffer>) {
  expect([...b.keys()]).toEqual([...a.keys()]);
  for (const [name, v] of a) expect(b.get(name)!.equals(v), name).toBe(true);
}

describe('quantized-weight cache', () => {
  it('a second load with the same key reads the cache, not the float weights: bit-identical weights and outputs', async () => {
    const dir = modelCopy('gemma2');
    const cache = { dir: join(tmp.dir, 'cache-a'), key: 'weights-v1' };
    const fresh = quantized(dir, {});
    const first = quantized(dir, { cache });
    expect(first.report.cache).toMatchObject({ status: 'written', file: quantCacheFile(cache, 8) });
    expectSameBytes(fresh.bytes, first.bytes);
    const second = quantized(dir, { cache });
    expect(second.report.cache).toMatchObject({ status: 'hit' });
    expect(second.report.replaced).toEqual(first.report.replaced);
    expectSameBytes(fresh.bytes, second.bytes);

    // The forward through onnxruntime: cached and fresh sessions give the same bits.
    const folder = openModelFolder(dir);
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => HOOK_KINDS.map((k) => hookName(L, k))).flat();
    const phrases = [[2, 5, 9, 17, 33, 60, 100], [2, 4, 6]];
    const a = await LoadedModel.load(folder, runtime, { hooks, logits: true }, undefined, undefined, undefined, {});
    const b = await LoadedModel.load(folder, runtime, { hooks, logits: true }, undefined, undefined, undefined, { cache });
    try {
      const ra = await a.run(phrases);
      const rb = await b.run(phrases);
      for (const out of [...hooks, 'logits']) expect(Buffer.from(rb.outputs[out].data.buffer).equals(Buffer.from(ra.outputs[out].data.buffer)), out).toBe(true);
    } finally {
      await a.release();
      await b.release();
    }

    // Proof that a hit never reads the float weights: zero them in place (same key, a caller's
    // mistake) and the hit still returns the first weights. This is why the key must fingerprint
    // the weights' content.
    const file = join(dir, 'model.safetensors');
    const size = statSync(file).size;
    const header = readFileSync(file).subarray(0, 8 + Number(readFileSync(file).readBigUInt64LE(0)));
    writeFileSync(file, Buffer.concat([header, Buffer.alloc(size - header.length)]));
    expectSameBytes(fresh.bytes, quantized(dir, { cache }).bytes);
    // Another key (the weights' new fingerprint) quantizes what is there now.
    const zeroed = quantized(dir, { cache: { ...cache, key: 'weights-v2' } });
    expect(zeroed.report.cache).toMatchObject({ status: 'written' });
    expect([...zeroed.bytes].filter(([n]) => n.endsWith('.int8')).every(([, v]) => v.every((x) => x === 0))).toBe(true);
  }, 60_000);

  it('into an external-data file (sinkFile) a hit gives the same bytes as a fresh run', () => {
    const dir = modelCopy('llama');
    const cache = { dir: join(tmp.dir, 'cache-sink'), key: 'llama' };
    const read = (sink: string) => {
      const folder = openModelFolder(dir);
      const { graph } = buildForwardGraph(folder.config, dir, folder.index, { hooks: [hookName(0, 'resid_post')], logits: true });
      const report = quantizeGraph(graph, { root: dir, sinkFile: join(dir, sink), cache });
      const data = readFileSync(join(dir, sink));
      const parts = graph.initializers.filter((i) => /\.(int8|scale)$/.test(i.value.name)).map((i) => data.subarray((i.data as ExternalData).offset, (i.data as ExternalData).offset + (i.data as ExternalData).length));
      return { report, all: Buffer.concat(parts) };
    };
    const first = read('q1.bin');
    const second = read('q2.bin');
    expect([first.report.cache?.status, second.report.cache?.status]).toEqual(['written', 'hit']);
    expect(second.all.equals(first.all)).toBe(true);
  });

  // Each damage is caught by the trailer, the size or the data checksum; the run requantizes (same
  // bits as a fresh run) and rewrites the file, which the next run then uses.
  it.each([
    ['a flipped data byte', (f: string) => {
      const b = readFileSync(f);
      b[100] ^= 0x01;
      writeFileSync(f, b);
    }],
    ['a truncated file', (f: string) => truncateSync(f, statSync(f).size - 40)],
    ['a file cut to its first bytes', (f: string) => truncateSync(f, 5)],
    ['an empty file', (f: string) => writeFileSync(f, '')],
    ['another file renamed into its place', (f: string) => writeFileSync(f, Buffer.concat([Buffer.alloc(64), Buffer.from('{"key":"x"}'), Buffer.from([11, 0, 0, 0]), Buffer.from('LSQUANT1')]))],
    ['a footer claiming more bytes than the file has', (f: string) => {
      const b = readFileSync(f);
      b.writeUInt32LE(0xffffff00, b.length - 12);
      writeFileSync(f, b);
    }],
  ])('%s: not used, requantized bit-identically, rewritten', (_what, damage) => {
    const dir = modelCopy('gemma2');
    const cache = { dir: join(tmp.dir, `cache-damage-${copies++}`), key: 'k' };
    const fresh = quantized(dir, { cache });
    damage(quantCacheFile(cache, 8));
    const again = quantized(dir, { cache });
    expect(again.report.cache?.status).toBe('written');
    expectSameBytes(fresh.bytes, again.bytes);
    expect(quantized(dir, { cache }).report.cache?.status).toBe('hit');
  });

  it('other settings never share a file: the bits are part of its name and checked in its footer', () => {
    const dir = modelCopy('gemma2');
    const cache = { dir: join(tmp.dir, 'cache-bits'), key: 'k' };
    const eight = quantized(dir, { cache });
    const four = quantized(dir, { cache, bits: 4 });
    expect(four.report.cache?.status).toBe('written');
    expect(quantCacheFile(cache, 4)).not.toBe(quantCacheFile(cache, 8));
    // A 4-bit file copied under the 8-bit name is refused by its footer.
    copyFileSync(quantCacheFile(cache, 4), quantCacheFile(cache, 8));
    const again = quantized(dir, { cache });
    expect(again.report.cache?.status).toBe('written');
    expectSameBytes(eight.bytes, again.bytes);
  });

  it('a graph needing a weight the file lacks quantizes afresh and rewrites the file', () => {
    const dir = modelCopy('gemma2');
    const cache = { dir: join(tmp.dir, 'cache-partial'), key: 'k' };
    const folder = openModelFolder(dir);
    const { graph } = buildForwardGraph(folder.config, dir, folder.index, { hooks: [hookName(0, 'resid_post')], logits: false });
    expect(quantizeGraph(graph, { root: dir, cache }).cache?.status).toBe('written'); // layer 0 only
    const all = quantized(dir, { cache });
    expect(all.report.cache?.status).toBe('written');
    expectSameBytes(quantized(dir, {}).bytes, all.bytes);
  });

  it.skipIf(process.getuid?.() === 0)('an unwritable cache folder costs the cache, not the run', () => {
    const dir = modelCopy('gemma2');
    const locked = join(tmp.dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const r = quantized(dir, { cache: { dir: join(locked, 'cache'), key: 'k' } });
    expect(r.report.cache?.status).toBe('not written');
    expectSameBytes(quantized(dir, {}).bytes, r.bytes);
  });

  it('a cache path that is a file, not a folder, costs the cache, not the run', () => {
    const dir = modelCopy('gemma2');
    const notADir = join(tmp.dir, 'plain-file');
    writeFileSync(notADir, 'x');
    const r = quantized(dir, { cache: { dir: notADir, key: 'k' } });
    expect(r.report.cache).toMatchObject({ status: 'not written', detail: expect.stringMatching(/EEXIST|ENOTDIR/) });
    expectSameBytes(quantized(dir, {}).bytes, r.bytes);
  });
});

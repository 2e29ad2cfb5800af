// The export layout on the fixture (scripts/reference/make_neuronpedia_fixtures.py): the source found
// from any folder a user may name, text-ordered feature batches read by probing (only the batches
// that hold the wanted indices), activation batches by number with each record's index checked, the
// explanation search as plain text, a missing batch, a misplaced or foreign file, and the whole
// export reached through symbolic links as in a Hugging Face cache.
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readActivationRecords, readFeatureRows, searchExplanations } from './export-reader';
import { locateSource } from './layout';

const FIXTURE = join(__dirname, '../../../../test/fixtures/neuronpedia');
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as {
  sources: { modelId: string; sourceId: string; features: number[]; maxActApprox: Record<string, number>; records: Record<string, number> }[];
};
const gemma = expected.sources[0];
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected a typed error');
}

/** A writable copy of the fixture export. */
function copy(name: string): string {
  const dir = join(tmp.dir, name);
  cpSync(join(FIXTURE, 'v1'), join(dir, 'v1'), { recursive: true });
  return dir;
}

describe('locateSource', () => {
  it('finds the source from the folder holding v1, v1, the model folder or the source folder', () => {
    for (const root of [FIXTURE, join(FIXTURE, 'v1'), join(FIXTURE, 'v1/gemma-2-2b'), join(FIXTURE, 'v1/gemma-2-2b/20-gemmascope-res-16k')]) {
      const s = locateSource(root, '20-gemmascope-res-16k');
      expect([s.modelId, s.sourceId]).toEqual(['gemma-2-2b', '20-gemmascope-res-16k']);
      expect(s.meta?.hfFolderId).toBe('layer_20/width_16k/average_l0_71');
    }
  });
  it('names the sources it holds when the one asked for is not there', () => {
    const e = (() => {
      try {
        locateSource(FIXTURE, '19-gemmascope-res-16k');
      } catch (error) {
        return error as ApiError;
      }
      throw new Error('expected an error');
    })();
    expect(e.code).toBe('NEURONPEDIA_NOT_FOUND');
    expect(e.message).toContain('gemma-2-2b/20-gemmascope-res-16k');
    expect(() => locateSource(FIXTURE, '20-gemmascope-res-16k', 'gemma-2-9b')).toThrow(/has no source/);
    expect(() => locateSource(join(tmp.dir, 'absent'), '20-gemmascope-res-16k')).toThrow(/does not exist/);
  });
});

describe('reading the export', () => {
  const source = () => locateSource(FIXTURE, gemma.sourceId);

  it("reads maxActApprox from the text-ordered feature batch that holds each index, and only that batch", async () => {
    // Text order as the export's ORDER BY index: "0" "1" "10" "100" "1000" … so 1030 sits in batch 0.
    const text = Array.from({ length: 2100 }, (_, i) => String(i)).sort();
    const batchOf = (i: number) => `features/batch-${Math.floor(text.indexOf(String(i)) / 1024)}.jsonl.gz`;
    for (const f of gemma.features) {
      const { rows, batchesRead } = await readFeatureRows(source(), [f]);
      expect(rows.get(f)?.maxActApprox).toBe(gemma.maxActApprox[String(f)]);
      expect(batchesRead).toEqual([batchOf(f)]);
    }
    expect(batchOf(1030)).toBe('features/batch-0.jsonl.gz');
    const all = await readFeatureRows(source(), gemma.features);
    expect([...all.rows.keys()].sort((a, b) => a - b)).toEqual(gemma.features);
  });

  it('refuses a feature no batch holds', async () => {
    const e = await rejection(readFeatureRows(source(), [5, 99_999]));
    expect(e.code).toBe('NEURONPEDIA_NOT_FOUND');
    expect(e.message).toMatch(/feature 99999 is not in features\//);
  });

  it('reads the activation records of the chosen features from their numeric batches', async () => {
    const seen: string[] = [];
    const records = await readActivationRecords(source(), gemma.features, { onBatch: (l) => seen.push(l) });
    for (const f of gemma.features) expect(records.get(f)).toHaveLength(gemma.records[String(f)]);
    expect(seen).toEqual(['activations/batch-0.jsonl.gz', 'activations/batch-1.jsonl.gz', 'activations/batch-2.jsonl.gz']);
    const only = await readActivationRecords(source(), [1030]);
    expect(only.get(1030)?.[0].where.label).toBe('activations/batch-1.jsonl.gz');
  });

  it('names a missing activation batch, and reads other batches without it', async () => {
    const dir = copy('missing-batch');
    rmSync(join(dir, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations/batch-2.jsonl.gz'));
    const s = locateSource(dir, gemma.sourceId);
    const e = await rejection(readActivationRecords(s, [5, 2050]));
    expect(e.code).toBe('NEURONPEDIA_NOT_FOUND');
    expect(e.message).toMatch(/activations\/batch-2\.jsonl\.gz is missing \(it holds the records of features 2048-3071\)/);
    expect((await readActivationRecords(s, [5])).get(5)).toHaveLength(gemma.records['5']);
  });

  it("refuses a batch holding another batch's feature (misplaced) and a file of another source", async () => {
    const dir = copy('misplaced');
    const base = join(dir, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations');
    copyFileSync(join(base, 'batch-0.jsonl.gz'), join(base, 'batch-1.jsonl.gz'));
    const e = await rejection(readActivationRecords(locateSource(dir, gemma.sourceId), [1030]));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/activations\/batch-1\.jsonl\.gz line 1: holds feature 5, but activation batch 1 holds features 1024-2047/);

    const foreign = copy('foreign');
    copyFileSync(join(FIXTURE, 'v1/linguascope-demo/3-demo-res-512/activations/batch-0.jsonl.gz'), join(foreign, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations/batch-0.jsonl.gz'));
    const f = await rejection(readActivationRecords(locateSource(foreign, gemma.sourceId), [7]));
    expect(f.code).toBe('NEURONPEDIA_INVALID');
    expect(f.message).toMatch(/a record of source '3-demo-res-512', not '20-gemmascope-res-16k'/);
  });

  it('verifies the index of every line, also of features not asked for', async () => {
    const dir = copy('number-index');
    const file = join(dir, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations/batch-0.jsonl.gz');
    writeFileSync(file, gzipSync(Buffer.from('{"index": "0042x", "tokens": []}\n')));
    const e = await rejection(readActivationRecords(locateSource(dir, gemma.sourceId), [5]));
    expect(e.message).toMatch(/line 1: "index" must be a feature number written as a decimal string/);
  });

  it('searches explanations as plain, case-insensitive text (pattern characters are characters)', async () => {
    const s = source();
    expect([...(await searchExplanations(s, 'C++ (AND) .*')).keys()]).toEqual([1030]);
    expect([...(await searchExplanations(s, '(')).keys()]).toEqual([1030]);
    expect([...(await searchExplanations(s, 'CAFÉ')).keys()]).toEqual([1500]);
    expect(await searchExplanations(s, 'france')).toEqual(new Map([[42, ['mentions of France']]]));
    expect((await searchExplanations(s, '.*')).size).toBe(1);
    expect((await searchExplanations(s, 'zebra')).size).toBe(0);
  });

  it('reads an export reached through symbolic links, as in a Hugging Face cache (files → ../blobs)', async () => {
    const cache = join(tmp.dir, 'hub/datasets--np');
    const blobs = join(cache, 'blobs');
    const snapshot = join(cache, 'snapshots/0123abc');
    mkdirSync(blobs, { recursive: true });
    const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
    for (const file of walk(join(FIXTURE, 'v1'))) {
      const bytes = readFileSync(file);
      const blob = join(blobs, createHash('sha256').update(bytes).digest('hex'));
      writeFileSync(blob, bytes);
      const link = join(snapshot, relative(FIXTURE, file));
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(relative(join(link, '..'), blob), link);
    }
    // The folder the user names is itself a link to the snapshot.
    const named = join(tmp.dir, 'np-export');
    symlinkSync(snapshot, named);
    const s = locateSource(named, gemma.sourceId);
    const records = await readActivationRecords(s, gemma.features);
    for (const f of gemma.features) expect(records.get(f)).toHaveLength(gemma.records[String(f)]);
    expect((await readFeatureRows(s, [2050])).rows.get(2050)?.maxActApprox).toBe(gemma.maxActApprox['2050']);
  });
});

describe('a file of another source', () => {
  it('is refused on its first line, even when it holds none of the features asked for', async () => {
    const dir = copy('other-source-unrelated');
    copyFileSync(join(FIXTURE, 'v1/linguascope-demo/3-demo-res-512/features/batch-0.jsonl.gz'), join(dir, 'v1/gemma-2-2b/20-gemmascope-res-16k/features/batch-1.jsonl.gz'));
    copyFileSync(join(FIXTURE, 'v1/linguascope-demo/3-demo-res-512/activations/batch-0.jsonl.gz'), join(dir, 'v1/gemma-2-2b/20-gemmascope-res-16k/activations/batch-2.jsonl.gz'));
    const s = locateSource(dir, gemma.sourceId);
    const a = await rejection(readActivationRecords(s, [2050]));
    expect(a.message).toMatch(/activations\/batch-2\.jsonl\.gz line 1: is a record of source '3-demo-res-512'/);
    const f = await rejection(readFeatureRows(s, [5]));
    expect(f.message).toMatch(/features\/batch-1\.jsonl\.gz line 1: is a record of source '3-demo-res-512'/);
  });
});

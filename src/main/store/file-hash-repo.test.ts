// Whole-file content hashes, remembered per file identity: equal to sha256 of the bytes, read once
// per file version, and new when a file is rewritten in place with the same size.
import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { openDatabase } from './db';
import { FileHashRepo } from './file-hash-repo';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('FileHashRepo', () => {
  it('hashes whole files once per version', async () => {
    const db = openDatabase(join(tmp.dir, 'hashes.db'));
    const repo = new FileHashRepo(db);
    const a = join(tmp.dir, 'a.bin');
    const b = join(tmp.dir, 'b.bin');
    writeFileSync(a, Buffer.alloc(20 << 20, 7)); // over two read chunks
    writeFileSync(b, 'weights');
    const seen: [number, number][] = [];
    expect(await repo.hashes([a, b], (done, total) => seen.push([done, total]))).toEqual([sha(a), sha(b)]);
    expect(seen.at(-1)).toEqual([(20 << 20) + 7, (20 << 20) + 7]);
    // Remembered: nothing is read again.
    seen.length = 0;
    expect(await repo.hashes([a, b], (done, total) => seen.push([done, total]))).toEqual([sha(a), sha(b)]);
    expect(seen).toEqual([]);
    // Rewritten in place with the same size and the same modification time put back (cp -p,
    // touch -r): the status-change time still differs, so it is hashed again.
    utimesSync(b, 1_000_000_000, 1_000_000_000);
    expect(await repo.hashes([b])).toEqual([sha(b)]);
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(b, 'WEIGHTS');
    utimesSync(b, 1_000_000_000, 1_000_000_000);
    expect(statSync(b).mtimeMs).toBe(1e12);
    const [, again] = await repo.hashes([a, b]);
    expect(again).toBe(sha(b));
    expect(again).not.toBe(createHash('sha256').update('weights').digest('hex'));
  });

  it('names a missing file; a cancelled job stops hashing', async () => {
    const repo = new FileHashRepo(openDatabase(join(tmp.dir, 'hashes2.db')));
    await expect(repo.hashes([join(tmp.dir, 'nope.bin')])).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND', message: expect.stringContaining('nope.bin') });
    const big = join(tmp.dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(64 << 20));
    const abort = new AbortController();
    abort.abort();
    await expect(repo.hashes([big], undefined, abort.signal)).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

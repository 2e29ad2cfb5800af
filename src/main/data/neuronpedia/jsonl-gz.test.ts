// The export-file reader on hostile files, by class: not gzip, cut short, damaged, a line that is
// not JSON (or carries Python's bare NaN), not UTF-8, a line past the length limit (refused before
// it is assembled), a FIFO, a symbolic link (followed), a plain .jsonl, and many records streamed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { ApiError } from '../../../shared/errors';
import { readJsonLines } from './jsonl-gz';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function all(file: string, maxLineBytes?: number) {
  const out: { line: number; value: unknown }[] = [];
  for await (const l of readJsonLines(file, { maxLineBytes, label: 'activations/batch-0.jsonl.gz' })) out.push(l);
  return out;
}

async function failure(file: string, maxLineBytes?: number): Promise<ApiError> {
  try {
    await all(file, maxLineBytes);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected a typed error');
}

const CANARY = 'CANARY-7f3a-secret-content';
let n = 0;
function file(name: string, bytes: Buffer | string): string {
  const dir = join(tmp.dir, `f${n++}`);
  mkdirSync(dir);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}
const gz = (text: string) => gzipSync(Buffer.from(text));

describe('readJsonLines', () => {
  it('reads each line of a gzip JSONL file, skipping blank lines, with 1-based line numbers', async () => {
    const lines = await all(file('batch-0.jsonl.gz', gz('{"index":"1"}\n\n{"index":"2"}\n{"index":"3"}')));
    expect(lines).toEqual([
      { line: 1, value: { index: '1' } },
      { line: 3, value: { index: '2' } },
      { line: 4, value: { index: '3' } },
    ]);
  });

  it('reads a plain .jsonl (a batch the export left uncompressed)', async () => {
    expect(await all(file('batch-0.jsonl', '{"a":1}\n'))).toEqual([{ line: 1, value: { a: 1 } }]);
  });

  it('refuses a .gz that is not gzip, naming the file, without quoting it', async () => {
    const e = await failure(file('batch-0.jsonl.gz', `{"tokens":["${CANARY}"]}\n`));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/activations\/batch-0\.jsonl\.gz: is not gzip data/);
    expect(e.message).not.toContain(CANARY.slice(0, 9));
  });

  it('refuses gzip cut short, after the lines it could read', async () => {
    const whole = gz(Array.from({ length: 200 }, (_, i) => JSON.stringify({ index: String(i), pad: 'x'.repeat(50 + (i % 13)) })).join('\n'));
    for (const keep of [whole.length - 4, Math.floor(whole.length / 2), 12]) {
      const e = await failure(file('batch-0.jsonl.gz', whole.subarray(0, keep)));
      expect(e.code).toBe('NEURONPEDIA_INVALID');
      expect(e.message).toMatch(/cut short|damaged/);
    }
  });

  it('refuses damaged gzip (bytes changed inside the stream)', async () => {
    const whole = Buffer.from(gz(Array.from({ length: 300 }, (_, i) => `{"index":"${i}","v":[${i},${i * 2}]}`).join('\n')));
    for (let i = 20; i < 60; i++) whole[i] ^= 0xa5;
    const e = await failure(file('batch-0.jsonl.gz', whole));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
  });

  it('names the file and line of a line that is not JSON, and never its content', async () => {
    const e = await failure(file('batch-0.jsonl.gz', gz(`{"index":"1"}\n{"index":"2", ${CANARY}\n`)));
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/batch-0\.jsonl\.gz: line 2 is not JSON/);
    expect(e.details).toMatchObject({ line: 2 });
    expect(e.message).not.toContain(CANARY.slice(0, 9));
  });

  it("says NaN when a line carries Python's bare NaN or Infinity", async () => {
    for (const bad of ['{"values":[1.0, NaN, 2.0]}', '{"maxValue": Infinity}', '{"minValue": -Infinity}']) {
      const e = await failure(file('batch-0.jsonl.gz', gz(`{"ok":1}\n${bad}\n`)));
      expect(e.message).toMatch(/line 2 holds NaN or Infinity/);
    }
  });

  it('refuses a line that is not UTF-8', async () => {
    const e = await failure(file('batch-0.jsonl.gz', gzipSync(Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]))));
    expect(e.message).toMatch(/line 1 is not UTF-8/);
  });

  it('refuses a line past the limit before assembling it, in one chunk or across many', async () => {
    const limit = 4096;
    // A single huge line with no newline at all (a hostile "line" of 8 MB of zeros compresses to KB).
    const e1 = await failure(file('batch-0.jsonl.gz', gzipSync(Buffer.alloc(8 * 2 ** 20, 0x30))), limit);
    expect(e1.code).toBe('NEURONPEDIA_INVALID');
    expect(e1.message).toMatch(/line 1 is longer than 4096 bytes/);
    // A long line after good ones.
    const e2 = await failure(file('batch-0.jsonl.gz', gz(`{"a":1}\n{"b":"${'y'.repeat(10_000)}"}\n`)), limit);
    expect(e2.message).toMatch(/line 2 is longer than 4096 bytes/);
    // At the limit is fine.
    const ok = `{"c":"${'z'.repeat(limit - 8)}"}`;
    expect(ok.length).toBe(limit);
    expect(await all(file('batch-0.jsonl.gz', gz(`${ok}\n`)), limit)).toHaveLength(1);
  });

  it('streams thousands of records (no whole-file read)', async () => {
    const count = 20_000;
    const text = Array.from({ length: count }, (_, i) => JSON.stringify({ index: String(i % 1024), tokens: ['▁a', '▁b'], values: [0, i % 7] })).join('\n');
    const path = file('batch-0.jsonl.gz', gz(text));
    let seen = 0;
    let last = 0;
    for await (const { line, value } of readJsonLines(path)) {
      seen++;
      last = line;
      expect((value as { values: number[] }).values[1]).toBe((line - 1) % 7);
    }
    expect([seen, last]).toEqual([count, count]);
  });

  it('stops early without reading on (break closes the file)', async () => {
    const path = file('batch-0.jsonl.gz', gz(Array.from({ length: 5000 }, (_, i) => `{"i":${i}}`).join('\n')));
    for await (const { line } of readJsonLines(path)) if (line === 3) break;
    // Reading again works (the descriptor was released).
    expect((await all(path)).length).toBe(5000);
  });

  it('follows a symbolic link (a Hugging Face-style cache entry) and refuses a FIFO and a folder', async () => {
    const blob = file('blob', gz('{"index":"7"}\n'));
    const linked = join(tmp.dir, 'linked.jsonl.gz');
    symlinkSync(blob, linked);
    expect(await all(linked)).toEqual([{ line: 1, value: { index: '7' } }]);
    const fifo = join(tmp.dir, 'fifo.jsonl.gz');
    execFileSync('mkfifo', [fifo]);
    const e = await failure(fifo);
    expect(e.code).toBe('NEURONPEDIA_INVALID');
    expect(e.message).toMatch(/named pipe/);
    const folder = join(tmp.dir, 'folder.jsonl.gz');
    mkdirSync(folder);
    expect((await failure(folder)).code).toBe('NEURONPEDIA_NOT_FOUND');
    expect((await failure(join(tmp.dir, 'absent.jsonl.gz'))).code).toBe('NEURONPEDIA_NOT_FOUND');
  });
  it('stops with CANCELLED when the job is cancelled mid-file', async () => {
    const path = file('batch-0.jsonl.gz', gz(Array.from({ length: 50_000 }, (_, i) => `{"i":${i},"pad":"${'p'.repeat(40)}"}`).join('\n')));
    const controller = new AbortController();
    let seen = 0;
    const run = (async () => {
      for await (const _ of readJsonLines(path, { signal: controller.signal })) if (++seen === 10) controller.abort();
    })();
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(seen).toBeLessThan(50_000);
  });
});

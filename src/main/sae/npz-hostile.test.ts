// Hostile params.npz files, one row per class: zip bombs (with an honest and with a lying central
// directory), sizes deflate cannot produce, a .npy header promising terabytes, a central directory
// past the end of the file, a truncated archive, a stored entry longer than the file, a file that
// is not a zip, headers whose text must not be echoed, a symbolic link loop, a FIFO and a device.
// Each must end in a typed error naming the file, on one line, without any of the file's content,
// and the bombs within 200 MB of memory growth (the old reader inflated 512 MB to 2.2 GB first).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { buildZip, deflatedEntry, deflatedZerosEntry, npyBytes, storedEntry, type ZipEntry } from '../../../test/helpers/zip';
import { ApiError } from '../../shared/errors';
import { loadSae } from './sae';

const tmp = tempDir('npz-hostile-');
afterAll(() => tmp.cleanup());

/** Planted in every hostile file: no error message may contain it. */
const CANARY = 'LEAK-CANARY-npz-7f3a'; // V8's JSON errors quote ~10 characters: even a prefix must not leak
const D_IN = 8;
const D_SAE = 16;
const MB = 2 ** 20;

function f32(n: number, seed: number): Uint8Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 7.1 + i * 0.37);
  return new Uint8Array(a.buffer);
}

/** The five arrays of a Gemma Scope SAE (d_in 8, width 16) as .npy bytes. */
function arrays(): Record<string, Uint8Array> {
  return {
    W_enc: npyBytes('<f4', [D_IN, D_SAE], f32(D_IN * D_SAE, 1)),
    W_dec: npyBytes('<f4', [D_SAE, D_IN], f32(D_SAE * D_IN, 2)),
    b_enc: npyBytes('<f4', [D_SAE], f32(D_SAE, 3)),
    b_dec: npyBytes('<f4', [D_IN], f32(D_IN, 4)),
    threshold: npyBytes('<f4', [D_SAE], f32(D_SAE, 5)),
  };
}

/** A params.npz at a Gemma Scope path in its own folder; `replace` swaps entries. */
function npzAt(name: string, entries: (all: Record<string, Uint8Array>) => ZipEntry[]): string {
  const dir = join(tmp.dir, name, 'layer_1', 'width_16', 'average_l0_5');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'params.npz');
  writeFileSync(file, buildZip(entries(arrays())));
  return file;
}

const storedAll = (all: Record<string, Uint8Array>, skip: string[] = []) => Object.entries(all).filter(([n]) => !skip.includes(n)).map(([n, b]) => storedEntry(`${n}.npy`, b));

async function failure(file: string): Promise<ApiError> {
  try {
    await loadSae(file);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error(`${file} loaded`);
}

/** Runs `fn`, sampling resident memory; the largest growth seen (bytes). */
async function peakGrowth(fn: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage().rss;
  const maxBefore = process.resourceUsage().maxRSS * 1024;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 1);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  const maxAfter = process.resourceUsage().maxRSS * 1024;
  return Math.max(peak - before, maxAfter - maxBefore);
}

function expectTyped(error: ApiError, code: string, pattern: RegExp) {
  expect(error).toBeInstanceOf(ApiError);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(/params\.npz/);
  expect(error.message).toMatch(pattern);
  expect(error.message).not.toContain(CANARY.slice(0, 9));
  expect(error.message.split('\n')).toHaveLength(1);
}

describe('zip bombs are refused within bounded memory', () => {
  // Header: a 16-float threshold (64 data bytes) with the canary in its dict; then 512 MB of zeros.
  const head = npyBytes('<f4', [D_SAE], new Uint8Array(0), `{'descr': '<f4', 'fortran_order': False, 'shape': (16,), 'note': '${CANARY}', }`);
  const BOMB = 512 * MB;

  it.each([
    ['central directory honest (512 MB): refused from the .npy header, before inflating', false, /threshold.*header promises 64 data bytes, the archive says the entry holds 536870912/],
    ['central directory lying (64 bytes): the inflate stops at the promised size', true, /threshold.*(inflates past|cannot be inflated)/],
  ])('%s', async (_, lie, pattern) => {
    const bomb = await deflatedZerosEntry('threshold.npy', head, BOMB);
    expect(bomb.stored.length).toBeLessThan(MB); // about 0.5 MB on disk
    if (lie) {
      bomb.claimUncompressed = head.length + 64;
    }
    const file = npzAt(lie ? 'bomb-lying' : 'bomb-honest', (all) => [...storedAll(all, ['threshold']), bomb]);
    let error: ApiError | undefined;
    const growth = await peakGrowth(async () => {
      error = await failure(file);
    });
    expect(growth, `resident memory grew ${Math.round(growth / MB)} MB`).toBeLessThan(200 * MB);
    expectTyped(error!, 'WEIGHTS_INVALID', pattern);
  }, 60_000);
});

describe('hostile params.npz files end in a typed error naming the file, never its content', () => {
  const cases: [string, () => string | Promise<string>, string, RegExp][] = [
    ['sizes deflate cannot produce (1 GB from a few hundred bytes)', () => npzAt('ratio', (all) => {
      const e = deflatedEntry('b_enc.npy', all.b_enc);
      e.claimUncompressed = 2 ** 30;
      return [...storedAll(all, ['b_enc']), e];
    }), 'WEIGHTS_INVALID', /b_enc.*beyond what deflate can produce/],
    ['a .npy header promising 4 TB', () => npzAt('terabytes', (all) => [...storedAll(all, ['W_enc']), deflatedEntry('W_enc.npy', npyBytes('<f4', [10 ** 12], new Uint8Array(64)))]), 'WEIGHTS_INVALID', /W_enc.*header promises 4000000000000 data bytes/],
    ['a central directory that runs past the end of the file', () => {
      const file = npzAt('overrun', (all) => storedAll(all));
      const bytes = buildZip(storedAll(arrays()), { centralDirectoryOffset: 10 ** 6 });
      writeFileSync(file, bytes);
      return file;
    }, 'WEIGHTS_INVALID', /central directory is damaged or runs past the end|not a readable zip/],
    ['a central directory longer than the file', () => {
      const file = npzAt('cd-size', (all) => storedAll(all));
      writeFileSync(file, buildZip(storedAll(arrays()), { centralDirectorySize: 10 ** 6 }));
      return file;
    }, 'WEIGHTS_INVALID', /central directory is damaged or runs past the end|not a readable zip/],
    ['a local header placed past the end of the file', () => npzAt('local-offset', (all) => {
      const e = storedEntry('W_enc.npy', all.W_enc);
      e.claimOffset = 10 ** 6;
      return [...storedAll(all, ['W_enc']), e];
    }), 'WEIGHTS_INVALID', /W_enc.*local header is damaged or lies past the end of the file/],
    ['a deflated entry whose local header lies past the end of the file', () => npzAt('local-offset-deflated', (all) => {
      const e = deflatedEntry('b_enc.npy', all.b_enc);
      e.claimOffset = 10 ** 6;
      return [...storedAll(all, ['b_enc']), e];
    }), 'WEIGHTS_INVALID', /b_enc.*cannot be read \(damaged local header\)|b_enc.*cannot be inflated/],
    ['a central directory listing more entries than it holds', () => {
      const file = npzAt('count', (all) => storedAll(all));
      writeFileSync(file, buildZip(storedAll(arrays()), { entryCount: 60000 }));
      return file;
    }, 'WEIGHTS_INVALID', /not a readable zip|more than the 4096/],
    ['an archive cut in half (no end-of-archive record)', () => {
      const file = npzAt('truncated', (all) => storedAll(all));
      truncateSync(file, 700);
      return file;
    }, 'WEIGHTS_INVALID', /not a readable zip \(\.npz\) archive/],
    ['a stored entry whose sizes run past the end of the file', () => npzAt('stored-long', (all) => {
      const e = storedEntry('W_dec.npy', all.W_dec);
      e.claimUncompressed = e.claimCompressed = all.W_dec.length + MB;
      return [...storedAll(all, ['W_dec']), e];
    }), 'WEIGHTS_INVALID', /W_dec/],
    ['a text file named params.npz', () => {
      const dir = join(tmp.dir, 'text', 'layer_1', 'width_16', 'average_l0_5');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'params.npz'), `${CANARY}: the first line of some private file\nmore\n`);
      return join(dir, 'params.npz');
    }, 'WEIGHTS_INVALID', /not a readable zip/],
    ['a .npy header that is not a dict (its text must not be echoed)', () => npzAt('header-text', (all) => [...storedAll(all, ['b_dec']), storedEntry('b_dec.npy', npyBytes('<f4', [D_IN], f32(D_IN, 4), `${CANARY} private text`))]), 'WEIGHTS_INVALID', /b_dec.*not a dict with 'descr'/],
    ['a .npy dtype that is not a type code (not echoed)', () => npzAt('descr', (all) => [...storedAll(all, ['b_dec']), storedEntry('b_dec.npy', npyBytes(CANARY, [D_IN], f32(D_IN, 4)))]), 'WEIGHTS_INVALID', /b_dec.*dtype that is not a NumPy type code/],
    ['a .npy shape that is not integers (not echoed)', () => npzAt('shape', (all) => [...storedAll(all, ['b_dec']), storedEntry('b_dec.npy', npyBytes('<f4', [D_IN], f32(D_IN, 4), `{'descr': '<f4', 'fortran_order': False, 'shape': (${CANARY},), }`))]), 'WEIGHTS_INVALID', /b_dec.*shape is not a tuple/],
    ['a symbolic link loop', () => {
      const dir = join(tmp.dir, 'loop', 'layer_1', 'width_16', 'average_l0_5');
      mkdirSync(dir, { recursive: true });
      symlinkSync('params.npz', join(dir, 'params.npz'));
      return join(dir, 'params.npz');
    }, 'WEIGHTS_INVALID', /symbolic link loop/],
    ['a named pipe (FIFO)', () => {
      const dir = join(tmp.dir, 'fifo', 'layer_1', 'width_16', 'average_l0_5');
      mkdirSync(dir, { recursive: true });
      expect(spawnSync('mkfifo', [join(dir, 'params.npz')]).status).toBe(0);
      return join(dir, 'params.npz');
    }, 'WEIGHTS_INVALID', /named pipe \(FIFO\)/],
    ['a device linked as params.npz', () => {
      const dir = join(tmp.dir, 'device', 'layer_1', 'width_16', 'average_l0_5');
      mkdirSync(dir, { recursive: true });
      symlinkSync('/dev/zero', join(dir, 'params.npz'));
      return join(dir, 'params.npz');
    }, 'WEIGHTS_INVALID', /is a device/],
  ];
  it.each(cases)('%s', async (_, make, code, pattern) => {
    const file = await make();
    expectTyped(await failure(file), code, pattern);
  }, 10_000);

  it('the same arrays, honest, load (stored and deflated), so each row above fails for its own reason', async () => {
    const stored = await loadSae(npzAt('good-stored', (all) => storedAll(all)));
    expect([stored.dIn, stored.dSae, stored.hookName]).toEqual([D_IN, D_SAE, 'blocks.1.hook_resid_post']);
    const deflated = await loadSae(npzAt('good-deflated', (all) => Object.entries(all).map(([n, b]) => deflatedEntry(`${n}.npy`, b))));
    expect(Array.from(new Float32Array(deflated.tensors.threshold!.data!.buffer))).toEqual(Array.from(new Float32Array(f32(D_SAE, 5).buffer)));
    expect(existsSync('/dev/zero')).toBe(true);
  });
});

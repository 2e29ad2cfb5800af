// Our safetensors reader and writer against files written by the reference implementation
// (Hugging Face `safetensors` in Python, with numpy and ml_dtypes), produced by
// scripts/reference/make_safetensors_fixtures.py; plus the typed errors for malformed files.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError, type ErrorCode } from '../../shared/errors';
import {
  float32ToBf16,
  float32ToF16,
  readSafetensorsHeader,
  readTensorAsFloat32,
  readTensorBytes,
  readWeightIndex,
  writeSafetensors,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type TensorToWrite,
} from './safetensors';

// Counts the bytes every readSync returns and the files readFileSync loads, to prove that reading
// a header leaves the tensor data alone. Everything else in node:fs is the real thing.
const reads = vi.hoisted(() => ({ bytes: 0, wholeFiles: [] as string[] }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const readSync = (...args: unknown[]): number => {
    const read = (actual.readSync as (...a: unknown[]) => number)(...args);
    reads.bytes += read;
    return read;
  };
  const readFileSync = (...args: unknown[]): unknown => {
    reads.wholeFiles.push(String(args[0]));
    return (actual.readFileSync as (...a: unknown[]) => unknown)(...args);
  };
  return { ...actual, default: { ...actual, readSync, readFileSync }, readSync, readFileSync };
});

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixtureDir = join(repoRoot, 'test/fixtures/safetensors');

interface ExpectedTensor {
  file: string;
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  hex: string;
  values: Array<number | 'NaN' | 'Infinity' | '-Infinity'>;
}

interface Expected {
  versions: Record<string, string>;
  metadata: { 'mixed.safetensors': Record<string, string>; sharded: Record<string, string> };
  layouts: Record<string, { header_length: number; data_order: string[] }>;
  tensors: ExpectedTensor[];
  rounding_cases: Array<{ f32: number; bf16: number; f16: number }>;
}

const expected = JSON.parse(readFileSync(join(fixtureDir, 'expected.json'), 'utf-8')) as Expected;
const FLOAT_DTYPES: SafetensorsDtype[] = ['F64', 'F32', 'F16', 'BF16'];

const toNumber = (v: ExpectedTensor['values'][number]): number => (typeof v === 'number' ? v : Number(v));
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
const f32FromBits = (bits: number[]): Float32Array => new Float32Array(new Uint32Array(bits).buffer);

const temps: Array<{ cleanup(): void }> = [];
function scratch(): string {
  const temp = tempDir('linguascope-safetensors-');
  temps.push(temp);
  return temp.dir;
}
afterAll(() => temps.forEach((t) => t.cleanup()));

describe('files written by Python safetensors (test/fixtures/safetensors)', () => {
  const headers = new Map<string, SafetensorsHeader>();
  const headerOf = (file: string): SafetensorsHeader => {
    if (!headers.has(file)) headers.set(file, readSafetensorsHeader(join(fixtureDir, file)));
    return headers.get(file)!;
  };

  it('were made by the recorded library versions', () => {
    expect(Object.keys(expected.versions).sort()).toEqual(['ml_dtypes', 'numpy', 'python', 'safetensors']);
    expect(expected.tensors.length).toBe(18);
  });

  it.each(expected.tensors.map((t) => [`${t.file} ${t.name} ${t.dtype} [${t.shape}]`, t] as const))('decodes %s exactly', (_title, t) => {
    const entry = headerOf(t.file).tensors.get(t.name)!;
    expect(entry).toBeDefined();
    expect(entry.dtype).toBe(t.dtype);
    expect(entry.shape).toEqual(t.shape);
    expect(entry.byteLength).toBe(t.hex.length / 2);
    expect(hex(readTensorBytes(entry))).toBe(t.hex);
    if (FLOAT_DTYPES.includes(t.dtype)) {
      // toEqual tells -0 from 0 and treats NaN as equal to NaN.
      expect(Array.from(readTensorAsFloat32(entry))).toEqual(t.values.map((v) => Math.fround(toNumber(v))));
    } else {
      expect(() => readTensorAsFloat32(entry)).toThrow(/only F64, F32, F16 and BF16/);
    }
  });

  it.each(Object.entries(expected.layouts))('reads the layout and metadata of %s', (file, layout) => {
    const header = headerOf(file);
    expect(header.dataOffset).toBe(8 + layout.header_length);
    expect([...header.tensors.keys()]).toEqual(layout.data_order); // the map is in data order
    expect(new Set(expected.tensors.filter((t) => t.file === file).map((t) => t.name))).toEqual(new Set(header.tensors.keys()));
    const metadata = file === 'mixed.safetensors' ? expected.metadata['mixed.safetensors'] : { format: 'np' };
    expect(header.metadata).toEqual(metadata);
  });

  it('reads the sharded checkpoint through its index', () => {
    const index = readWeightIndex(join(fixtureDir, 'sharded'));
    const shards = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    expect(index.files).toEqual(shards.map((s) => join(fixtureDir, 'sharded', s)));
    expect(index.metadata).toEqual(expected.metadata.sharded);
    const inShards = expected.tensors.filter((t) => t.file.startsWith('sharded/'));
    expect([...index.tensors.keys()].sort()).toEqual(inShards.map((t) => t.name).sort());
    for (const t of inShards) {
      expect(index.tensors.get(t.name)).toEqual(headerOf(t.file).tensors.get(t.name));
      expect(hex(readTensorBytes(index.tensors.get(t.name)!))).toBe(t.hex);
    }
  });

  it('reads a folder of loose .safetensors files, and a single model.safetensors', () => {
    const loose = readWeightIndex(fixtureDir);
    expect(loose.files).toEqual([join(fixtureDir, 'mixed.safetensors')]);
    expect(loose.tensors).toEqual(headerOf('mixed.safetensors').tensors);

    const dir = scratch();
    copyFileSync(join(fixtureDir, 'mixed.safetensors'), join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'other.safetensors'), ''); // ignored: model.safetensors wins
    const single = readWeightIndex(dir);
    expect(single.files).toEqual([join(dir, 'model.safetensors')]);
    expect([...single.tensors.keys()]).toEqual(expected.layouts['mixed.safetensors'].data_order);
    expect(single.metadata).toEqual(expected.metadata['mixed.safetensors']);
  });
});

describe('float32 to 16-bit floats vs numpy (f16) and ml_dtypes (bf16)', () => {
  const cases = expected.rounding_cases;
  const input = f32FromBits(cases.map((c) => c.f32));

  it('covers ties, subnormals, overflow, NaN and -0', () => {
    expect(cases.length).toBeGreaterThan(100);
    for (const bits of [0x80000000, 0x3f808000, 0x477ff000, 0x33000000, 0x7fa00000]) expect(cases.map((c) => c.f32)).toContain(bits);
  });

  it('float32ToBf16 matches bit for bit', () => {
    expect(Array.from(float32ToBf16(input))).toEqual(cases.map((c) => c.bf16));
  });

  it('float32ToF16 matches bit for bit', () => {
    expect(Array.from(float32ToF16(input))).toEqual(cases.map((c) => c.f16));
  });

  it('works on a view that starts inside its buffer', () => {
    const view = new Float32Array(f32FromBits([0, ...cases.map((c) => c.f32)]).buffer, 4);
    expect(Array.from(float32ToF16(view))).toEqual(cases.map((c) => c.f16));
  });

  it('every f16 and bf16 value survives decode then encode unchanged (NaN payloads in f16 too)', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const dir = scratch();
    writeSafetensors(join(dir, 'all.safetensors'), [
      { name: 'f16', dtype: 'F16', shape: [65536], data: all },
      { name: 'bf16', dtype: 'BF16', shape: [256, 256], data: all },
    ]);
    const { tensors } = readSafetensorsHeader(join(dir, 'all.safetensors'));
    expect(float32ToF16(readTensorAsFloat32(tensors.get('f16')!))).toEqual(all);
    const bf16 = float32ToBf16(readTensorAsFloat32(tensors.get('bf16')!));
    const isNaN = (h: number): boolean => (h & 0x7fff) > 0x7f80;
    expect(Array.from(bf16)).toEqual(Array.from(all, (h) => (isNaN(h) ? (h & 0x8000) | 0x7fc0 : h)));
  });
});

describe('writeSafetensors', () => {
  const values = [0, -0, 1.5, -2.25, 65504, 1 / 3, Infinity, -Infinity, NaN, 1e-7, 3.5e38, -1e-40];
  const f32 = new Float32Array(values);
  const tensors: TensorToWrite[] = [
    { name: 'w.f64', dtype: 'F64', shape: [3, 4], data: new Float64Array(values) },
    { name: 'w.f32', dtype: 'F32', shape: [2, 2, 3], data: f32 },
    { name: 'w.f16', dtype: 'F16', shape: [12], data: float32ToF16(f32) },
    { name: 'w.bf16', dtype: 'BF16', shape: [6, 2], data: float32ToBf16(f32) },
    { name: 'ids.i64', dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 62n), 0n, 2n ** 53n + 1n]) },
    { name: 'ids.i32', dtype: 'I32', shape: [2], data: new Int32Array([-7, 2 ** 31 - 1]) },
    { name: 'ids.i16', dtype: 'I16', shape: [2], data: new Uint8Array([0xff, 0x7f, 0x00, 0x80]) },
    { name: 'ids.i8', dtype: 'I8', shape: [3], data: new Uint8Array([0x80, 0, 0x7f]) },
    { name: 'pixels', dtype: 'U8', shape: [1, 3], data: new Uint8Array([0, 128, 255]) },
    { name: 'mask', dtype: 'BOOL', shape: [2], data: new Uint8Array([1, 0]) },
    { name: 'eps', dtype: 'F32', shape: [], data: new Float32Array([1e-6]) },
    { name: 'empty', dtype: 'BF16', shape: [0, 8], data: new Uint16Array(0) },
  ];
  const bytesOf = (t: TensorToWrite): string => hex(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));

  it('round-trips every dtype, a scalar and a zero-size tensor, in the given order', () => {
    const dir = scratch();
    const file = join(dir, 'nested', 'round-trip.safetensors');
    writeSafetensors(file, tensors, { format: 'pt', note: 'ünïcode ✓' });
    expect(readdirSync(join(dir, 'nested'))).toEqual(['round-trip.safetensors']); // no temporary left

    const header = readSafetensorsHeader(file);
    expect(header.metadata).toEqual({ format: 'pt', note: 'ünïcode ✓' });
    expect([...header.tensors.keys()]).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const entry = header.tensors.get(t.name)!;
      expect([entry.dtype, entry.shape, entry.file]).toEqual([t.dtype, t.shape, file]);
      expect(hex(readTensorBytes(entry))).toBe(bytesOf(t));
    }
    expect(Array.from(readTensorAsFloat32(header.tensors.get('w.f32')!))).toEqual(Array.from(f32));
    expect(Array.from(readTensorAsFloat32(header.tensors.get('w.f64')!))).toEqual(Array.from(f32)); // rounded to f32
    expect(readTensorAsFloat32(header.tensors.get('empty')!)).toEqual(new Float32Array(0));
  });

  it('pads the header with spaces to a multiple of 8 bytes, as the Python library does', () => {
    const file = join(scratch(), 'padded.safetensors');
    writeSafetensors(file, [{ name: 'x', dtype: 'U8', shape: [1], data: new Uint8Array([7]) }]);
    const raw = readFileSync(file);
    const length = Number(raw.readBigUInt64LE(0));
    const json = '{"x":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}';
    expect(length % 8).toBe(0);
    expect(raw.subarray(8, 8 + length).toString('utf8')).toBe(json.padEnd(length, ' '));
    expect(raw.length).toBe(8 + length + 1);
  });

  it.each<[string, TensorToWrite, RegExp]>([
    ['data shorter than the shape', { name: 'a', dtype: 'F32', shape: [2, 3], data: new Float32Array(5) }, /'a' is F32 \[2, 3\] = 24 bytes but its data holds 20/],
    ['float32 data for an F16 tensor', { name: 'b', dtype: 'F16', shape: [4], data: new Float32Array(2) }, /'b' is F16 but its data is a Float32Array; convert with float32ToF16/],
    ['unknown dtype', { name: 'c', dtype: 'F8' as SafetensorsDtype, shape: [1], data: new Uint8Array(1) }, /'c' has unknown dtype "F8"/],
    ['negative dimension', { name: 'd', dtype: 'U8', shape: [-1], data: new Uint8Array(0) }, /'d' has shape \[-1\]/],
    ['reserved name', { name: '__metadata__', dtype: 'U8', shape: [0], data: new Uint8Array(0) }, /cannot write a tensor named "__metadata__"/],
  ])('refuses %s with WEIGHTS_INVALID and leaves the old file alone', (_title, bad, message) => {
    const dir = scratch();
    const file = join(dir, 'kept.safetensors');
    writeSafetensors(file, [tensors[1]]);
    const before = readFileSync(file);
    const error = errorOf(() => writeSafetensors(file, [tensors[0], bad]));
    expect([error.code, error.message.includes('\n')]).toEqual(['WEIGHTS_INVALID', false]);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('kept.safetensors: ')).toBe(true);
    expect(readFileSync(file)).toEqual(before);
    expect(readdirSync(dir)).toEqual(['kept.safetensors']);
  });

  it('refuses a tensor name given twice', () => {
    const error = errorOf(() => writeSafetensors(join(scratch(), 'twice.safetensors'), [tensors[1], tensors[1]]));
    expect([error.code, error.message]).toEqual(['WEIGHTS_INVALID', "twice.safetensors: tensor 'w.f32' is given twice"]);
  });

  it('reports an unwritable target as OUTPUT_NOT_WRITABLE and removes its temporary file', () => {
    const dir = scratch();
    mkdirSync(join(dir, 'taken.safetensors')); // a folder where the file should go: rename fails
    const error = errorOf(() => writeSafetensors(join(dir, 'taken.safetensors'), [tensors[1]]));
    expect(error.code).toBe('OUTPUT_NOT_WRITABLE');
    expect(error.message).toMatch(/^taken\.safetensors: cannot be written \(E/);
    expect(readdirSync(dir)).toEqual(['taken.safetensors']);
  });
});

describe('readSafetensorsHeader on a large file', () => {
  beforeEach(() => {
    reads.bytes = 0;
    reads.wholeFiles = [];
  });

  it('reads only the header bytes of a 64 MB file', () => {
    const file = join(scratch(), 'large.safetensors');
    const data = new Float32Array(16 * 1024 * 1024);
    data[0] = 1.5;
    data[data.length - 1] = -3;
    writeSafetensors(file, [{ name: 'model.embed_tokens.weight', dtype: 'F32', shape: [16384, 1024], data }]);
    reads.bytes = 0;

    const header = readSafetensorsHeader(file);
    expect(reads.bytes).toBe(header.dataOffset); // 8 + header length, far below 1 MB
    expect(reads.bytes).toBeLessThan(1024);
    expect(reads.wholeFiles).toEqual([]);

    const entry = header.tensors.get('model.embed_tokens.weight')!;
    expect([entry.offset, entry.byteLength]).toEqual([header.dataOffset, 64 * 1024 * 1024]);
    const values = readTensorAsFloat32(entry);
    expect([values[0], values[1], values[values.length - 1], values.length]).toEqual([1.5, 0, -3, data.length]);
  });
});

function errorOf(action: () => unknown): ApiError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    return error as ApiError;
  }
  throw new Error('expected an ApiError, but nothing was thrown');
}

/** u64 header length + header bytes (JSON text, or raw bytes) + `dataBytes` bytes of data. */
function rawFile(dir: string, header: string | Uint8Array | object, dataBytes = 0, lengthField?: bigint): string {
  const headerBytes = header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(lengthField ?? BigInt(headerBytes.length));
  const file = join(dir, 'model.safetensors');
  writeFileSync(file, Buffer.concat([length, headerBytes, Buffer.alloc(dataBytes, 0xab)]));
  return file;
}

const f32 = (shape: number[], begin: number, end: number): object => ({ dtype: 'F32', shape, data_offsets: [begin, end] });

describe('malformed weight files fail with a one-line typed error', () => {
  it.each<[string, ErrorCode, RegExp, (dir: string) => string]>([
    ['missing file', 'WEIGHTS_NOT_FOUND', /^model\.safetensors: no such file$/, (dir) => join(dir, 'model.safetensors')],
    ['a folder', 'WEIGHTS_NOT_FOUND', /is a folder, not a weight file/, (dir) => (mkdirSync(join(dir, 'model.safetensors')), join(dir, 'model.safetensors'))],
    ['empty file', 'WEIGHTS_INVALID', /the file is empty \(0 bytes; failed download\?\)/, (dir) => (writeFileSync(join(dir, 'model.safetensors'), ''), join(dir, 'model.safetensors'))],
    ['5-byte file', 'WEIGHTS_INVALID', /the file is 5 bytes, too short/, (dir) => (writeFileSync(join(dir, 'model.safetensors'), 'abcde'), join(dir, 'model.safetensors'))],
    ['header length beyond the file', 'WEIGHTS_INVALID', /header length field says 4096 bytes but only 10 follow it/, (dir) => rawFile(dir, '{"a": 1}xy', 0, 4096n)],
    ['absurd header length', 'WEIGHTS_INVALID', /says 1099511627776 bytes, over the 100 MB limit/, (dir) => rawFile(dir, '{}', 0, 2n ** 40n)],
    ['header not UTF-8', 'WEIGHTS_INVALID', /the header is not valid UTF-8/, (dir) => rawFile(dir, new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))],
    ['header not JSON', 'WEIGHTS_INVALID', /the header is not valid JSON \(/, (dir) => rawFile(dir, '{"a": {"dtype": ')],
    ['header JSON not an object', 'WEIGHTS_INVALID', /the header is not a JSON object of tensors/, (dir) => rawFile(dir, '[1, 2, 3]')],
    ['__metadata__ with a number', 'WEIGHTS_INVALID', /__metadata__ 'total_size' is 12, not a string/, (dir) => rawFile(dir, { __metadata__: { total_size: 12 } })],
    ['tensor not an object', 'WEIGHTS_INVALID', /tensor 'w' is not an object/, (dir) => rawFile(dir, { w: [1] })],
    ['unknown dtype', 'WEIGHTS_INVALID', /tensor 'w' has unknown dtype 'F8_E4M3' \(readable: F64, F32/, (dir) => rawFile(dir, { w: { dtype: 'F8_E4M3', shape: [4], data_offsets: [0, 4] } }, 4)],
    ['negative dimension', 'WEIGHTS_INVALID', /tensor 'w' has shape \[2,-2\]; dimensions must be non-negative integers/, (dir) => rawFile(dir, { w: f32([2, -2], 0, 16) }, 16)],
    ['fractional dimension', 'WEIGHTS_INVALID', /tensor 'w' has shape \[1\.5\]/, (dir) => rawFile(dir, { w: f32([1.5], 0, 6) }, 6)],
    ['shape not matching the byte length', 'WEIGHTS_INVALID', /tensor 'w' is F32 \[2, 3\] = 24 bytes but data_offsets \[0, 20\] span 20/, (dir) => rawFile(dir, { w: f32([2, 3], 0, 20) }, 20)],
    ['offsets missing', 'WEIGHTS_INVALID', /tensor 'w' has data_offsets undefined/, (dir) => rawFile(dir, { w: { dtype: 'F32', shape: [1] } }, 4)],
    ['offsets in the wrong order', 'WEIGHTS_INVALID', /tensor 'w' has data_offsets \[8, 4\] that end before they begin/, (dir) => rawFile(dir, { w: f32([1], 8, 4) }, 8)],
    ['offsets overlapping', 'WEIGHTS_INVALID', /tensors 'a' and 'b' overlap \(data bytes 4\.\.8\)/, (dir) => rawFile(dir, { a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12)],
    ['a gap between tensors', 'WEIGHTS_INVALID', /4 unused bytes between tensor 'a' \(ends at 8\) and tensor 'b' \(begins at 12\)/, (dir) => rawFile(dir, { b: f32([2], 12, 20), a: f32([2], 0, 8) }, 20)],
    ['a gap before the first tensor', 'WEIGHTS_INVALID', /4 unused bytes between the start of the data and tensor 'a'/, (dir) => rawFile(dir, { a: f32([1], 4, 8) }, 8)],
    ['bytes after the last tensor', 'WEIGHTS_INVALID', /the file has 3 bytes after the last tensor's data, which ends at byte 8 of 11/, (dir) => rawFile(dir, { a: f32([2], 0, 8) }, 11)],
    ['data truncated (failed download)', 'WEIGHTS_INVALID', /tensor 'model\.embed_tokens\.weight' ends at byte 4096 but the file's data holds 1000 bytes \(truncated\?\)/, (dir) => {
      const file = join(dir, 'model.safetensors');
      writeSafetensors(file, [
        { name: 'model.norm.weight', dtype: 'F32', shape: [16], data: new Float32Array(16) },
        { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [32, 63], data: new Uint16Array(32 * 63) },
      ]);
      truncateSync(file, readSafetensorsHeader(file).dataOffset + 1000);
      return file;
    }],
  ])('%s', (_title, code, message, makeFile) => {
    const file = makeFile(scratch());
    const error = errorOf(() => readSafetensorsHeader(file));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('model.safetensors: ')).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.details?.file).toBe(file);
  });

  it('a tensor truncated after its header was read', () => {
    const file = join(scratch(), 'model.safetensors');
    writeSafetensors(file, [{ name: 'w', dtype: 'F32', shape: [256], data: new Float32Array(256) }]);
    const entry = readSafetensorsHeader(file).tensors.get('w')!;
    truncateSync(file, entry.offset + 100);
    const error = errorOf(() => readTensorAsFloat32(entry));
    expect([error.code, error.message.includes('\n')]).toEqual(['WEIGHTS_INVALID', false]);
    expect(error.message).toMatch(/^model\.safetensors: the file ends at byte \d+ while reading tensor 'w'/);
  });
});

describe('malformed checkpoint folders fail with a one-line typed error', () => {
  const shard1 = 'model-00001-of-00002.safetensors';
  const shard2 = 'model-00002-of-00002.safetensors';
  const tiny = (name: string): TensorToWrite => ({ name, dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) });
  const writeIndex = (dir: string, index: unknown): void => writeFileSync(join(dir, 'model.safetensors.index.json'), typeof index === 'string' ? index : JSON.stringify(index));
  const sharded = (dir: string, weightMap: Record<string, string>): string => {
    writeSafetensors(join(dir, shard1), [tiny('model.a.weight')]);
    writeIndex(dir, { metadata: { total_size: 16 }, weight_map: weightMap });
    return dir;
  };

  it.each<[string, ErrorCode, RegExp, (dir: string) => string]>([
    ['folder missing', 'WEIGHTS_NOT_FOUND', /^nowhere: no such folder/, (dir) => join(dir, 'nowhere')],
    ['folder with no weights', 'WEIGHTS_NOT_FOUND', /has no model\.safetensors, model\.safetensors\.index\.json or other \.safetensors file$/, (dir) => (writeFileSync(join(dir, 'config.json'), '{}'), dir)],
    ['index naming a missing shard', 'WEIGHTS_NOT_FOUND', /^model-00002-of-00002\.safetensors: no such file, though model\.safetensors\.index\.json places 1 tensor in it \(incomplete download\?\)$/, (dir) => sharded(dir, { 'model.a.weight': shard1, 'model.b.weight': shard2 })],
    ['index naming a tensor the shard lacks', 'WEIGHTS_INVALID', /^model-00001-of-00002\.safetensors: has no tensor 'model\.extra\.weight', though model\.safetensors\.index\.json places it in this shard$/, (dir) => sharded(dir, { 'model.a.weight': shard1, 'model.extra.weight': shard1 })],
    ['index not JSON', 'WEIGHTS_INVALID', /^model\.safetensors\.index\.json: is not valid JSON \(/, (dir) => (writeIndex(dir, '{"weight_map": '), dir)],
    ['index without weight_map', 'WEIGHTS_INVALID', /^model\.safetensors\.index\.json: has no weight_map object/, (dir) => (writeIndex(dir, { metadata: {} }), dir)],
    ['index naming a shard outside the folder', 'WEIGHTS_INVALID', /names shard '\.\.\/elsewhere\.safetensors', which is outside the checkpoint folder/, (dir) => sharded(dir, { 'model.a.weight': '../elsewhere.safetensors' })],
    ['a malformed shard', 'WEIGHTS_INVALID', /^model-00002-of-00002\.safetensors: the file is 5 bytes/, (dir) => (writeFileSync(join(dir, shard2), 'abcde'), sharded(dir, { 'model.a.weight': shard1, 'model.b.weight': shard2 }))],
    ['two loose files with the same tensor', 'WEIGHTS_INVALID', /^b\.safetensors: tensor 'model\.a\.weight' is also in a\.safetensors/, (dir) => {
      writeSafetensors(join(dir, 'a.safetensors'), [tiny('model.a.weight')]);
      writeSafetensors(join(dir, 'b.safetensors'), [tiny('model.a.weight')]);
      return dir;
    }],
  ])('%s', (_title, code, message, makeFolder) => {
    const folder = makeFolder(scratch());
    const error = errorOf(() => readWeightIndex(folder));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });
});

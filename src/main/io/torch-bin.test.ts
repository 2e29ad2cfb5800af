// Our pytorch_model.bin reader against files written by torch.save itself (torch 2.15, zip and
// legacy layouts), produced by scripts/reference/make_marian_fixtures.py: every tensor's dtype,
// shape and bytes equal what torch recorded and what safetensors wrote for the same tensors; and
// every hostile class (globals that run code, opcodes that build objects, damaged archives)
// refused with WEIGHTS_INVALID naming what was refused.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { buildZip, storedEntry } from '../../../test/helpers/zip';
import { ApiError } from '../../shared/errors';
import { readSafetensorsHeader, readTensorBytes, readWeightIndex } from './safetensors';
import { readFolderWeights, readTorchBin } from './torch-bin';
import { readPickle, storageFromPersistentId } from './torch-pickle';

const root = fileURLToPath(new URL('../../../test/fixtures/marian/', import.meta.url));
const bins = join(root, 'torch-bin');
const hostile = join(bins, 'hostile');
const scratch = tempDir('torch-bin-test-');
afterAll(() => scratch.cleanup());
const expected = JSON.parse(readFileSync(join(bins, 'expected.json'), 'utf8')) as Record<string, Record<string, { dtype: string; shape: number[]; hex: string }>>;

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

async function refusal(file: string): Promise<ApiError> {
  const error = await readTorchBin(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe('readTorchBin on torch.save files', () => {
  for (const name of ['dtypes.bin', 'legacy.bin', 'parameter.bin']) {
    it(`${name}: every tensor's dtype, shape and bytes are torch's`, async () => {
      const index = await readTorchBin(join(bins, name));
      const want = expected[name];
      expect([...index.tensors.keys()].sort()).toEqual(Object.keys(want).sort());
      for (const [tensor, record] of Object.entries(want)) {
        const entry = index.tensors.get(tensor)!;
        expect({ tensor, dtype: entry.dtype, shape: entry.shape }).toEqual({ tensor, dtype: record.dtype, shape: record.shape });
        expect(hex(readTensorBytes(entry)), tensor).toBe(record.hex);
      }
    });
  }

  it('dtypes.bin equals the safetensors copy of the same tensors bit for bit', async () => {
    const index = await readTorchBin(join(bins, 'dtypes.bin'));
    const st = readSafetensorsHeader(join(bins, 'dtypes.safetensors'));
    expect(index.tensors.size).toBe(st.tensors.size);
    for (const [name, entry] of st.tensors) {
      const ours = index.tensors.get(name)!;
      expect([ours.dtype, ours.shape], name).toEqual([entry.dtype, entry.shape]);
      expect(Buffer.compare(readTensorBytes(ours), readTensorBytes(entry)), name).toBe(0);
    }
  });

  it('views of one storage (tied weights, slices at an offset) point at the same bytes in the file', async () => {
    const { tensors } = await readTorchBin(join(bins, 'dtypes.bin'));
    const a = tensors.get('tied.a')!;
    expect(tensors.get('tied.b')!.offset).toBe(a.offset);
    expect(tensors.get('tied.reshaped')!).toMatchObject({ offset: a.offset, shape: [3, 4], byteLength: a.byteLength });
    // base is [6, 5] float32: rows 2..5 start 10 elements in, row 4 at 20.
    const rows = tensors.get('view.rows')!;
    expect(tensors.get('view.row')!.offset - rows.offset).toBe(2 * 5 * 4);
    expect(rows.shape).toEqual([3, 5]);
  });

  it('the tiny opus-mt pytorch_model.bin holds the tensors of its model.safetensors twin, bit for bit', async () => {
    const bin = await readTorchBin(join(root, 'tiny-en-mul-bin', 'pytorch_model.bin'));
    const st = readWeightIndex(join(root, 'tiny-en-mul-safetensors'));
    for (const [name, entry] of st.tensors) {
      const ours = bin.tensors.get(name);
      expect(ours, name).toBeDefined();
      expect([ours!.dtype, ours!.shape], name).toEqual([entry.dtype, entry.shape]);
      expect(Buffer.compare(readTensorBytes(ours!), readTensorBytes(entry)), name).toBe(0);
    }
    // transformers 4's .bin keeps the tied embeddings and output layer as views of model.shared.
    const shared = bin.tensors.get('model.shared.weight')!;
    for (const alias of ['model.encoder.embed_tokens.weight', 'model.decoder.embed_tokens.weight', 'lm_head.weight']) {
      expect(bin.tensors.get(alias), alias).toMatchObject({ offset: shared.offset, byteLength: shared.byteLength, shape: shared.shape });
    }
  });

  it('readFolderWeights takes safetensors when present, else pytorch_model.bin', async () => {
    const fromBin = await readFolderWeights(join(root, 'tiny-en-mul-bin'));
    expect(fromBin.files.map((f) => f.split(/[\\/]/).pop())).toEqual(['pytorch_model.bin']);
    const fromSt = await readFolderWeights(join(root, 'tiny-en-mul-safetensors'));
    expect(fromSt.files.map((f) => f.split(/[\\/]/).pop())).toEqual(['model.safetensors']);
    const empty = join(scratch.dir, 'empty');
    mkdirSync(empty);
    await expect(readFolderWeights(empty)).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
  });
});

/** BINUNICODE: 'X', u32 length, UTF-8 bytes. */
function binunicode(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from('X', 'latin1'), Buffer.from(Uint32Array.of(bytes.length).buffer), bytes]);
}

/** A legacy (pre-1.6) torch.save file of {name: float32 tensor of `values`}, written by hand. */
function legacyFile(name: string, values: number[]): Buffer {
  const l = (text: string): Buffer => Buffer.from(text, 'latin1');
  const magic = l('\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.');
  const protocol = l('\x80\x02M\xe9\x03.');
  const info = Buffer.concat([l('\x80\x02}'), binunicode('little_endian'), l('\x88s.')]);
  const n = String.fromCharCode(values.length);
  const state = Buffer.concat([
    l('\x80\x02}'), binunicode(name), l('ctorch._utils\n_rebuild_tensor_v2\n(('), binunicode('storage'), l('ctorch\nFloatStorage\n'),
    binunicode('0'), binunicode('cpu'), l(`K${n}NtQK\x00K${n}\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRs.`),
  ]);
  const keys = Buffer.concat([l('\x80\x02]'), binunicode('0'), l('a.')]);
  const count = Buffer.from(BigInt64Array.of(BigInt(values.length)).buffer);
  return Buffer.concat([magic, protocol, info, state, keys, count, Buffer.from(Float32Array.from(values).buffer)]);
}

describe('legacy files whose pickles are larger than the first read', () => {
  it('reads on past the first megabyte of pickles', async () => {
    const name = `w${'x'.repeat(3 << 20)}`; // a 3 MiB tensor name pushes the storages past 1 MiB
    const file = join(scratch.dir, 'long-legacy.bin');
    writeFileSync(file, legacyFile(name, [1.5, -2]));
    const { tensors } = await readTorchBin(file);
    expect(Array.from(new Float32Array(readTensorBytes(tensors.get(name)!).slice().buffer))).toEqual([1.5, -2]);
    // The same layout cut inside the storage bytes is refused as truncated.
    writeFileSync(file, legacyFile('w', [1.5, -2]).subarray(0, -3));
    await expect(readTorchBin(file)).rejects.toThrow(/storage '0' says it holds 2 elements, past the end/);
  });
});

describe('sharded pytorch_model.bin checkpoints', () => {
  function shardedFolder(name: string, weightMap: Record<string, string>): string {
    const dir = join(scratch.dir, name);
    mkdirSync(dir);
    copyFileSync(join(bins, 'dtypes.bin'), join(dir, 'pytorch_model-00001-of-00002.bin'));
    copyFileSync(join(bins, 'parameter.bin'), join(dir, 'pytorch_model-00002-of-00002.bin'));
    writeFileSync(join(dir, 'pytorch_model.bin.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    return dir;
  }

  it('the index decides which tensor comes from which shard', async () => {
    const dir = shardedFolder('sharded', { f32: 'pytorch_model-00001-of-00002.bin', param: 'pytorch_model-00002-of-00002.bin' });
    const index = await readFolderWeights(dir);
    expect([...index.tensors.keys()].sort()).toEqual(['f32', 'param']);
    expect(hex(readTensorBytes(index.tensors.get('param')!))).toBe(expected['parameter.bin'].param.hex);
    expect(index.files).toHaveLength(2);
  });

  it('a shard outside the folder, a missing shard, or a tensor the shard lacks is refused', async () => {
    await expect(readFolderWeights(shardedFolder('escape', { f32: '../dtypes.bin' }))).rejects.toThrow(/outside the checkpoint folder/);
    await expect(readFolderWeights(shardedFolder('missing', { f32: 'pytorch_model-00003-of-00003.bin' }))).rejects.toMatchObject({ code: 'WEIGHTS_NOT_FOUND' });
    await expect(readFolderWeights(shardedFolder('lacks', { nothere: 'pytorch_model-00001-of-00002.bin' }))).rejects.toThrow(/has no tensor 'nothere'/);
  });
});

/** A torch.save-shaped zip (test/helpers/zip.ts) holding `pickle` as data.pkl, read; returns the refusal. */
async function readTorchBinWithPickle(pickle: Buffer): Promise<ApiError> {
  const file = join(scratch.dir, `pickle-${Math.random().toString(36).slice(2)}.bin`);
  writeFileSync(file, buildZip([storedEntry('archive/data.pkl', pickle), storedEntry('archive/byteorder', Buffer.from('little'))]));
  return refusal(file);
}

describe('hostile and damaged files are refused by name, nothing run', () => {
  const refusedGlobals: Array<[string, string]> = [
    ['os-system.bin', 'os.system'],
    ['posix-system.bin', 'posix.system'],
    ['builtins-eval.bin', 'builtins.eval'], // protocol 4: STACK_GLOBAL
    ['builtin-eval-py2.bin', '__builtin__.eval'],
    ['subprocess-popen.bin', 'subprocess.Popen'],
    ['torch-load.bin', 'torch.load'],
  ];
  for (const [file, global] of refusedGlobals) {
    it(`${file}: the global ${global}`, async () => {
      const error = await refusal(join(hostile, file));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.details).toMatchObject({ reason: 'global', refused: global });
      expect(error.message).toContain(global);
      expect(error.message).toContain('nothing');
    });
  }

  const refusedOpcodes: Array<[string, string]> = [
    ['opcode-inst.bin', 'INST'],
    ['opcode-newobj.bin', 'NEWOBJ'],
    ['opcode-unknown.bin', '0xff'],
  ];
  for (const [file, opcode] of refusedOpcodes) {
    it(`${file}: the opcode ${opcode}`, async () => {
      const error = await refusal(join(hostile, file));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.details).toMatchObject({ reason: 'opcode', refused: opcode });
      expect(error.message).toContain(opcode);
    });
  }

  const damaged: Array<[string, RegExp]> = [
    ['pickle-truncated.bin', /truncated/],
    ['byteorder-big.bin', /big-endian/],
    ['no-data-pkl.bin', /without <archive>\/data\.pkl/],
    ['missing-storage.bin', /has no entry 'dtypes\/data\/0'/],
    ['short-storage.bin', /storage '0' holds \d+ bytes, but the pickle says/],
    ['truncated.bin', /not a readable zip archive/],
    ['empty.bin', /empty/],
    ['not-a-zip.bin', /not torch\.save's magic number/],
    ['bomb-pickle.bin', /more than the 64 bytes the archive declares|does not match the sizes/],
    ['lying-storage-size.bin', /runs past the end of the file \(truncated, or forged sizes\)|past the end of the \d+-byte file/],
  ];
  for (const [file, message] of damaged) {
    it(`${file}: ${message.source}`, async () => {
      const error = await refusal(join(hostile, file));
      expect(error.code).toBe('WEIGHTS_INVALID');
      expect(error.message).toMatch(message);
      expect(error.message.startsWith(`${file}: `)).toBe(true);
    });
  }

  it('a non-contiguous tensor (a transposed view) is refused, naming the tensor and its strides', async () => {
    const error = await refusal(join(bins, 'noncontiguous.bin'));
    expect(error.message).toMatch(/tensor 'transposed' has shape \[5, 6\] with strides \[1, 5\], not a contiguous layout/);
    expect(error.details).toMatchObject({ tensor: 'transposed' });
  });

  it('a storage offset that puts a tensor past its storage is refused', async () => {
    const error = await refusal(join(bins, 'offset-past-storage.bin'));
    expect(error.message).toMatch(/tensor 'x' reads elements 2\.\.6 of storage '0', which holds 4/);
  });

  it('a REDUCE of os.system is refused at the GLOBAL, before REDUCE or anything after it is read', () => {
    // GLOBAL 'os system' at byte 2 would touch a marker file if any unpickler ran it.
    const marker = join(scratch.dir, 'ran');
    const command = `touch ${marker}`;
    const body = Buffer.concat([Buffer.from('\x80\x02cos\nsystem\nX', 'latin1'), Buffer.from(Uint32Array.of(command.length).buffer), Buffer.from(command), Buffer.from('\x85R.', 'latin1')]);
    expect(() => readPickle(body, () => storageFromPersistentId(null, 0))).toThrow(expect.objectContaining({ reason: 'global', what: 'os.system', position: 2 }));
    expect(existsSync(marker)).toBe(false);
  });

  it('a refused global that is not a short plain name is described, not quoted (messages never carry file content)', async () => {
    const canary = 'CANARY1x';
    const pickle = Buffer.from(`\x80\x02c${canary} text from some file\nsystem\n)R.`, 'latin1');
    const error = await readTorchBinWithPickle(pickle);
    expect(error.details).toMatchObject({ reason: 'global' });
    expect(error.message).not.toContain(canary.slice(0, 7));
    expect(error.message).toMatch(/a value of \d+ characters/);
  });

  it('a storage class outside the tensor storages (e.g. complex) is refused by name', () => {
    const pid = Buffer.from("\x80\x02(X\x07\x00\x00\x00storagectorch\nComplexFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ.", 'latin1');
    expect(() => readPickle(pid, storageFromPersistentId)).toThrow(expect.objectContaining({ what: 'torch.ComplexFloatStorage' }));
  });

  it('a checkpoint that is not a flat state dict (e.g. {"model": {...}}) is refused with what it holds', async () => {
    // Legacy layout written by hand: magic number, protocol 1001, sys_info, then {'model': {}}.
    const magic = Buffer.from('\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.', 'latin1');
    const protocol = Buffer.from('\x80\x02M\xe9\x03.', 'latin1');
    const info = Buffer.from('\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.', 'latin1');
    const nested = Buffer.from('\x80\x02}X\x05\x00\x00\x00model}s.', 'latin1');
    const file = join(scratch.dir, 'nested.bin');
    writeFileSync(file, Buffer.concat([magic, protocol, info, nested]));
    const error = await refusal(file);
    expect(error.message).toMatch(/maps 'model' to a dict, not a tensor/);
  });
});

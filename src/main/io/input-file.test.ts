// Weight, config and tokenizer files that are not what their names say, one row per class: a
// FIFO (the old readers blocked forever in open/read), a device, a folder, a symbolic link loop,
// JSON that is not JSON (V8's parse error quotes the text: the old messages leaked a file's first
// characters), through the public readers (openModelFolder, readWeightIndex, readTokenizerFiles).
// Each is a typed error naming the file, on one line, without the file's content.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { openModelFolder } from '../models/model';
import { byteTokenizerFiles } from '../models/byte-tokenizer';
import { jsonErrorWhere, quoteToken, quoteValue } from './input-file';
import { readTokenizerFiles } from './tokenizer';

const GEMMA = fileURLToPath(new URL('../../../test/fixtures/models/gemma2/', import.meta.url));
const CANARY = 'LEAK-CANARY-weights-3b8e'; // V8's JSON errors quote ~10 characters: even a prefix must not leak
const tmp = tempDir('weights-hostile-');
afterAll(() => tmp.cleanup());

/** A copy of the fixture model (with a byte-level tokenizer) whose `name` is replaced by `make`. */
function modelWith(tag: string, name: string, make: (path: string) => void): string {
  const dir = join(tmp.dir, tag);
  cpSync(GEMMA, dir, { recursive: true });
  rmSync(join(dir, 'reference.safetensors'));
  const { tokenizer, config } = byteTokenizerFiles();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  rmSync(join(dir, name), { force: true });
  make(join(dir, name));
  return dir;
}

const fifo = (path: string) => expect(spawnSync('mkfifo', [path]).status).toBe(0);
const device = (path: string) => symlinkSync('/dev/zero', path);
const folder = (path: string) => mkdirSync(path);
const loop = (path: string) => symlinkSync(path, path);
const text = (content: string) => (path: string) => writeFileSync(path, content);

function failure(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    return error as ApiError;
  }
  throw new Error('no error');
}

describe('model folders whose files are not regular files or not JSON', () => {
  const cases: [string, string, (path: string) => void, string, RegExp][] = [
    ['model.safetensors is a FIFO', 'model.safetensors', fifo, 'WEIGHTS_INVALID', /model\.safetensors: is a named pipe \(FIFO\), not a weight file/],
    ['model.safetensors links to a device', 'model.safetensors', device, 'WEIGHTS_INVALID', /model\.safetensors: is a device, not a weight file/],
    ['model.safetensors is a folder', 'model.safetensors', folder, 'WEIGHTS_NOT_FOUND', /model\.safetensors: is a folder, not a weight file/],
    ['model.safetensors is a link loop', 'model.safetensors', loop, 'WEIGHTS_INVALID', /model\.safetensors: is a symbolic link loop/],
    ['config.json is a FIFO', 'config.json', fifo, 'WEIGHTS_INVALID', /config\.json: is a named pipe \(FIFO\)/],
    ['config.json links to a device', 'config.json', device, 'WEIGHTS_INVALID', /config\.json: is a device/],
    ['config.json is not JSON (not echoed)', 'config.json', text(`${CANARY}: a private first line\n`), 'WEIGHTS_INVALID', /config\.json: is not valid JSON \(/],
    ['the shard index is a FIFO', 'model.safetensors.index.json', fifo, 'WEIGHTS_INVALID', /model\.safetensors\.index\.json: is a named pipe/],
    ['the shard index is not JSON (not echoed)', 'model.safetensors.index.json', text(`{"weight_map": ${CANARY}}`), 'WEIGHTS_INVALID', /model\.safetensors\.index\.json: is not valid JSON \(/],
  ];
  it.each(cases)('%s', (tag, name, make, code, pattern) => {
    const dir = modelWith(tag.replace(/\W+/g, '-'), name, make);
    const error = failure(() => openModelFolder(dir));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(CANARY.slice(0, 9));
    expect(error.message.split('\n')).toHaveLength(1);
  }, 10_000);
});

describe('tokenizer files that are not regular files or not JSON', () => {
  const cases: [string, string, (path: string) => void, string, RegExp][] = [
    ['tokenizer.json is a FIFO', 'tokenizer.json', fifo, 'TOKENIZER_UNREADABLE', /tokenizer\.json: is a named pipe \(FIFO\)/],
    ['tokenizer_config.json is a FIFO', 'tokenizer_config.json', fifo, 'TOKENIZER_UNREADABLE', /tokenizer_config\.json: is a named pipe \(FIFO\)/],
    ['tokenizer_config.json links to a device', 'tokenizer_config.json', device, 'TOKENIZER_UNREADABLE', /tokenizer_config\.json: is a device/],
    ['tokenizer.json is not JSON (not echoed)', 'tokenizer.json', text(`${CANARY} private text`), 'TOKENIZER_UNREADABLE', /tokenizer\.json is not valid JSON \(/],
  ];
  it.each(cases)('%s', (tag, name, make, code, pattern) => {
    const dir = modelWith(`tok-${tag.replace(/\W+/g, '-')}`, name, make);
    const error = failure(() => readTokenizerFiles(dir));
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(CANARY.slice(0, 9));
    expect(error.message.split('\n')).toHaveLength(1);
  }, 10_000);

  it('the same folder, untouched, reads (so each row fails for its own reason)', () => {
    const dir = modelWith('good', 'unused', () => undefined);
    expect(openModelFolder(dir).info.layers).toBe(4);
    expect(readTokenizerFiles(dir).info.bosId).toBe(2);
  });
});

describe('message helpers', () => {
  it('a JSON parse error is located, never quoted', () => {
    for (const bad of [`${CANARY}`, `{"a": ${CANARY}}`, '{"a": "unterminated', '']) {
      let error: unknown;
      try {
        JSON.parse(bad);
      } catch (e) {
        error = e;
      }
      expect(jsonErrorWhere(error)).toMatch(/^(at character \d+|cut short|unparseable)$/);
    }
  });

  it('values from files are quoted only when short plain tokens or numbers', () => {
    expect(quoteToken('F8_E4M3')).toBe("'F8_E4M3'");
    expect(quoteToken(`x\n${CANARY}`)).toBe(`a value of ${2 + CANARY.length} characters`);
    expect(quoteValue([2, -2])).toBe('[2,-2]');
    expect(quoteValue({ a: CANARY })).toBe('a object');
  });
});

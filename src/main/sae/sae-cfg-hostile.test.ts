// Hostile SAE settings, one row per class: a SAELens cfg.json that is null, a list, a number or a
// string, missing or mistyped keys, numbers past any real width, a hook_name that would print as
// two lines, text that is not JSON or not UTF-8, a FIFO or folder named cfg.json; and our own
// `linguascope_sae` metadata that is "null" or not an object. Each is a typed WEIGHTS_* error
// naming the file, on one line, never containing the file's text (the old code threw TypeErrors,
// i.e. internal errors, for the non-objects and echoed V8's excerpt of unparseable JSON).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { readSafetensorsHeader, readTensorBytes, writeSafetensors } from '../io/safetensors';
import { loadSae, SAE_LINGUASCOPE_KEY } from './sae';

const STANDARD = fileURLToPath(new URL('../../../test/fixtures/saes/saelens/standard/', import.meta.url));
const cfg = JSON.parse(readFileSync(join(STANDARD, 'cfg.json'), 'utf8')) as Record<string, unknown>;
const CANARY = 'LEAK-CANARY-cfg-51c2'; // V8's JSON errors quote ~10 characters: even a prefix must not leak
const tmp = tempDir('sae-cfg-');
afterAll(() => tmp.cleanup());

async function failure(path: string): Promise<ApiError> {
  try {
    await loadSae(path);
  } catch (error) {
    return error as ApiError;
  }
  throw new Error(`${path} loaded`);
}

function expectTyped(error: ApiError, code: string, file: RegExp, pattern: RegExp) {
  expect(error).toBeInstanceOf(ApiError);
  expect({ code: error.code, message: error.message }).toMatchObject({ code, message: expect.stringMatching(file) });
  expect(error.message).toMatch(pattern);
  expect(error.message).not.toContain(CANARY.slice(0, 9));
  expect(error.message.split('\n')).toHaveLength(1);
}

/** A SAELens folder whose cfg.json is `text` (or made by `make`). */
function saelens(name: string, text: string | Buffer | ((file: string) => void)): string {
  const dir = join(tmp.dir, name);
  cpSync(STANDARD, dir, { recursive: true });
  rmSync(join(dir, 'cfg.json'));
  if (typeof text === 'function') text(join(dir, 'cfg.json'));
  else writeFileSync(join(dir, 'cfg.json'), text);
  return dir;
}

const withCfg = (patch: Record<string, unknown>) => JSON.stringify({ ...cfg, ...patch });
const withMeta = (patch: Record<string, unknown>) => JSON.stringify({ ...cfg, metadata: { ...(cfg.metadata as object), ...patch } });

describe('SAELens cfg.json that is not a usable object of settings', () => {
  const cases: [string, string | Buffer | ((file: string) => void), string, RegExp][] = [
    ['null', 'null', 'WEIGHTS_INVALID', /cfg\.json is null, not a JSON object/],
    ['a list', `["${CANARY}"]`, 'WEIGHTS_INVALID', /cfg\.json is a list, not a JSON object/],
    ['a number', '12345', 'WEIGHTS_INVALID', /cfg\.json is a number, not a JSON object/],
    ['a string', JSON.stringify(CANARY), 'WEIGHTS_INVALID', /cfg\.json is a string, not a JSON object/],
    ['not JSON (its text must not be echoed)', `${CANARY} is the first line of a private file\n`, 'WEIGHTS_INVALID', /is not valid JSON \(/],
    ['cut short', '{"d_in": 64, "architecture": "stan', 'WEIGHTS_INVALID', /is not valid JSON \(at character \d+\)/],
    ['not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'WEIGHTS_INVALID', /is not valid UTF-8/],
    ['architecture of the wrong type', withCfg({ architecture: 5 }), 'WEIGHTS_INVALID', /"architecture" must be a string, found a number/],
    ['an unknown architecture (a long value is not echoed)', withCfg({ architecture: `${CANARY} `.repeat(10) }), 'WEIGHTS_INVALID', /architecture a value of \d+ characters is not supported/],
    ['d_in as a string', withCfg({ d_in: '64' }), 'WEIGHTS_INVALID', /"d_in" must be a positive integer below 2\^31, found a string/],
    ['d_sae huge', withCfg({ d_sae: 1e300 }), 'WEIGHTS_INVALID', /"d_sae" must be a positive integer/],
    ['d_sae negative', withCfg({ d_sae: -128 }), 'WEIGHTS_INVALID', /"d_sae" must be a positive integer/],
    ['topk without k', withCfg({ architecture: 'topk' }), 'WEIGHTS_INVALID', /a topk SAE needs a positive integer "k"/],
    ['topk with a fractional k', withCfg({ architecture: 'topk', k: 1.5 }), 'WEIGHTS_INVALID', /"k" must be a positive integer/],
    ['apply_b_dec_to_input as a string', withCfg({ apply_b_dec_to_input: 'yes' }), 'WEIGHTS_INVALID', /"apply_b_dec_to_input" must be true or false, found a string/],
    ['normalize_activations as an object', withCfg({ normalize_activations: { x: 1 } }), 'WEIGHTS_INVALID', /"normalize_activations" must be a string, found an object/],
    ['metadata as a list', withCfg({ metadata: [CANARY] }), 'WEIGHTS_INVALID', /"metadata" must be an object, found a list/],
    ['hook_name with a newline', withMeta({ hook_name: `blocks.1.hook_resid_post\n${CANARY}` }), 'WEIGHTS_INVALID', /hook_name is not a hook name/],
    ['hook_name as a number', withMeta({ hook_name: 7 }), 'WEIGHTS_INVALID', /metadata "hook_name" must be a string, found a number/],
    ['a FIFO named cfg.json', (file) => expect(spawnSync('mkfifo', [file]).status).toBe(0), 'WEIGHTS_INVALID', /cfg\.json: is a named pipe \(FIFO\)/],
    ['a folder named cfg.json', (file) => mkdirSync(file), 'WEIGHTS_NOT_FOUND', /cfg\.json: is a folder/],
  ];
  it.each(cases)('%s', async (_, text, code, pattern) => {
    expectTyped(await failure(saelens(`case-${cases.findIndex((c) => c[1] === text)}`, text)), code, /cfg\.json/, pattern);
  }, 10_000);

  it('the fixture itself, and null for optional keys, load (so each row fails for its own reason)', async () => {
    expect((await loadSae(saelens('good', JSON.stringify(cfg)))).hookName).toBe('blocks.1.hook_resid_post');
    const spec = await loadSae(saelens('nulls', withCfg({ normalize_activations: null, apply_b_dec_to_input: null })));
    expect([spec.normalize, spec.applyBDecToInput]).toEqual(['none', true]);
  });
});

describe("our SAE files' linguascope_sae metadata that is not an object", () => {
  const header = readSafetensorsHeader(join(STANDARD, 'sae_weights.safetensors'));
  const tensors = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: readTensorBytes(t) }));
  const ours = (name: string, metadata: string) => {
    const file = join(tmp.dir, `${name}.safetensors`);
    writeSafetensors(file, tensors, { [SAE_LINGUASCOPE_KEY]: metadata });
    return file;
  };
  it.each([
    ['"null"', 'null', /metadata 'linguascope_sae' is null, not a JSON object/],
    ['a list', `["${CANARY}"]`, /metadata 'linguascope_sae' is a list/],
    ['a number', '42', /metadata 'linguascope_sae' is a number/],
    ['not JSON', `${CANARY}{`, /metadata 'linguascope_sae' is not valid JSON/],
    ['hook_name with a newline', JSON.stringify({ ...cfg, hook_name: `blocks.1.hook_resid_post\n${CANARY}`, metadata: undefined }), /hook_name is not a hook name/],
  ])('%s', async (name, metadata, pattern) => {
    expectTyped(await failure(ours(name.replace(/\W/g, ''), metadata)), 'WEIGHTS_INVALID', /\.safetensors/, pattern);
  });
});

// The tokenizer worker: the same ids as the tokenizer run in place, and a hostile tokenizer.json
// (a pattern that backtracks catastrophically, an oversized file) fails alone with a typed error
// while this thread keeps running. Uses the built worker (out/main/tokenizer-worker.js; `npm test`
// builds first).
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { byteTokenizerFiles } from '../models/byte-tokenizer';
import { loadTokenizer, MAX_TOKENIZER_BYTES } from './tokenizer';
import { TokenizerHost } from './tokenizer-host';

const tmp = tempDir();
const LIMIT_MS = 1500;
const host = new TokenizerHost(LIMIT_MS);
afterAll(async () => {
  await host.close();
  tmp.cleanup();
});

/** A byte-level tokenizer folder; `pattern` adds a Split pre-tokenizer with that regex in front. */
function tokenizerFolder(name: string, pattern?: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const { tokenizer, config } = byteTokenizerFiles() as { tokenizer: Record<string, unknown>; config: object };
  if (pattern !== undefined) {
    tokenizer.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: pattern }, behavior: 'Isolated', invert: false }, tokenizer.pre_tokenizer] };
  }
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}

/** Runs `work` while measuring the longest gap between 10 ms timer ticks on this thread. */
async function longestStall<T>(work: Promise<T>): Promise<{ result: PromiseSettledResult<T>; stallMs: number; ms: number }> {
  let last = performance.now();
  let stallMs = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 10);
  const t0 = performance.now();
  const [result] = await Promise.allSettled([work]);
  clearInterval(tick);
  return { result, stallMs, ms: performance.now() - t0 };
}

describe('TokenizerHost', () => {
  it('gives the ids the tokenizer gives in place, the file info, and token texts', async () => {
    const dir = tokenizerFolder('plain');
    const texts = ['Hello, world', 'सभी मनुष्य', ''];
    const direct = loadTokenizer(dir);
    const { info, ids } = await host.encode(dir, texts, true);
    expect(ids).toEqual(texts.map((t) => direct.encode(t, true)));
    expect(info).toEqual(direct.info);
    expect(await host.inspect(dir)).toEqual(direct.info);
    const pieces = await host.pieces(dir, 'Hé!', true);
    expect(pieces.texts).toEqual(['<bos>', 'H', '', 'é', '!']);
  });

  it.each([
    ['(a+)+$', `${'a'.repeat(40)}b`],
    ['([\\s\\S]+)+\\x00', 'All human beings are born free and equal in dignity and rights.'],
  ])('stops a pattern that backtracks catastrophically (%s) at the limit with TOKENIZER_TIMEOUT; this thread never stalls', async (pattern, text) => {
    const dir = tokenizerFolder(`hostile-${pattern.length}`, pattern);
    const { result, stallMs, ms } = await longestStall(host.encode(dir, ['fine', text, 'never reached'], true));
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toMatchObject({
      code: 'TOKENIZER_TIMEOUT',
      message: expect.stringMatching(new RegExp(`^${join(dir, 'tokenizer.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: the tokenizer spent more than 1.5 s on text 2 of 3`)),
      details: { file: join(dir, 'tokenizer.json'), limitMs: LIMIT_MS, step: 'tokenizing' },
    });
    expect(ms).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(ms).toBeLessThan(LIMIT_MS + 3000);
    expect(stallMs).toBeLessThan(250);
    // The worker was replaced: the next request is served.
    const after = tokenizerFolder(`after-${pattern.length}`);
    expect((await host.encode(after, ['ok'], false)).ids).toEqual([loadTokenizer(after).encode('ok', false)]);
  });

  it('a cancelled request stops the worker at once; queued requests behind it still run', async () => {
    const hostile = tokenizerFolder('cancel', '(a+)+$');
    const controller = new AbortController();
    const stuck = host.encode(hostile, [`${'a'.repeat(40)}b`], false, controller.signal);
    const queued = host.inspect(tokenizerFolder('queued'));
    setTimeout(() => controller.abort(), 200);
    const t0 = performance.now();
    await expect(stuck).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect((await queued).modelType).toBe('BPE');
  });

  it('a normalizer that blows each character up to 1 MiB fails typed, and the next request is served', async () => {
    const dir = tokenizerFolder('bomb');
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    json.normalizer = { type: 'Replace', pattern: { String: 'a' }, content: 'b'.repeat(2 ** 20) };
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
    const { result, stallMs } = await longestStall(host.encode(dir, ['a'.repeat(2000)], false));
    // Whichever comes first: the string-length limit inside the worker, or the time limit.
    const reason = (result as PromiseRejectedResult).reason as { code: string; message: string };
    expect([reason.code, reason.message]).toEqual(expect.arrayContaining([expect.stringMatching(/^TOKENIZER_(UNREADABLE|TIMEOUT)$/), expect.stringMatching(/Invalid string length|spent more than 1.5 s/)]));
    expect(stallMs).toBeLessThan(250);
    expect((await host.inspect(tokenizerFolder('after-bomb'))).modelType).toBe('BPE');
  });

  it('refuses a tokenizer.json over the size limit without reading it', async () => {
    const dir = join(tmp.dir, 'huge');
    mkdirSync(dir);
    writeFileSync(join(dir, 'tokenizer.json'), '');
    truncateSync(join(dir, 'tokenizer.json'), MAX_TOKENIZER_BYTES + 1); // sparse: no disk used
    await expect(host.inspect(dir)).rejects.toMatchObject({ code: 'TOKENIZER_UNREADABLE', message: expect.stringContaining('may be at most 256 MiB') });
  });

  it('bad files keep their typed errors through the worker', async () => {
    const bad = join(tmp.dir, 'bad');
    mkdirSync(bad);
    writeFileSync(join(bad, 'tokenizer.json'), Buffer.from([0x7b, 0xff, 0x7d]));
    await expect(host.encode(bad, ['x'], false)).rejects.toMatchObject({ code: 'TOKENIZER_UNREADABLE', message: expect.stringContaining('not valid UTF-8') });
    await expect(host.inspect(join(tmp.dir, 'missing'))).rejects.toMatchObject({ code: 'TOKENIZER_NOT_FOUND' });
    expect(readFileSync(join(bad, 'tokenizer.json')).length).toBe(3);
  });
});

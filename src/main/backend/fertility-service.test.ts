// Which tokenizer fertility measures, through the whole RPC stack with real tokenizers (the demo
// model's own and the bundled Gemma one), a real SQLite file and the written files. Needs the
// tokenizer worker built (`npx electron-vite build`).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { createApi } from '../../shared/client';
import type { FertilityResult } from '../../shared/dto';
import { createTransportPair } from '../../shared/rpc';
import { bundledTokenizerDir } from '../io/tokenizer';
import { createBackend } from './backend';
import { serveConnection } from './server';
import { rejection } from '../../../test/helpers/rejection';

const DEMO_MODEL = resolve(import.meta.dirname, '..', '..', '..', 'resources', 'demo', 'model');
const tmp = tempDir();

/** sha256 of tokenizer.json then tokenizer_config.json, computed here from the files. */
function filesSha256(dir: string): string {
  return createHash('sha256')
    .update(readFileSync(join(dir, 'tokenizer.json')))
    .update('\0tokenizer_config\0')
    .update(readFileSync(join(dir, 'tokenizer_config.json')))
    .digest('hex');
}

describe("fertility measures the chosen model's tokenizer and says which", () => {
  const backend = createBackend({ dbPath: join(tmp.dir, 'fertility.db') });
  const [client, server] = createTransportPair();
  serveConnection(server, backend.handlers, backend.jobs);
  const api = createApi(client);
  const tokens = (r: FertilityResult, code: string) => r.rows.find((row) => row.language === code)!.tokens;
  const sets = () =>
    backend.db.prepare('SELECT tokenizer_sha256, corpus_code FROM fertility_sets ORDER BY tokenizer_sha256, corpus_code').all() as {
      tokenizer_sha256: string;
      corpus_code: string;
    }[];

  afterAll(async () => {
    api.dispose();
    await backend.close();
    tmp.cleanup();
  });

  it("uses the model folder's own tokenizer.json when a model is named", async () => {
    const result = await api.fertility.run({ languages: ['ru'], model: DEMO_MODEL });
    expect(result.tokenizerOrigin).toBe('model');
    expect(result.tokenizer.path).toBe(join(DEMO_MODEL, 'tokenizer.json'));
    expect(result.tokenizer.sha256).toBe(filesSha256(DEMO_MODEL));
    expect(result.tokenizerLabel).toBe(`the model's own tokenizer, ${join(DEMO_MODEL, 'tokenizer.json')} (sha256 ${filesSha256(DEMO_MODEL).slice(0, 12)})`);
    expect(result.computed).toEqual(['en', 'ru']);
  }, 60_000);

  it('keys the cache by the tokenizer hash: another tokenizer is counted anew, the same one is served', async () => {
    const model = await api.fertility.run({ languages: ['ru'], model: DEMO_MODEL });
    expect(model.fromCache).toEqual(['en', 'ru']);
    const bundled = await api.fertility.run({ languages: ['ru'] });
    expect(bundled.tokenizerOrigin).toBe('bundled');
    expect(bundled.tokenizer.sha256).toBe(filesSha256(bundledTokenizerDir()));
    expect(bundled.tokenizerLabel).toBe(`the bundled Gemma tokenizer, no model or tokenizer named (sha256 ${bundled.tokenizer.sha256.slice(0, 12)})`);
    expect(bundled.computed).toEqual(['en', 'ru']);
    expect(bundled.fromCache).toEqual([]);
    // Same corpus (segments, words, characters), counted by another tokenizer: every language's
    // token count differs (the demo's 4096-token BPE against Gemma's 256k vocabulary).
    const counts = (r: FertilityResult) => r.rows.map((row) => ({ language: row.language, segments: row.segments, words: row.words, characters: row.characters }));
    expect(counts(model)).toEqual(counts(bundled));
    for (const code of ['en', 'ru']) expect(tokens(model, code)).not.toBe(tokens(bundled, code));
    expect(new Set(sets().map((s) => s.tokenizer_sha256))).toEqual(new Set([model.tokenizer.sha256, bundled.tokenizer.sha256]));
    expect(sets()).toHaveLength(4);
    // The same tokenizer named as a folder on purpose is the same content: served from the cache.
    const named = await api.fertility.run({ languages: ['ru'], tokenizer: DEMO_MODEL });
    expect(named.tokenizerOrigin).toBe('tokenizer');
    expect(named.tokenizerLabel).toBe(`tokenizer ${join(DEMO_MODEL, 'tokenizer.json')} (sha256 ${model.tokenizer.sha256.slice(0, 12)})`);
    expect(named.fromCache).toEqual(['en', 'ru']);
    expect(named.rows).toEqual(model.rows);
  }, 60_000);

  it('takes language codes in any spelling', async () => {
    const result = await api.fertility.run({ languages: ['RU', ' ru', 'EN', 'rus'], model: DEMO_MODEL });
    expect(result.rows.map((r) => r.language)).toEqual(['en', 'ru']);
  });

  it('names the tokenizer on every CSV row and in the JSON file', async () => {
    const out = join(tmp.dir, 'out');
    const { result } = await api.fertility.export({ languages: ['ru', 'hi'], model: DEMO_MODEL, outDir: out });
    const [header, ...rows] = readFileSync(join(out, 'fertility.csv'), 'utf8').trim().split('\n');
    expect(header.split(',').slice(-3)).toEqual(['tokenizer_origin', 'tokenizer_path', 'tokenizer_sha256']);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.endsWith(`,model,${join(DEMO_MODEL, 'tokenizer.json')},${result.tokenizer.sha256}`)).toBe(true);
    const json = JSON.parse(readFileSync(join(out, 'fertility.json'), 'utf8')) as FertilityResult;
    expect(json).toMatchObject({ tokenizerOrigin: 'model', tokenizerLabel: result.tokenizerLabel, tokenizer: { sha256: result.tokenizer.sha256 } });
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain("the model&#39;s own tokenizer");
  }, 60_000);

  it('refuses an unclear or missing tokenizer with a typed error and stores nothing', async () => {
    const noTokenizer = join(tmp.dir, 'model-without-tokenizer');
    mkdirSync(noTokenizer);
    writeFileSync(join(noTokenizer, 'config.json'), '{}');
    const aFile = join(tmp.dir, 'a-file');
    writeFileSync(aFile, 'x');
    const before = JSON.stringify(sets());
    const cases: [Promise<unknown>, string, RegExp][] = [
      [api.fertility.run({ languages: ['ru'], model: DEMO_MODEL, tokenizer: DEMO_MODEL }), 'INVALID_ARGUMENT', /a model folder or a tokenizer, not both/],
      [api.fertility.run({ languages: ['ru'], model: noTokenizer }), 'TOKENIZER_NOT_FOUND', /model folder .* has no tokenizer\.json/],
      [api.fertility.run({ languages: ['ru'], model: join(tmp.dir, 'missing') }), 'TOKENIZER_NOT_FOUND', /model folder .* does not exist/],
      [api.fertility.run({ languages: ['ru'], model: aFile }), 'TOKENIZER_NOT_FOUND', /model folder .* is not a folder/],
      [api.fertility.export({ languages: ['ru'], model: noTokenizer, outDir: join(tmp.dir, 'never') }), 'TOKENIZER_NOT_FOUND', /has no tokenizer\.json/],
    ];
    for (const [promise, code, message] of cases) {
      const error = await rejection(promise);
      expect(error.code).toBe(code);
      expect(error.message).toMatch(message);
    }
    expect(JSON.stringify(sets())).toBe(before);
  });
});

// A tokenizer.json whose pattern backtracks catastrophically, through the real backend as the CLI
// and the harness run it (the backend in a worker thread, its tokenizers in their own worker):
// every job that tokenizes fails with TOKENIZER_TIMEOUT within the limit, and meanwhile another
// request on the same backend answers at once. Needs `npm run build` (npm test runs it first).
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackendWorker, type BackendWorker } from '../../src/main/backend/worker-host';
import { createApi, type Api } from '../../src/shared/client';
import { tempDir } from '../helpers/temp';

const LIMIT_MS = 2000;
const tmp = tempDir();
let worker: BackendWorker;
let api: Api & { dispose(): void };
const MODEL = join(tmp.dir, 'model');
const HOSTILE_MODEL = join(tmp.dir, 'hostile-model');
const SAES = join(tmp.dir, 'saes');

/** The model's tokenizer with a Split pre-tokenizer in front whose pattern never matches but
 * backtracks exponentially in the text's length: any UDHR paragraph takes longer than a lifetime. */
function hostileTokenizer(from: string): string {
  const json = JSON.parse(readFileSync(join(from, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
  json.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Split', pattern: { Regex: '([\\s\\S]+)+\\x00' }, behavior: 'Isolated', invert: false }, json.pre_tokenizer] };
  return JSON.stringify(json);
}

/** Runs `job` and, while it runs, asks languages.list every 100 ms; returns the job's outcome,
 * its duration and the slowest answer. */
async function whileAsking(job: Promise<unknown>): Promise<{ error: unknown; ms: number; slowestMs: number; answers: number }> {
  const t0 = performance.now();
  let settled = false;
  let error: unknown = null;
  const done = job.then(
    () => undefined,
    (e: unknown) => void (error = e),
  ).finally(() => (settled = true));
  let slowestMs = 0;
  let answers = 0;
  while (!settled) {
    const asked = performance.now();
    const languages = await api.languages.list({});
    expect(languages.length).toBeGreaterThan(5);
    slowestMs = Math.max(slowestMs, performance.now() - asked);
    answers++;
    await new Promise((r) => setTimeout(r, 100));
  }
  await done;
  return { error, ms: performance.now() - t0, slowestMs, answers };
}

beforeAll(async () => {
  process.env.LINGUASCOPE_TOKENIZER_LIMIT_MS = String(LIMIT_MS);
  worker = await startBackendWorker(join(tmp.dir, 'hostile.db'));
  delete process.env.LINGUASCOPE_TOKENIZER_LIMIT_MS;
  api = createApi(worker.open());
  await api.model.makeRandom({ arch: 'gemma2', preset: 'tiny', dtype: 'f32', out: MODEL, seed: 3 });
  await api.sae.makeRandom({ model: MODEL, width: 64, out: SAES, layers: [1], seed: 5 });
  // The same weights beside a hostile tokenizer.json.
  mkdirSync(HOSTILE_MODEL);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) copyFileSync(join(MODEL, f), join(HOSTILE_MODEL, f));
  writeFileSync(join(HOSTILE_MODEL, 'tokenizer.json'), hostileTokenizer(MODEL));
}, 120_000);

afterAll(async () => {
  api.dispose();
  await worker.terminate();
  tmp.cleanup();
});

describe('a catastrophically backtracking tokenizer', () => {
  const file = join(HOSTILE_MODEL, 'tokenizer.json');
  it.each([
    ['fertility.run', () => api.fertility.run({ languages: ['en', 'hi'], tokenizer: HOSTILE_MODEL })],
    ['fertility.export', () => api.fertility.export({ languages: ['en', 'hi'], tokenizer: HOSTILE_MODEL, outDir: join(tmp.dir, 'never-fertility') })],
    ['analysis.run', () => api.analysis.run({ model: HOSTILE_MODEL, saes: SAES, languages: ['en', 'hi'], limit: 2 })],
    ['model.activations', () => api.model.activations({ model: HOSTILE_MODEL, text: 'All human beings are born free and equal in dignity and rights.', layers: [1], out: join(tmp.dir, 'never.safetensors') })],
    ['analysis.tokens', () => api.analysis.tokens({ model: HOSTILE_MODEL, sae: join(SAES, 'blocks.1.hook_resid_post.safetensors'), text: 'All human beings are born free and equal in dignity and rights.' })],
    ['sae.makeRandom', () => api.sae.makeRandom({ model: HOSTILE_MODEL, width: 64, out: join(tmp.dir, 'never-saes'), layers: [1] })],
  ])('%s fails with TOKENIZER_TIMEOUT naming the file and the limit, while languages.list keeps answering', async (_, job) => {
    const { error, ms, slowestMs, answers } = await whileAsking(job());
    expect(error).toMatchObject({ code: 'TOKENIZER_TIMEOUT', message: expect.stringContaining(`${file}: the tokenizer spent more than 2 s`), details: { file, limitMs: LIMIT_MS } });
    expect(ms).toBeGreaterThanOrEqual(LIMIT_MS);
    expect(ms).toBeLessThan(LIMIT_MS + 8000);
    expect(answers).toBeGreaterThanOrEqual(5);
    expect(slowestMs).toBeLessThan(500);
  });

  it('the backend still tokenizes a good tokenizer afterwards, and nothing was written', async () => {
    const result = await api.model.activations({ model: MODEL, text: 'All human beings', layers: [1], out: join(tmp.dir, 'good.safetensors') });
    expect(result.tokens.length).toBeGreaterThan(5);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(tmp.dir).filter((e) => e.startsWith('never') || e.includes('linguascope-'))).toEqual([]);
  });
});

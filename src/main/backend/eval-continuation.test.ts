// eval.run's service on a continuation task folder (data/continuation-task.ts) with the bundled demo
// model: the real EvalService on a real SQLite file with the compute and tokenizer workers
// (`npx electron-vite build` first). The task is built from UDHR segments held out by the
// fine-tune's own split; every language's items are scored under task mc, in the task's order with
// the task's gold, and a second evaluation is read from the cache.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import type { EvalItemLine } from '../../shared/eval';
import { DATA_DEFAULTS } from '../../shared/finetune';
import { alignDocuments } from '../data/alignment';
import { buildContinuationTask, writeContinuationTask } from '../data/continuation-task';
import { PAPER_LANGUAGES } from '../data/languages';
import { loadUdhr } from '../data/udhr';
import { RuntimeHost } from '../engine/runtime-host';
import { TokenizerHost } from '../io/tokenizer-host';
import { openDatabase } from '../store/db';
import { EvalCacheRepo } from '../store/eval-cache-repo';
import { FileHashRepo } from '../store/file-hash-repo';
import { splitPairs } from '../train/finetune-data';
import { EvalService } from './eval-service';
import type { JobContext } from './handler';

const MODEL = resolve(import.meta.dirname, '..', '..', '..', 'resources', 'demo', 'model');
const LANGS = ['en', 'zh', 'hi', 'ml'];
const tmp = tempDir('linguascope-eval-continuation-');

describe('eval.run on a continuation task', () => {
  const db = openDatabase(join(tmp.dir, 'eval.db'));
  const runtime = new RuntimeHost();
  const tokenizers = new TokenizerHost();
  const service = new EvalService(runtime, tokenizers, new EvalCacheRepo(db), new FileHashRepo(db));
  const ctx: JobContext = { jobId: 'continuation', signal: new AbortController().signal, progress: () => {}, log: () => {} };

  afterAll(async () => {
    await runtime.close();
    await tokenizers.close();
    db.close();
    tmp.cleanup();
  });

  it('scores every language of the task under task mc, item for item, and reads a repeat from the cache', async () => {
    const langs = PAPER_LANGUAGES.filter((l) => LANGS.includes(l.code));
    const segments = alignDocuments(Object.fromEntries(langs.map((l) => [l.code, loadUdhr(l.corpusCode)]))).segments.map((s) => ({ key: s.key, text: Object.fromEntries(LANGS.map((c) => [c, s.paragraphs[c].join('\n')])) }));
    const tokenized = segments.map((s) => ({ key: s.key, tokens: Object.fromEntries(LANGS.map((c) => [c, [2, 3]])) }));
    const split = splitPairs(tokenized, LANGS.slice(1), { ...DATA_DEFAULTS, heldOut: 0.3 });
    const task = buildContinuationTask(segments, split.heldOut.map((i) => segments[i].key), LANGS, 0, { maxItems: 6 });
    const data = writeContinuationTask(join(tmp.dir, 'task'), task).dir;

    const outDir = join(tmp.dir, 'eval');
    const result = await service.run({ model: MODEL, data, task: 'mc', outDir }, ctx);
    // One result per language (in folder order), each over the task's six items.
    expect(result.results.map((r) => [r.task, r.language, r.n])).toEqual([...LANGS].sort().map((l) => ['mc', l, 6]));
    for (const r of result.results) {
      expect(r.before.acc).toBeGreaterThanOrEqual(0);
      expect(r.before.acc).toBeLessThanOrEqual(1);
    }
    const lines = readFileSync(join(outDir, 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalItemLine);
    for (const lang of LANGS) {
      const mine = lines.filter((l) => l.language === lang);
      expect(mine.map((l) => l.doc_id)).toEqual(task.items.map((i) => i.docId));
      expect(mine.map((l) => l.gold)).toEqual(task.items.map((i) => i.gold));
      for (const l of mine) {
        expect(l.loglikelihoods.length).toBe(4);
        expect(l.loglikelihoods.every((x) => Number.isFinite(x) && x < 0)).toBe(true);
      }
      // acc is the share of items whose highest log-likelihood is the gold choice.
      const acc = mine.filter((l) => l.loglikelihoods.indexOf(Math.max(...l.loglikelihoods)) === l.gold).length / mine.length;
      expect(result.results.find((r) => r.language === lang)!.before.acc).toBeCloseTo(acc, 12);
    }
    expect(result.cache).toEqual({ items: 24, cached: 0, scored: 24 });
    const again = await service.run({ model: MODEL, data, task: 'mc' }, ctx);
    expect(again.cache).toEqual({ items: 24, cached: 24, scored: 0 });
    expect(again.results).toEqual(result.results);
  }, 180_000);
});

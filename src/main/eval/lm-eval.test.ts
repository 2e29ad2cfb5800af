// Multiple-choice scoring against EleutherAI's lm-evaluation-harness (scripts/reference/
// make_eval_fixtures.py: lm_eval with `--model hf`, float32, on the demo Gemma-2 and a tiny random
// Llama, over small task files in the alexandrainst JSONL layout, parquet and the generic format).
// For every item and choice the fixture holds the harness's prompt, the token ids its _encode_pair
// gave, the log-likelihood, is_greedy and acc/acc_norm. Ours: the same prompt text (preset
// lm-eval Okapi), the same ids through our tokenizer worker, log-likelihoods within 1e-4 and every
// acc / acc_norm decision equal; the per-task figures equal the harness's summary. Measured (Intel
// Xeon, AVX-512): log-likelihoods within 8.4e-7 (demo Gemma-2, BPE demo) and 1.5e-7 (Llama) relative.
// Needs the built workers (`npx electron-vite build`).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readMcData } from '../data/mc/read';
import { RuntimeHost } from '../engine/runtime-host';
import { TokenizerHost } from '../io/tokenizer-host';
import { openModelFolder } from '../models/model';
import { encodePairs, encodePairsSeparately } from './encode-pairs';
import { LoglikScorer } from './loglikelihood';
import { decide, mean, meanStderr } from './metrics';
import { planLmEval, planOriginal } from './plan';
import { TARGET_DELIMITER } from './prompts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EVAL = join(ROOT, 'test', 'fixtures', 'eval');
const REF = join(EVAL, 'reference');
const MODELS: Record<string, string> = { 'gemma2-demo': join(ROOT, 'resources', 'demo', 'model'), llama: join(ROOT, 'test', 'fixtures', 'eval', 'models', 'llama') };

interface RefLine {
  task: 'arc' | 'hellaswag' | 'mmlu' | 'mc';
  language: string;
  source: string;
  doc_id: number;
  context: string;
  continuations: string[];
  context_ids: number[][];
  continuation_ids: number[][];
  loglikelihoods: number[];
  is_greedy: boolean[];
  gold: number;
  acc: number;
  acc_norm?: number;
}

const lines = (file: string): RefLine[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RefLine);

const runtime = new RuntimeHost();
const tokenizers = new TokenizerHost();
afterAll(async () => {
  await tokenizers.close();
  await runtime.close();
});

const PRESETS = ['lm-eval-okapi', 'okapi-original'] as const;
const CASES = Object.keys(MODELS).flatMap((model) => PRESETS.map((preset) => [model, preset] as const));

/** The dataset folder a fixture source belongs to (data/<layout>/<dataset>, or data/mc). */
const datasetOf = (source: string) => {
  const parts = source.split('/');
  return resolve(EVAL, parts[1] === 'mc' ? 'data/mc' : parts.slice(0, 3).join('/'));
};

describe.each(CASES)('%s, preset %s, vs the reference harness', (model, preset) => {
  const file = join(REF, model, `${preset}.jsonl`);
  const ref = existsSync(file) ? lines(file) : [];
  const folder = openModelFolder(MODELS[model]);

  it('has the reference', () => {
    expect(ref.length).toBeGreaterThan(10);
  });

  it('plans the same items with the same prompts (few-shot examples and their draws included)', async () => {
    const summary = JSON.parse(readFileSync(join(REF, model, `${preset}.summary.json`), 'utf8')) as { num_fewshot?: Record<string, number> };
    const planned = new Map<string, { source: string; docId: number; prompt: { context: string; choices: string[]; gold: number } }>();
    for (const dataset of new Set(ref.map((r) => datasetOf(r.source)))) {
      const data = await readMcData(dataset, {});
      const plan = preset === 'lm-eval-okapi' ? planLmEval(data.items, undefined, 0) : planOriginal(data.items, undefined, summary.num_fewshot?.arc);
      plan.items.forEach((item, i) => planned.set(`${item.source}#${item.docId}`, { source: item.source, docId: item.docId, prompt: plan.prompts[i] }));
    }
    for (const r of ref) {
      const got = planned.get(`${resolve(EVAL, r.source)}#${r.doc_id}`);
      expect(got, `${r.source} doc ${r.doc_id}`).toBeDefined();
      expect(got!.prompt.context).toBe(r.context);
      expect(got!.prompt.choices.map((c) => `${TARGET_DELIMITER}${c}`)).toEqual(r.continuations);
      expect(got!.prompt.gold).toBe(r.gold);
    }
  }, 60_000);

  it('encodes every pair to the harness ids, scores them within 1e-4 and decides acc/acc_norm alike', async () => {
    const pairs = ref.flatMap((r) => r.continuations.map((continuation) => ({ context: r.context, continuation })));
    const requests = preset === 'lm-eval-okapi' ? await encodePairs(tokenizers, folder.path, folder.config, pairs) : await encodePairsSeparately(tokenizers, folder.path, pairs);
    let at = 0;
    for (const r of ref) {
      r.continuations.forEach((_, c) => {
        expect(requests[at + c].context, `${r.source} doc ${r.doc_id} choice ${c} context`).toEqual(r.context_ids[c]);
        expect(requests[at + c].continuation, `${r.source} doc ${r.doc_id} choice ${c} continuation`).toEqual(r.continuation_ids[c]);
      });
      at += r.continuations.length;
    }
    const scorer = await LoglikScorer.load(folder, runtime);
    try {
      const scored = await scorer.score(requests);
      at = 0;
      let worst = 0;
      for (const r of ref) {
        const lls = scored.slice(at, at + r.continuations.length);
        at += r.continuations.length;
        lls.forEach((s, c) => {
          worst = Math.max(worst, Math.abs(s.loglikelihood - r.loglikelihoods[c]) / Math.max(1, Math.abs(r.loglikelihoods[c])));
          expect(s.isGreedy).toBe(r.is_greedy[c]);
        });
        const choices = r.continuations.map((c) => c.slice(TARGET_DELIMITER.length));
        // The decision on our numbers equals the harness's; so does the decision on its numbers.
        const d = decide(lls.map((s) => s.loglikelihood), choices, r.gold);
        expect(d.acc).toBe(r.acc);
        if (r.acc_norm !== undefined) expect(d.accNorm).toBe(r.acc_norm);
      }
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await scorer.release();
    }
  }, 120_000);

  it('reports the harness summary: acc, acc_norm and their standard errors per task and language', () => {
    const summary = JSON.parse(readFileSync(join(REF, model, `${preset}.summary.json`), 'utf8')) as { tasks: Record<string, { source: string; acc: number; acc_stderr: number; acc_norm?: number; acc_norm_stderr?: number; n: number }> };
    // One harness task per data file (the parquet copies are tasks of their own).
    const groups = new Map<string, RefLine[]>();
    for (const r of ref) groups.set(r.source, [...(groups.get(r.source) ?? []), r]);
    const bySource = new Map(Object.values(summary.tasks).map((t) => [t.source, t]));
    expect([...groups.keys()].sort()).toEqual([...bySource.keys()].sort());
    for (const [source, group] of groups) {
      const harness = bySource.get(source)!;
      expect(group.length).toBe(harness.n);
      const acc = group.map((r) => r.acc);
      expect(mean(acc)).toBeCloseTo(harness.acc, 12);
      expect(meanStderr(acc)).toBeCloseTo(harness.acc_stderr, 12);
      if (harness.acc_norm !== undefined) {
        const norm = group.map((r) => r.acc_norm!);
        expect(mean(norm)).toBeCloseTo(harness.acc_norm, 12);
        expect(meanStderr(norm)).toBeCloseTo(harness.acc_norm_stderr!, 12);
      }
    }
  });
});

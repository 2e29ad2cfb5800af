// Multiple-choice evaluation (ARC, HellaSwag, MMLU, generic) scored as lm-evaluation-harness
// scores it: items from the user's files (data/mc), prompts per preset (eval/prompts.ts), pairs
// encoded the harness's way (eval/encode-pairs.ts), log-likelihoods on the engine
// (eval/loglikelihood.ts), acc / acc_norm / stderr (eval/metrics.ts). With an adapter the base
// and the adapted model are both scored, with the paired difference per task and language.
// Every item's log-likelihoods are cached (store/eval-cache-repo.ts) batch by batch: a killed
// evaluation resumes, a repeated one is instant.
import { basename } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { EvalItemLine, EvalRequest, EvalResult, EvalScores, EvalTaskResult } from '../../shared/eval';
import { readMcData, type McItem } from '../data/mc/read';
import type { RuntimeHost } from '../engine/runtime-host';
import { encodePairs, encodePairsSeparately, type TextPair } from '../eval/encode-pairs';
import { LoglikScorer, type LoglikRequest } from '../eval/loglikelihood';
import { decide, mean, meanStderr, pairedDifference } from '../eval/metrics';
import { planLmEval, planOriginal } from '../eval/plan';
import { OKAPI_ORIGINAL_FEWSHOT, TARGET_DELIMITER, type EvalPreset, type Prompt } from '../eval/prompts';
import { checkOutputFolder, writeOutputFolder } from '../io/output';
import { openPeftAdapter, type PeftAdapter } from '../io/peft-adapter';
import type { TokenizerHost } from '../io/tokenizer-host';
import { openModelFolder, type ModelFolder } from '../models/model';
import type { CachedChoice, EvalCacheRepo } from '../store/eval-cache-repo';
import type { FileHashRepo } from '../store/file-hash-repo';
import { digest, hashFiles, modelFingerprint, modelFingerprintFiles } from './fingerprints';
import type { JobContext } from './handler';


interface Scored {
  item: McItem;
  prompt: Prompt;
  base: CachedChoice[];
  adapted?: CachedChoice[];
}

export class EvalService {
  constructor(
    private readonly runtime: RuntimeHost,
    private readonly tokenizers: TokenizerHost,
    private readonly cache: EvalCacheRepo,
    private readonly fileHashes: FileHashRepo,
  ) {}

  async run(request: EvalRequest, ctx: JobContext): Promise<EvalResult> {
    const started = performance.now();
    const preset: EvalPreset = request.preset ?? 'lm-eval-okapi';
    const fewshot = request.fewshot ?? 0;
    const folder = openModelFolder(request.model);
    if (!folder.info.tokenizer) throw new ApiError('TOKENIZER_NOT_FOUND', `${folder.path} has no tokenizer.json; items are tokenized with the model's tokenizer`, { file: folder.path });
    const adapter = request.adapter !== undefined ? openPeftAdapter(request.adapter, folder.config) : undefined;
    const outDir = request.outDir !== undefined ? checkOutputFolder(request.outDir) : undefined;
    ctx.progress('reading the task files', 0, 1);
    const data = await readMcData(request.data, { task: request.task, languages: request.languages });
    const { items: limited, prompts } = preset === 'lm-eval-okapi' ? planLmEval(data.items, request.limit, fewshot) : planOriginal(data.items, request.limit, request.fewshot);
    if (limited.length === 0) {
      const have = [...new Set(data.items.map((i) => `${i.task}/${i.split}`))].join(', ');
      throw new ApiError('INVALID_ARGUMENT', `no item to score: the preset scores arc and mmlu on their test split and hellaswag on its validation split; the files hold ${have || 'nothing'}`, { path: request.data });
    }
    prompts.forEach((p, i) => {
      if (!Number.isInteger(p.gold) || p.gold < 0 || p.gold >= p.choices.length) throw new ApiError('INVALID_ARGUMENT', `${limited[i].source} line ${limited[i].line}: the gold index ${p.gold} is outside the ${p.choices.length} choices`, { file: limited[i].source, line: limited[i].line });
      if (p.choices.some((c) => c.length === 0)) throw new ApiError('INVALID_ARGUMENT', `${limited[i].source} line ${limited[i].line}: a choice is empty after the preset's preprocessing`, { file: limited[i].source, line: limited[i].line });
    });
    const files = new Map(data.files.map((f) => [f.path, f]));
    const of = await hashFiles(this.fileHashes, modelFingerprintFiles(folder), ctx);
    // The shots each task ran with (what the cache key and the result name).
    const shots = (task: McItem['task']) => (preset === 'lm-eval-okapi' ? fewshot : task === 'arc' || task === 'mmlu' ? (request.fewshot ?? OKAPI_ORIGINAL_FEWSHOT[task]) : 0);
    const keyOf = (fp: string) => (item: McItem) => digest([fp, files.get(item.source)!.sha256, preset, String(shots(item.task)), item.task, item.language, item.split, String(item.docId)]);
    const encode = (pairs: TextPair[]) => (preset === 'lm-eval-okapi' ? encodePairs(this.tokenizers, folder.path, folder.config, pairs, ctx.signal) : encodePairsSeparately(this.tokenizers, folder.path, pairs, ctx.signal));
    const base = await this.scoreModel(folder, undefined, limited, prompts, keyOf(modelFingerprint(folder, of)), encode, 'scoring the base model', ctx);
    const adapted = adapter ? await this.scoreModel(folder, adapter, limited, prompts, keyOf(modelFingerprint(folder, of, adapter)), encode, 'scoring with the adapter', ctx) : undefined;
    const scored: Scored[] = limited.map((item, i) => ({ item, prompt: prompts[i], base: base.choices[i], adapted: adapted?.choices[i] }));
    const result: EvalResult = {
      model: folder.path,
      adapter: adapter ? adapter.path : null,
      data: request.data,
      preset,
      fewshot,
      fewshotPerTask: Object.fromEntries([...new Set(limited.map((i) => i.task))].map((t) => [t, shots(t)])),
      presetNote: PRESET_NOTES[preset],
      results: taskResults(scored, request.bootstrap ?? 1000, request.seed ?? 0),
      files: data.files.map((f) => ({ path: f.path, sha256: f.sha256, format: f.format, task: f.task, language: f.language, split: f.split, rows: f.rows })),
      cache: { items: scored.length, cached: base.cached + (adapted?.cached ?? 0), scored: base.scored + (adapted?.scored ?? 0) },
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      outDir: outDir ?? null,
    };
    if (outDir) {
      ctx.progress('writing the results', 0, 1);
      const items = scored.map((s) => JSON.stringify(itemLine(s))).join('\n');
      writeOutputFolder(outDir, 'evaluation', [
        { name: 'results.json', content: `${JSON.stringify(result, null, 2)}\n` },
        { name: 'items.jsonl', content: items ? `${items}\n` : '' },
      ]);
      ctx.progress('writing the results', 1, 1);
    }
    return result;
  }

  /** Every item's per-choice log-likelihoods under one model: from the cache, the rest scored in
   * batches of items committed one by one. */
  private async scoreModel(folder: ModelFolder, adapter: PeftAdapter | undefined, items: McItem[], prompts: Prompt[], key: (item: McItem) => string, encode: (pairs: TextPair[]) => Promise<LoglikRequest[]>, stage: string, ctx: JobContext) {
    const keys = items.map(key);
    const cached = this.cache.getMany(keys);
    const missing = items.map((_, i) => i).filter((i) => !cached.has(keys[i]) || cached.get(keys[i])!.length !== prompts[i].choices.length);
    const choices: CachedChoice[][] = keys.map((k) => cached.get(k) ?? []);
    if (missing.length) {
      const scorer = await LoglikScorer.load(folder, this.runtime, adapter, ctx.signal);
      try {
        const CHUNK = 32;
        for (let start = 0; start < missing.length; start += CHUNK) {
          ctx.progress(stage, start, missing.length);
          const part = missing.slice(start, start + CHUNK);
          const pairs = part.flatMap((i) => prompts[i].choices.map((c) => ({ context: prompts[i].context, continuation: `${TARGET_DELIMITER}${c}` })));
          const requests = await encode(pairs);
          const results = await scorer.score(requests, ctx.signal);
          let at = 0;
          const rows = part.map((i) => {
            const n = prompts[i].choices.length;
            choices[i] = results.slice(at, at + n);
            at += n;
            return { key: keys[i], choices: choices[i] };
          });
          this.cache.putMany(rows);
        }
        ctx.progress(stage, missing.length, missing.length);
      } finally {
        await scorer.release();
      }
    }
    return { choices, cached: items.length - missing.length, scored: missing.length };
  }
}

export const PRESET_NOTES: Record<EvalPreset, string> = {
  'lm-eval-okapi':
    "lm-eval-okapi: lm-evaluation-harness's Okapi tasks arc_{lang} (test split), hellaswag_{lang} (val split) and m_mmlu_{lang} (test split, scored on the letters A-D), 0-shot unless few-shot is asked (first n of the train split); English ARC and HellaSwag are other datasets in the harness (ai2_arc, hellaswag) and it has no Chinese HellaSwag",
  'okapi-original':
    "okapi-original: the Okapi authors' harness fork (nlp-uoregon/mlmm-evaluation): ARC 25-shot from train, MMLU 25-shot from validation scored on the choice texts, HellaSwag 0-shot; documents shuffled and few-shot examples drawn with Python's random.Random(42) as its evaluator does; context and continuation tokenized separately without BOS",
};



function scoresOf(lls: CachedChoice[][], scored: Scored[]): { acc: number[]; accNorm: number[]; decisions: ReturnType<typeof decide>[] } {
  const decisions = scored.map((s, i) => decide(lls[i].map((c) => c.loglikelihood), s.prompt.choices, s.prompt.gold));
  return { acc: decisions.map((d) => d.acc), accNorm: decisions.map((d) => d.accNorm), decisions };
}

const summary = (acc: number[], accNorm: number[]): EvalScores => ({ acc: mean(acc), acc_stderr: meanStderr(acc), acc_norm: mean(accNorm), acc_norm_stderr: meanStderr(accNorm) });

function taskResults(scored: Scored[], bootstrap: number, seed: number): EvalTaskResult[] {
  const groups = new Map<string, Scored[]>();
  for (const s of scored) {
    const k = `${s.item.task}\u0000${s.item.language}`;
    groups.set(k, [...(groups.get(k) ?? []), s]);
  }
  return [...groups.values()].map((group, gi) => {
    const { task, language } = group[0].item;
    const before = scoresOf(group.map((s) => s.base), group);
    const out: EvalTaskResult = { task, language, n: group.length, before: summary(before.acc, before.accNorm) };
    if (group[0].adapted) {
      const after = scoresOf(group.map((s) => s.adapted!), group);
      out.after = summary(after.acc, after.accNorm);
      out.difference = {
        acc: pairedDifference(before.acc, after.acc, bootstrap, seed + 2 * gi),
        acc_norm: pairedDifference(before.accNorm, after.accNorm, bootstrap, seed + 2 * gi + 1),
      };
    }
    return out;
  });
}

function itemLine(s: Scored): EvalItemLine {
  const lls = s.base.map((c) => c.loglikelihood);
  const d = decide(lls, s.prompt.choices, s.prompt.gold);
  const line: EvalItemLine = {
    task: s.item.task,
    language: s.item.language,
    doc_id: s.item.docId,
    source: basename(s.item.source),
    loglikelihoods: lls,
    is_greedy: s.base.map((c) => c.isGreedy),
    lengths: s.prompt.choices.map((c) => [...c].length),
    gold: s.prompt.gold,
    pred: d.pred,
    pred_norm: d.predNorm,
  };
  if (s.adapted) {
    const after = s.adapted.map((c) => c.loglikelihood);
    const a = decide(after, s.prompt.choices, s.prompt.gold);
    line.after = { loglikelihoods: after, is_greedy: s.adapted.map((c) => c.isGreedy), pred: a.pred, pred_norm: a.predNorm };
  }
  return line;
}

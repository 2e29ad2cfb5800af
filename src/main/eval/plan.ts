// Which items a preset scores, in which order, with which prompt (few-shot examples included).
import { ApiError } from '../../shared/errors';
import type { McItem } from '../data/mc/read';
import { lmEvalOkapiDoc, OKAPI_ORIGINAL_FEWSHOT, okapiOriginalDoc, withFewshot, type Prompt } from './prompts';
import { PyRandom } from './py-random';

/** The split each task is scored on, per preset (the harness's task configs). */
const EVAL_SPLITS: Record<McItem['task'], string[] | null> = { arc: ['test'], hellaswag: ['val', 'validation'], mmlu: ['test'], mc: null };
const FEWSHOT_SPLITS: Record<McItem['task'], string[]> = { arc: ['train'], hellaswag: ['train'], mmlu: ['train', 'dev'], mc: ['train'] };

/** The harness's --limit: the first N items of each (task, language). */
function limitPerGroup(items: McItem[], limit: number): McItem[] {
  const seen = new Map<string, number>();
  return items.filter((it) => {
    const k = `${it.task}/${it.language}`;
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    return n < limit;
  });
}

/** First-n few-shot examples from the task's train split of the same language (MMLU's sampler). */
function fewshotFor(item: McItem, all: readonly McItem[], n: number): Prompt[] {
  if (n === 0) return [];
  const pool = all.filter((o) => o.task === item.task && o.language === item.language && FEWSHOT_SPLITS[item.task].includes(o.split));
  if (pool.length < n) throw new ApiError('INVALID_ARGUMENT', `${n}-shot ${item.task} in ${item.language} needs ${n} examples in a train split; the files hold ${pool.length}`, { setting: 'fewshot' });
  return pool.slice(0, n).map((o) => lmEvalOkapiDoc(o));
}

/** Prompt building with the item named in the error. */
function built(item: McItem, make: () => Prompt): Prompt {
  try {
    return make();
  } catch (error) {
    if (error instanceof ApiError) throw new ApiError(error.code, `${item.source}${item.line !== null ? ` line ${item.line}` : ''}: ${error.message}`, { file: item.source, line: item.line, ...error.details });
    throw error;
  }
}

/** lm-eval Okapi: the task's evaluation split in file order, the first N per task and language. */
export function planLmEval(all: McItem[], limit: number | undefined, fewshot: number): { items: McItem[]; prompts: Prompt[] } {
  const scored = all.filter((it) => EVAL_SPLITS[it.task] === null || EVAL_SPLITS[it.task]!.includes(it.split));
  const items = limit === undefined ? scored : limitPerGroup(scored, limit);
  return { items, prompts: items.map((item) => built(item, () => withFewshot(lmEvalOkapiDoc(item), fewshotFor(item, all, fewshot)))) };
}

/** The original Okapi evaluator: per task, the evaluation split shuffled by random.Random(42); in
 * that order (the first N with a limit) each document's few-shot examples are drawn from the same
 * generator — ARC: sample(train, k); MMLU: sample(validation, k + 1) without the document itself,
 * first k; HellaSwag and generic files 0-shot. */
export function planOriginal(all: McItem[], limit: number | undefined, fewshot: number | undefined): { items: McItem[]; prompts: Prompt[] } {
  const groups = new Map<string, McItem[]>();
  for (const it of all) {
    const splits = it.task === 'hellaswag' ? ['validation', 'val'] : EVAL_SPLITS[it.task];
    if (splits !== null && !splits.includes(it.split)) continue;
    const key = `${it.task}\u0000${it.language}`;
    groups.set(key, [...(groups.get(key) ?? []), it]);
  }
  const items: McItem[] = [];
  const prompts: Prompt[] = [];
  for (const docs of groups.values()) {
    const { task, language } = docs[0];
    const k = task === 'arc' || task === 'mmlu' ? (fewshot ?? OKAPI_ORIGINAL_FEWSHOT[task]) : 0;
    const poolSplits = task === 'arc' ? ['train'] : ['validation', 'val'];
    const pool = k > 0 ? all.filter((o) => o.task === task && o.language === language && poolSplits.includes(o.split)).map((o) => built(o, () => okapiOriginalDoc(o))) : [];
    if (k > 0 && pool.length < (task === 'mmlu' ? k + 1 : k)) throw new ApiError('INVALID_ARGUMENT', `${k}-shot ${task} in ${language} (okapi-original) draws from the ${poolSplits[0]} split, which holds ${pool.length} items`, { setting: 'fewshot' });
    const rnd = new PyRandom(42);
    const order = rnd.shuffle([...docs]);
    for (const item of limit === undefined ? order : order.slice(0, limit)) {
      const doc = built(item, () => okapiOriginalDoc(item));
      let shots: Prompt[] = [];
      if (k > 0 && task === 'arc') shots = rnd.sample(pool, k);
      if (k > 0 && task === 'mmlu') shots = rnd.sample(pool, k + 1).filter((x) => !samePrompt(x, doc)).slice(0, k);
      items.push(item);
      prompts.push(withFewshot(doc, shots));
    }
  }
  return { items, prompts };
}

/** The fork compares processed documents by value. */
const samePrompt = (a: Prompt, b: Prompt) => a.context === b.context && a.gold === b.gold && a.choices.length === b.choices.length && a.choices.every((c, i) => c === b.choices[i]);


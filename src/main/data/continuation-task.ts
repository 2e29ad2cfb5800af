// The continuation task: a multiple-choice evaluation built from the held-out aligned segments of a
// fine-tune (FinetuneResult.config.split.heldOutSegments — the segments it never trained on, in any
// language). Each item shows the first part of a held-out paragraph and asks which of `choices`
// texts continues it: its own second part, or the second parts of other held-out paragraphs.
// Items are parallel across languages — the same segments, the same distractor segments in the same
// positions, the same gold index in every language — so per-language accuracies differ only by the
// language. A segment that cannot be cut in some language (continuation-cut.ts) is left out in all.
// The folder written is the generic format the evaluation reads (data/mc): data/{lang}/test.jsonl
// with rows {context, choices, gold} (task `mc`), plus continuation-task.json describing the build.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { mulberry32 } from '../../shared/random';
import { stageOutputFolder, writeError, writeFileSynced } from '../io/output';
import { cutParagraph, CUT_RULE, type CutKind, type CutRefusal, type ParagraphCut } from './continuation-cut';
import { canonicalTag } from './languages-code';
import { MC_LIMITS } from './mc/limits';
import { locate } from './mc/location';

/** One aligned segment: its key and its text per language (as AnalysisService.prepare gives them). */
export interface AlignedText {
  key: string;
  text: Readonly<Record<string, string>>;
}

export interface ContinuationOptions {
  /** Choices per item (the true continuation and choices − 1 distractors); 2..16, default 4. */
  choices?: number;
  /** Letters, marks or digits each of context and continuation needs; 1..1000, default 4. */
  minPartChars?: number;
  /** Longest paragraph cut, in code points; 8..10000, default 1200 (longer ones are skipped). */
  maxChars?: number;
  /** Where the cut may fall, as fractions of the paragraph; 0 < lo <= 0.5 <= hi < 1, default [0.25, 0.75]. */
  window?: readonly [number, number];
  /** Most items kept (a seeded sample of the usable segments beyond it); 1..100000, default 1000. */
  maxItems?: number;
}

export type ContinuationSettings = Required<ContinuationOptions>;

export const CONTINUATION_DEFAULTS: ContinuationSettings = { choices: 4, minPartChars: 4, maxChars: 1200, window: [0.25, 0.75], maxItems: 1000 };

/** One item, the same in every language. */
export interface ContinuationItem {
  /** 0-based position in every language's test.jsonl (the reader's doc_id). */
  docId: number;
  /** The held-out segment whose paragraph gives the context and the true continuation. */
  segment: string;
  /** The segment whose continuation stands at each choice position; [gold] === segment. */
  choiceSegments: string[];
  gold: number;
}

/** One row of data/{lang}/test.jsonl: the generic fields plus where each text came from. */
export interface ContinuationRow {
  context: string;
  choices: string[];
  gold: number;
  segment: string;
  choice_segments: string[];
}

export interface SkippedSegment {
  segment: string;
  /** The first language (in the order given) where the paragraph could not be used; null when the
   * reason is not one language's (too few distinct distractors, over maxItems). */
  language: string | null;
  reason: string;
}

export interface ContinuationTask {
  seed: number;
  settings: ContinuationSettings;
  /** Canonical tags, in the order given: the folder names under data/. */
  languages: string[];
  /** The code each language's texts are keyed by in the segments (as given). */
  textKeys: Record<string, string>;
  /** The held-out segment keys, in corpus order. */
  heldOut: string[];
  /** Held-out segments cut in every language (before maxItems and the distractor check). */
  usable: number;
  items: ContinuationItem[];
  /** Per language (canonical tag): one row per item, in item order. */
  rows: Record<string, ContinuationRow[]>;
  /** Per language: how many items were cut at a clause, word or character boundary. */
  cutKinds: Record<string, Record<CutKind, number>>;
  /** Items whose gold is each position (differ by at most one). */
  goldCounts: number[];
  skipped: SkippedSegment[];
}

const bad = (message: string, details: Record<string, unknown> = {}) => new ApiError('INVALID_ARGUMENT', message, details);
const shown = (s: string) => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

function intIn(value: unknown, name: string, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) throw bad(`${name} must be a whole number in ${lo}..${hi}; got ${String(value).slice(0, 20)}`, { setting: name });
  return value;
}

export function continuationSettings(options: ContinuationOptions = {}): ContinuationSettings {
  const o = { ...CONTINUATION_DEFAULTS, ...Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined)) } as ContinuationSettings;
  const choices = intIn(o.choices, 'choices', 2, 16);
  const minPartChars = intIn(o.minPartChars, 'minPartChars', 1, 1000);
  const maxChars = intIn(o.maxChars, 'maxChars', Math.max(8, 2 * minPartChars), 10_000);
  const maxItems = intIn(o.maxItems, 'maxItems', 1, 100_000);
  const w = o.window;
  if (!Array.isArray(w) || w.length !== 2 || !w.every((x) => typeof x === 'number' && Number.isFinite(x)) || !(w[0] > 0 && w[0] <= 0.5 && w[1] >= 0.5 && w[1] < 1)) {
    throw bad(`window must be two fractions lo, hi with 0 < lo <= 0.5 <= hi < 1; got ${JSON.stringify(w)?.slice(0, 40)}`, { setting: 'window' });
  }
  return { choices, minPartChars, maxChars, maxItems, window: [w[0], w[1]] };
}

/** Canonical folder names, refused when the evaluation's reader would not read them back as that
 * language (a split name such as `dev`, or two codes for one language). */
function taskLanguages(languages: readonly string[]): { tags: string[]; textKeys: Record<string, string> } {
  if (!Array.isArray(languages) || languages.length === 0) throw bad('choose at least one language for the continuation task', { setting: 'languages' });
  const textKeys: Record<string, string> = {};
  for (const code of languages) {
    if (typeof code !== 'string') throw bad(`a language code is ${typeof code}, not text`, { setting: 'languages' });
    const tag = canonicalTag(code).tag;
    if (tag in textKeys) throw bad(`${shown(code)} and ${shown(textKeys[tag])} are the same language (${tag}); list it once`, { setting: 'languages', language: tag });
    if (locate(join('data', tag, 'test.jsonl'))?.language !== tag) throw bad(`${shown(code)} cannot name a folder of the evaluation data: data/${tag}/test.jsonl is not read as language ${tag}`, { setting: 'languages', language: tag });
    textKeys[tag] = code;
  }
  return { tags: Object.keys(textKeys), textKeys };
}

function shuffle<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/**
 * The items of the continuation task.
 * segments: the aligned segments (corpus order), each with a text for every language;
 * heldOut: the keys of the held-out ones (any order, each once);
 * languages: codes as the segments' texts are keyed (any spelling; folders use the canonical tag);
 * seed: 0..2^31 — the same inputs and seed give the same task, byte for byte.
 * Errors: INVALID_ARGUMENT for bad settings, a held-out key not among the segments or listed twice,
 * fewer usable held-out segments than choices; LANGUAGE_NOT_IN_CORPUS for a held-out segment with no
 * text in a language.
 */
export function buildContinuationTask(segments: readonly AlignedText[], heldOut: readonly string[], languages: readonly string[], seed: number, options: ContinuationOptions = {}): ContinuationTask {
  const settings = continuationSettings(options);
  intIn(seed, 'seed', 0, 2 ** 31);
  const { tags, textKeys } = taskLanguages(languages);
  if (!Array.isArray(segments)) throw bad('the aligned segments must be a list', { setting: 'segments' });
  if (!Array.isArray(heldOut)) throw bad('the held-out segment keys must be a list', { setting: 'heldOut' });
  const position = new Map<string, number>();
  segments.forEach((s, i) => {
    if (typeof s?.key !== 'string' || typeof s.text !== 'object' || s.text === null) throw bad(`aligned segment ${i} has no key and texts`, { index: i });
    if (position.has(s.key)) throw bad(`segment ${shown(s.key)} appears twice among the aligned segments`, { segment: s.key });
    position.set(s.key, i);
  });
  const wanted = new Set<string>();
  for (const key of heldOut) {
    if (typeof key !== 'string') throw bad(`a held-out segment key is ${typeof key}, not text`, { setting: 'heldOut' });
    if (wanted.has(key)) throw bad(`held-out segment ${shown(key)} is listed twice`, { segment: key });
    if (!position.has(key)) throw bad(`held-out segment ${shown(key)} is not among the ${segments.length} aligned segments; build the task from the corpus and languages the fine-tune used`, { segment: key });
    wanted.add(key);
  }
  const held = [...wanted].sort((a, b) => position.get(a)! - position.get(b)!);

  // Cut every held-out paragraph in every language; a segment unusable in one is unusable in all.
  const skipped: SkippedSegment[] = [];
  const usable: { key: string; cuts: Record<string, ParagraphCut> }[] = [];
  for (const key of held) {
    const texts = segments[position.get(key)!].text;
    const cuts: Record<string, ParagraphCut> = {};
    let refused: SkippedSegment | null = null;
    for (const tag of tags) {
      const text = Object.hasOwn(texts, textKeys[tag]) ? texts[textKeys[tag]] : undefined;
      if (text === undefined) throw new ApiError('LANGUAGE_NOT_IN_CORPUS', `held-out segment ${shown(key)} has no ${textKeys[tag]} text; every language of the task needs every held-out segment`, { segment: key, language: tag });
      if (typeof text !== 'string') throw bad(`held-out segment ${shown(key)} in ${textKeys[tag]} is ${typeof text}, not text`, { segment: key, language: tag });
      const cut: ParagraphCut | CutRefusal | null = refused ? null : cutParagraph(text, settings);
      if (cut && 'reason' in cut) refused = { segment: key, language: tag, reason: `the ${tag} paragraph ${cut.reason}` };
      else if (cut) cuts[tag] = cut;
    }
    if (refused) skipped.push(refused);
    else usable.push({ key, cuts });
  }
  const k = settings.choices;
  const tooFew = (have: number, what: string) => {
    const reasons = skipped.slice(0, 3).map((s) => `${s.segment}: ${s.reason}`).join('; ');
    return bad(
      `the continuation task needs at least ${k} held-out segments usable in every language (one true continuation and ${k - 1} others per item); ${have} of ${held.length} ${what}${reasons ? ` (${reasons}${skipped.length > 3 ? `; and ${skipped.length - 3} more` : ''})` : ''}; hold out more segments or use fewer choices`,
      { setting: 'choices', usable: have, heldOut: held.length, skipped: skipped.length },
    );
  };
  if (usable.length < k) throw tooFew(usable.length, 'are');

  const rand = mulberry32(seed * 2246822519 + 0x3c6ef372);
  let chosen = usable.map((_, i) => i);
  if (chosen.length > settings.maxItems) {
    const keep = new Set(shuffle([...chosen], rand).slice(0, settings.maxItems));
    for (const i of chosen) if (!keep.has(i)) skipped.push({ segment: usable[i].key, language: null, reason: `over maxItems ${settings.maxItems} (seeded sample)` });
    chosen = chosen.filter((i) => keep.has(i));
  }
  // Distractors: other usable held-out segments in a seeded order, each kept only if its
  // continuation differs from every choice so far in every language (no item with two right answers).
  const differs = (a: number, b: number) => tags.every((t) => usable[a].cuts[t].continuation !== usable[b].cuts[t].continuation);
  // A partial Fisher-Yates over one shared permutation: each draw is uniform over the segments not
  // yet drawn for this item, and an item costs about k draws, not a pass over every segment.
  const pool = usable.map((_, i) => i);
  const drawn: { item: number; others: number[] }[] = [];
  for (const item of chosen) {
    const others: number[] = [];
    for (let j = 0; j < pool.length && others.length < k - 1; j++) {
      const r = j + Math.floor(rand() * (pool.length - j));
      [pool[j], pool[r]] = [pool[r], pool[j]];
      const other = pool[j];
      if (other !== item && differs(item, other) && others.every((o) => differs(o, other))) others.push(other);
    }
    if (others.length === k - 1) drawn.push({ item, others });
    else skipped.push({ segment: usable[item].key, language: null, reason: `fewer than ${k - 1} other held-out segments whose continuations differ from it in every language` });
  }
  if (drawn.length === 0) throw tooFew(0, 'have distinct continuations');

  // Gold positions: each position m/k times (±1), in a seeded order.
  const golds = shuffle(drawn.map((_, i) => i % k), rand);
  const items: ContinuationItem[] = drawn.map(({ item, others }, docId) => {
    const order = [...others];
    order.splice(golds[docId], 0, item);
    return { docId, segment: usable[item].key, choiceSegments: order.map((i) => usable[i].key), gold: golds[docId] };
  });
  const byKey = new Map(usable.map((u) => [u.key, u.cuts]));
  const rows: Record<string, ContinuationRow[]> = {};
  const cutKinds: Record<string, Record<CutKind, number>> = {};
  for (const tag of tags) {
    rows[tag] = items.map((it) => ({
      context: byKey.get(it.segment)![tag].context,
      choices: it.choiceSegments.map((s) => byKey.get(s)![tag].continuation),
      gold: it.gold,
      segment: it.segment,
      choice_segments: it.choiceSegments,
    }));
    cutKinds[tag] = { clause: 0, word: 0, character: 0 };
    for (const it of items) cutKinds[tag][byKey.get(it.segment)![tag].kind]++;
  }
  const goldCounts = Array.from({ length: k }, (_, p) => items.filter((it) => it.gold === p).length);
  return { seed, settings, languages: tags, textKeys, heldOut: held, usable: usable.length, items, rows, cutKinds, goldCounts, skipped };
}

/** The description written beside the items (continuation-task.json). */
export const CONTINUATION_TASK_FILE = 'continuation-task.json';

export interface WrittenContinuationTask {
  /** The folder to give eval.run as `data`, with task `mc`. */
  dir: string;
  /** Every file written: data/{lang}/test.jsonl per language, then continuation-task.json. */
  files: string[];
  /** Items per language (the same in every language). */
  items: number;
}

/** Checks a task (built here or read back) is whole and parallel before it is written. */
function checkTask(task: ContinuationTask): void {
  if (!task || !Array.isArray(task.items) || task.items.length === 0 || !Array.isArray(task.languages) || task.languages.length === 0) throw bad('the continuation task has no items or no languages');
  for (const tag of task.languages) {
    const rows = task.rows?.[tag];
    if (!Array.isArray(rows) || rows.length !== task.items.length) throw bad(`the continuation task has ${rows?.length ?? 0} ${tag} rows for ${task.items.length} items`, { language: tag });
    rows.forEach((r, i) => {
      const it = task.items[i];
      const ok = r.segment === it.segment && r.gold === it.gold && r.choices.length === it.choiceSegments.length && r.choices.every((c) => typeof c === 'string' && c.trim() !== '') && Number.isInteger(r.gold) && r.gold >= 0 && r.gold < r.choices.length;
      if (!ok) throw bad(`the continuation task's ${tag} row ${i} does not match item ${i} (segment, gold and choices must be the same in every language)`, { language: tag, item: i });
    });
    if (locate(join('data', tag, 'test.jsonl'))?.language !== tag) throw bad(`${shown(tag)} cannot name a folder of the evaluation data`, { language: tag });
  }
}

/** Writes the task as an evaluation folder (replacing an earlier one of ours whole; never a folder
 * LinguaScope did not write): dir/data/{lang}/test.jsonl and dir/continuation-task.json. */
export function writeContinuationTask(dir: string, task: ContinuationTask): WrittenContinuationTask {
  checkTask(task);
  const files: { name: string[]; content: string }[] = [];
  for (const tag of task.languages) {
    const lines = task.rows[tag].map((r) => JSON.stringify({ context: r.context, choices: r.choices, gold: r.gold, segment: r.segment, choice_segments: r.choice_segments }));
    // The reader refuses a line over its bound; say so here, naming the item, rather than there.
    lines.forEach((line, i) => {
      if (Buffer.byteLength(line) >= MC_LIMITS.lineBytes) throw bad(`item ${i} (${task.items[i].segment}) in ${tag} is over the evaluation's ${MC_LIMITS.lineBytes}-byte line limit; lower maxChars`, { language: tag, item: i });
    });
    files.push({ name: ['data', tag, 'test.jsonl'], content: `${lines.join('\n')}\n` });
  }
  const description = {
    kind: 'continuation-task',
    version: 1,
    task: 'mc',
    split: 'test',
    seed: task.seed,
    settings: task.settings,
    cutRule: CUT_RULE,
    languages: task.languages,
    textKeys: task.textKeys,
    heldOut: task.heldOut,
    usable: task.usable,
    goldCounts: task.goldCounts,
    cutKinds: task.cutKinds,
    items: task.items,
    skipped: task.skipped,
  };
  files.push({ name: [CONTINUATION_TASK_FILE], content: `${JSON.stringify(description, null, 2)}\n` });
  const staged = stageOutputFolder(dir, 'continuation-task');
  try {
    for (const { name, content } of files) {
      if (name.length > 1) mkdirSync(join(staged.dir, ...name.slice(0, -1)), { recursive: true });
      writeFileSynced(join(staged.dir, ...name), content);
    }
  } catch (error) {
    staged.discard();
    throw writeError(staged.target, error, `cannot write to the output folder ${staged.target}`);
  }
  staged.commit();
  return { dir: staged.target, files: files.map((f) => join(staged.target, ...f.name)), items: task.items.length };
}

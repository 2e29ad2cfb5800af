// Which benchmark a row belongs to, from the fields it has, and the row's checked normalised view.
// Field names follow lm-evaluation-harness's Okapi tasks (lm_eval/tasks/okapi/*): m_arc rows are
// `instruction, option_a..option_e, answer` with answer "A".."E" mapped by position and empty
// options left out; m_hellaswag rows are `activity_label, ctx_a, ctx_b, endings, label` with
// label an integer written as text (`int(label)`); m_mmlu rows are `instruction, option_a..option_d,
// answer` with answer "A".."D". The generic form is `context, choices, gold` (gold 0-based).
import { quoteToken, quoteValue } from '../../io/input-file';
import { describeValue } from './container';
import { fieldList, rowError, type RowPlace } from './errors';
import type { McTask } from './types';

/** ARC rows without option_e have exactly MMLU's fields: the family is known, the task is not. */
export type RowFamily = McTask | 'arc-or-mmlu';

const REQUIRED: Record<'arc' | 'hellaswag' | 'mc', readonly string[]> = {
  arc: ['instruction', 'option_a', 'option_b', 'option_c', 'option_d', 'answer'],
  hellaswag: ['activity_label', 'ctx_a', 'ctx_b', 'endings', 'label'],
  mc: ['context', 'choices', 'gold'],
};

const LAYOUT: Record<'arc' | 'hellaswag' | 'mc', string> = {
  arc: 'an m_arc / m_mmlu row (instruction, option_a..option_d, answer)',
  hellaswag: 'an m_hellaswag row (activity_label, ctx_a, ctx_b, endings, label)',
  mc: 'a generic row (context, choices, gold)',
};

/** How a reader reports a bad set of fields: a JSONL line or JSON item names its place, a parquet
 * file its columns. */
export interface FieldsContext {
  fail: (message: string, details: Record<string, unknown>) => Error;
  /** 'field' for rows, 'column' for parquet schemas. */
  noun: 'field' | 'column';
}

/** The family the fields name, or an error: a near miss names the fields it lacks, anything else
 * names the fields it has. */
export function rowFamily(fields: readonly string[], context: FieldsContext): RowFamily {
  const have = new Set(fields);
  let best: { kind: 'arc' | 'hellaswag' | 'mc'; missing: string[] } | null = null;
  for (const kind of ['arc', 'hellaswag', 'mc'] as const) {
    const missing = REQUIRED[kind].filter((f) => !have.has(f));
    if (missing.length === 0) return kind === 'arc' ? (have.has('option_e') ? 'arc' : 'arc-or-mmlu') : kind;
    if (!best || missing.length < best.missing.length) best = { kind, missing };
  }
  const { noun, fail } = context;
  // More than half of a layout's fields present: a row of that layout with fields lost.
  if (best && best.missing.length * 2 < REQUIRED[best.kind].length) {
    const [first] = best.missing;
    throw fail(`${noun} ${quoteToken(first)} is missing (${LAYOUT[best.kind]})`, { field: first, missing: best.missing });
  }
  throw fail(
    `${noun}s match no multiple-choice format: it has ${noun}s ${fieldList(fields)}; expected ${LAYOUT.arc}, ${LAYOUT.hellaswag} or ${LAYOUT.mc}`,
    { [`${noun}s`]: fields.slice(0, 50) },
  );
}

/** The task of a file whose first row (or schema) is of `family`: ARC-or-MMLU rows are told apart
 * by the folder (`m_arc`, `m_mmlu`), else by the task asked for; null when neither says. */
export function resolveTask(family: RowFamily, hint: 'arc' | 'mmlu' | null, wanted: McTask | undefined): McTask | null {
  if (family !== 'arc-or-mmlu') return family;
  if (hint) return hint;
  return wanted === 'arc' || wanted === 'mmlu' ? wanted : null;
}

export interface NormalRow {
  question: string;
  choices: string[];
  gold: number;
}

function field(row: Record<string, unknown>, name: string, place: RowPlace): unknown {
  if (!(name in row) || row[name] === undefined) throw rowError(place, `field ${quoteToken(name)} is missing`, { field: name });
  return row[name];
}

function text(row: Record<string, unknown>, name: string, place: RowPlace): string {
  const value = field(row, name, place);
  if (typeof value !== 'string') throw rowError(place, `field ${quoteToken(name)} is ${describeValue(value)}, not text`, { field: name });
  return value;
}

/** A choice: text with something besides whitespace (an empty choice cannot be scored: its
 * continuation has no tokens). */
function choice(value: unknown, name: string, place: RowPlace): string {
  if (typeof value !== 'string') throw rowError(place, `${name} is ${describeValue(value)}, not text`, { field: name });
  if (value.trim() === '') throw rowError(place, `${name} is empty`, { field: name });
  return value;
}

function choiceList(row: Record<string, unknown>, name: string, place: RowPlace): string[] {
  const value = field(row, name, place);
  if (!Array.isArray(value)) throw rowError(place, `field ${quoteToken(name)} is ${describeValue(value)}, not a list of choices`, { field: name });
  if (value.length < 2) throw rowError(place, `field ${quoteToken(name)} has ${value.length} choice${value.length === 1 ? '' : 's'}; a multiple-choice item needs at least 2`, { field: name });
  return value.map((v, i) => choice(v, `${name}[${i}]`, place));
}

function checkGold(gold: number, choices: string[], name: string, place: RowPlace): number {
  if (gold >= choices.length) {
    throw rowError(place, `${name} points at choice ${gold} (0-based), outside the ${choices.length} choices`, { field: name, gold, choices: choices.length });
  }
  return gold;
}

const LETTERS = ['A', 'B', 'C', 'D', 'E'];

function letterAnswer(row: Record<string, unknown>, letters: number, place: RowPlace): number {
  const answer = field(row, 'answer', place);
  const allowed = LETTERS.slice(0, letters);
  const index = typeof answer === 'string' ? allowed.indexOf(answer) : -1;
  if (index < 0) {
    throw rowError(place, `answer ${quoteValue(answer)} is not one of the letters ${allowed.join(', ')}`, { field: 'answer' });
  }
  return index;
}

function arcRow(row: Record<string, unknown>, place: RowPlace): NormalRow {
  const choices = ['option_a', 'option_b', 'option_c', 'option_d'].map((name) => choice(field(row, name, place), `field ${quoteToken(name)}`, place));
  // The harness keeps options that are truthy; option_e is the only one a row may leave empty
  // (four-option questions). An empty a..d would shift every later letter, so it is an error.
  const e = row.option_e;
  if (e !== undefined && e !== null && e !== '') choices.push(choice(e, "field 'option_e'", place));
  return { question: text(row, 'instruction', place), choices, gold: checkGold(letterAnswer(row, 5, place), choices, 'answer', place) };
}

function mmluRow(row: Record<string, unknown>, place: RowPlace): NormalRow {
  const choices = ['option_a', 'option_b', 'option_c', 'option_d'].map((name) => choice(field(row, name, place), `field ${quoteToken(name)}`, place));
  // MMLU has four options; a filled fifth means ARC data read as MMLU (scored on A-D, silently wrong).
  const e = row.option_e;
  if (e !== undefined && e !== null && e !== '') throw rowError(place, "has a fifth option (option_e): an ARC row, not MMLU", { field: 'option_e' });
  return { question: text(row, 'instruction', place), choices, gold: letterAnswer(row, 4, place) };
}

/** First character upper-cased and the rest lower-cased, for the display view only (the scorer
 * applies Python's exact str.capitalize to the raw fields). */
function capitalised(s: string): string {
  const [first, ...rest] = [...s];
  return first === undefined ? s : first.toUpperCase() + rest.join('').toLowerCase();
}

function hellaswagRow(row: Record<string, unknown>, place: RowPlace): NormalRow {
  const question = `${text(row, 'activity_label', place)}: ${text(row, 'ctx_a', place)} ${capitalised(text(row, 'ctx_b', place))}`;
  const choices = choiceList(row, 'endings', place);
  const label = field(row, 'label', place);
  // int(label) in the harness: an integer, or digits with surrounding whitespace.
  const gold =
    typeof label === 'number' && Number.isInteger(label) && label >= 0
      ? label
      : typeof label === 'string' && /^\s*\d{1,6}\s*$/.test(label)
        ? Number(label.trim())
        : null;
  if (gold === null) throw rowError(place, `label ${quoteValue(label)} is not a choice number (0-based)`, { field: 'label' });
  return { question, choices, gold: checkGold(gold, choices, 'label', place) };
}

function genericRow(row: Record<string, unknown>, place: RowPlace): NormalRow {
  const question = text(row, 'context', place);
  const choices = choiceList(row, 'choices', place);
  const gold = field(row, 'gold', place);
  if (typeof gold !== 'number' || !Number.isInteger(gold) || gold < 0) {
    throw rowError(place, `gold ${quoteValue(gold)} is not a 0-based choice index`, { field: 'gold' });
  }
  return { question, choices, gold: checkGold(gold, choices, 'gold', place) };
}

/** The checked view of one row of `task`; a bad row is an INVALID_ARGUMENT naming file, place and field. */
export function normaliseRow(task: McTask, row: Record<string, unknown>, place: RowPlace): NormalRow {
  switch (task) {
    case 'arc':
      return arcRow(row, place);
    case 'mmlu':
      return mmluRow(row, place);
    case 'hellaswag':
      return hellaswagRow(row, place);
    case 'mc':
      return genericRow(row, place);
  }
}

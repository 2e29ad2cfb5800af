// Multiple-choice prompts as the two presets build them, character for character.
//
// "lm-eval Okapi" = lm-evaluation-harness's Okapi tasks (lm_eval/tasks/okapi), 0-shot:
//   arc_{lang}:       "Question: " + pre(instruction) + "\nAnswer:", choices pre(option_a..e) that
//                     are non-empty, gold = "ABCDE".index(answer)                    (test split)
//   hellaswag_{lang}: pre(activity_label + ": " + ctx_a + " " + ctx_b.capitalize()),
//                     choices pre(endings), gold = int(label)                          (val split)
//   m_mmlu_{lang}:    "{instruction.strip()}\nA. {a}\nB. {b}\nC. {c}\nD. {d}\nAnswer:", choices
//                     the letters A..D, gold = "ABCD".index(answer); few-shot first_n of train
//   mc (ours):        the file's context and choices as they are
//   pre(t) = t.strip(), " [title]" → ". ", every "[...]" removed (non-greedy, within a line),
//   "  " → " ". Each continuation is the target delimiter " " + the choice; few-shot examples are
//   "context + ' ' + gold choice", joined and followed by "\n\n".
import { ApiError } from '../../shared/errors';
import { pyCapitalize, pyStrip } from './py-text';

import type { McTask } from '../data/mc/types';

export const EVAL_PRESETS = ['lm-eval-okapi', 'okapi-original'] as const;
export type EvalPreset = (typeof EVAL_PRESETS)[number];

/** The fields a prompt is built from (a data row as the reader gives it). */
export interface PromptSource {
  task: McTask;
  raw: Record<string, unknown>;
  /** For the generic format: the context and choices; gold for every format. */
  question: string;
  choices: string[];
  gold: number;
}

export interface Prompt {
  /** The full context (few-shot examples included). */
  context: string;
  /** The choices as scored, without the delimiter (acc_norm divides by their length). */
  choices: string[];
  gold: number;
}

export const TARGET_DELIMITER = ' ';
export const FEWSHOT_DELIMITER = '\n\n';

/** The harness's Okapi `preprocess`. */
export function okapiPreprocess(text: string): string {
  let t = pyStrip(text);
  t = t.split(' [title]').join('. ');
  t = t.replace(/\[.*?\]/g, '');
  return t.split('  ').join(' ');
}

const str = (raw: Record<string, unknown>, key: string): string => {
  const v = raw[key];
  if (typeof v !== 'string') throw new ApiError('INVALID_ARGUMENT', `field ${key} is ${v === undefined ? 'missing' : `not a string (${typeof v})`}`, { field: key });
  return v;
};

/** One item as the lm-eval Okapi preset asks it (0-shot part). */
export function lmEvalOkapiDoc(src: PromptSource): Prompt {
  const raw = src.raw;
  switch (src.task) {
    case 'arc': {
      const options = ['option_a', 'option_b', 'option_c', 'option_d', 'option_e'].map((k) => raw[k]).filter((o): o is string => typeof o === 'string' && o !== '');
      const gold = ['A', 'B', 'C', 'D', 'E'].indexOf(str(raw, 'answer'));
      if (gold < 0) throw new ApiError('INVALID_ARGUMENT', `answer ${JSON.stringify(raw.answer)} is not one of A..E`, { field: 'answer' });
      return { context: `Question: ${okapiPreprocess(str(raw, 'instruction'))}\nAnswer:`, choices: options.map(okapiPreprocess), gold };
    }
    case 'hellaswag': {
      const ctx = `${str(raw, 'ctx_a')} ${pyCapitalize(str(raw, 'ctx_b'))}`;
      const endings = raw.endings;
      if (!Array.isArray(endings) || !endings.every((e) => typeof e === 'string')) throw new ApiError('INVALID_ARGUMENT', 'endings must be a list of strings', { field: 'endings' });
      return { context: okapiPreprocess(`${str(raw, 'activity_label')}: ${ctx}`), choices: (endings as string[]).map(okapiPreprocess), gold: Number.parseInt(String(raw.label).trim(), 10) };
    }
    case 'mmlu': {
      const gold = ['A', 'B', 'C', 'D'].indexOf(str(raw, 'answer'));
      if (gold < 0) throw new ApiError('INVALID_ARGUMENT', `answer ${JSON.stringify(raw.answer)} is not one of A..D`, { field: 'answer' });
      const o = (k: string) => str(raw, `option_${k}`);
      return { context: `${pyStrip(str(raw, 'instruction'))}\nA. ${o('a')}\nB. ${o('b')}\nC. ${o('c')}\nD. ${o('d')}\nAnswer:`, choices: ['A', 'B', 'C', 'D'], gold };
    }
    case 'mc':
      return { context: src.question, choices: src.choices, gold: src.gold };
  }
}

/** The prompt with `shots` examples before it (already chosen by the caller, in order). */
export function withFewshot(doc: Prompt, shots: readonly Prompt[]): Prompt {
  if (shots.length === 0) return doc;
  const examples = shots.map((s) => `${s.context}${TARGET_DELIMITER}${s.choices[s.gold]}`).join(FEWSHOT_DELIMITER);
  return { ...doc, context: `${examples}${FEWSHOT_DELIMITER}${doc.context}` };
}

/** One item as the Okapi authors' harness fork (nlp-uoregon/mlmm-evaluation) asks it:
 *   ARC:       "Question: " + question + "\nAnswer:"  (no preprocessing), the non-empty options
 *   HellaSwag: as lm-eval (preprocess(activity_label + ": " + ctx_a + " " + capitalize(ctx_b)))
 *   MMLU:      "Question: " + question + "\nChoices:\n" + "A. a\nB. b\nC. c\nD. d\n" + "Answer:",
 *              scored on the choice texts
 *   mc:        the context as it is
 * Few-shot examples are doc_to_text + " " + gold choice, joined by "\n\n" (see withFewshot). */
export function okapiOriginalDoc(src: PromptSource): Prompt {
  const raw = src.raw;
  switch (src.task) {
    case 'arc': {
      const options = ['option_a', 'option_b', 'option_c', 'option_d', 'option_e'].map((k) => raw[k]).filter((o): o is string => typeof o === 'string' && o !== '');
      const gold = ['A', 'B', 'C', 'D', 'E'].indexOf(str(raw, 'answer'));
      if (gold < 0) throw new ApiError('INVALID_ARGUMENT', `answer ${JSON.stringify(raw.answer)} is not one of A..E`, { field: 'answer' });
      return { context: `Question: ${str(raw, 'instruction')}\nAnswer:`, choices: options, gold };
    }
    case 'hellaswag':
      return lmEvalOkapiDoc(src);
    case 'mmlu': {
      const gold = ['A', 'B', 'C', 'D'].indexOf(str(raw, 'answer'));
      if (gold < 0) throw new ApiError('INVALID_ARGUMENT', `answer ${JSON.stringify(raw.answer)} is not one of A..D`, { field: 'answer' });
      const choices = ['a', 'b', 'c', 'd'].map((k) => str(raw, `option_${k}`));
      const listed = choices.map((c, i) => `${'ABCD'[i]}. ${c}\n`).join('');
      return { context: `Question: ${str(raw, 'instruction')}\nChoices:\n${listed}Answer:`, choices, gold };
    }
    case 'mc':
      return { context: src.question, choices: src.choices, gold: src.gold };
  }
}

/** Few-shot examples per task in the original Okapi evaluation (25-shot ARC and MMLU, 0-shot
 * HellaSwag). */
export const OKAPI_ORIGINAL_FEWSHOT: Record<McTask, number> = { arc: 25, hellaswag: 0, mmlu: 25, mc: 0 };

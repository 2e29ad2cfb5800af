// Where a paragraph is cut into a context and its true continuation (the continuation task,
// continuation-task.ts). One rule for every script, so that the ten paper languages get comparable
// items:
//
//   1. The paragraph is trimmed; n = its length in code points. The cut lies between 25 % and 75 %
//      of n (the window) and leaves at least `minPartChars` letters, marks or digits on each side.
//   2. Candidate cuts are
//        clause     a whitespace run right after punctuation (". ", ", ", " । " in Hindi, "; "), or
//                   the point right after punctuation in text written without spaces ("，" "," "。"
//                   in Chinese, followed by a Han or kana character);
//        word       any other whitespace run (every paper language but zh separates words so:
//                   Devanagari for hi/mr and Malayalam for ml included);
//        character  between two Han / kana characters, for Chinese or Japanese text with no
//                   punctuation in the window (each such code point is a whole character).
//      A whitespace run is no candidate when the text after it begins with closing or trailing
//      punctuation (Hindi and Marathi write " ।" with a space before the danda, so cutting there
//      would start the continuation with "।"), or when the text before it ends with an opening
//      bracket or quote. No cut ever falls before a combining mark or a zero-width joiner, so an
//      akshara (hi, mr, ml) or a chillu (ml) is never split.
//   3. The chosen cut minimises |cut − n/2| / n + penalty, penalty 0 for a clause, 0.1 for a word,
//      0.2 for a character boundary (ties: the earlier cut): a clause boundary wins unless a word
//      boundary is more than a tenth of the paragraph closer to the middle. Half the length, not
//      a sentence boundary, is the target because most UDHR paragraphs are one sentence.
// The cut whitespace (the `gap`) is dropped: the scorer joins context and continuation with the
// harness's target delimiter " " (eval/prompts.ts), so a Latin, Cyrillic, Devanagari or Malayalam
// item is scored on the paragraph as written (a newline gap becomes a space), and a Chinese one with
// one space after the cut punctuation — the same for every choice, so no choice gains by it.
// context + gap + continuation === the trimmed paragraph, always.

export interface CutOptions {
  /** Letters, marks or digits each part needs at least. */
  minPartChars: number;
  /** Paragraphs longer than this (code points, after trimming) are not cut. */
  maxChars: number;
  /** Where the cut may fall, as fractions of the paragraph's code points. */
  window: readonly [number, number];
}

export type CutKind = 'clause' | 'word' | 'character';

export interface ParagraphCut {
  context: string;
  /** The whitespace between context and continuation (empty for a cut in unspaced text). */
  gap: string;
  continuation: string;
  kind: CutKind;
}

export interface CutRefusal {
  /** Why the paragraph cannot be cut, in words (listed with the skipped segments). */
  reason: string;
}

const PENALTY: Record<CutKind, number> = { clause: 0, word: 0.1, character: 0.2 };

const SPACE = /^\s$/u;
const CONTENT = /^[\p{L}\p{M}\p{N}]$/u;
/** Ends a clause or sentence, in any script (. , ; : ! ? । ॥ 。 ， 、 and closing brackets/quotes). */
const CLAUSE_END = /^[\p{Po}\p{Pe}\p{Pf}]$/u;
/** Cannot begin a continuation: closing brackets and quotes, trailing marks, combining marks, joiners. */
const NO_START = /^(?:[\p{Pe}\p{Pf}\p{M}\u200c\u200d]|[.,;:!?…।॥。，、；：！？%،؛؟۔])$/u;
/** Cannot end a context: opening brackets and quotes. */
const NO_END = /^[\p{Ps}\p{Pi}¿¡]$/u;
/** Scripts written without spaces between words, where every code point is a whole character. */
const UNSPACED = /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\u30fc]$/u;
/** C0 controls other than tab, newline and carriage return, and DEL: never in a paragraph. */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/u;
/** A UTF-16 surrogate without its partner: text that is not Unicode. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const hex = (c: string) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** The cut of one paragraph by the rule above, or why there is none. */
export function cutParagraph(text: string, o: CutOptions): ParagraphCut | CutRefusal {
  const trimmed = text.trim();
  if (trimmed === '') return { reason: 'is empty' };
  // Two UTF-16 units per code point at most: a longer string is over the bound before counting.
  if (trimmed.length > 2 * o.maxChars) return { reason: `is longer than ${o.maxChars} characters` };
  const control = CONTROL.exec(trimmed);
  if (control) return { reason: `holds the control character ${hex(control[0])}` };
  if (LONE_SURROGATE.test(trimmed)) return { reason: 'is not well-formed Unicode (a lone surrogate)' };
  const cps = Array.from(trimmed);
  const n = cps.length;
  if (n > o.maxChars) return { reason: `is longer than ${o.maxChars} characters (${n})` };
  // content[i] = letters, marks and digits among cps[0..i).
  const content = new Array<number>(n + 1);
  content[0] = 0;
  for (let i = 0; i < n; i++) content[i + 1] = content[i] + (CONTENT.test(cps[i]) ? 1 : 0);
  if (content[n] < 2 * o.minPartChars) return { reason: `is too short to cut (${content[n]} letters; each part needs ${o.minPartChars})` };

  const lo = o.window[0] * n;
  const hi = o.window[1] * n;
  let best = null as { at: number; end: number; kind: CutKind; score: number } | null;
  const consider = (at: number, end: number, kind: CutKind) => {
    // The context is cps[0..at), the continuation cps[end..n).
    if (at < lo || at > hi) return;
    if (content[at] < o.minPartChars || content[n] - content[end] < o.minPartChars) return;
    const score = Math.abs(at - n / 2) / n + PENALTY[kind];
    if (!best || score < best.score) best = { at, end, kind, score };
  };
  for (let i = 1; i < n; i++) {
    const before = cps[i - 1];
    const here = cps[i];
    if (SPACE.test(before)) continue;
    if (SPACE.test(here)) {
      let end = i;
      while (end < n && SPACE.test(cps[end])) end++;
      if (end === n || NO_START.test(cps[end]) || NO_END.test(before)) continue;
      consider(i, end, CLAUSE_END.test(before) ? 'clause' : 'word');
    } else if (UNSPACED.test(here)) {
      if (UNSPACED.test(before)) consider(i, i, 'character');
      else if (CLAUSE_END.test(before)) consider(i, i, 'clause');
    }
  }
  if (!best) return { reason: `has no clause, word or character boundary between ${Math.round(o.window[0] * 100)} % and ${Math.round(o.window[1] * 100)} % of its length` };
  const { at, end, kind } = best;
  return { context: cps.slice(0, at).join(''), gap: cps.slice(at, end).join(''), continuation: cps.slice(end).join(''), kind };
}

export const CUT_RULE =
  'trimmed paragraph cut at the clause, word or (Han/kana) character boundary that minimises |cut − n/2| / n + penalty (0 clause, 0.1 word, 0.2 character), ' +
  'within the window and with at least minPartChars letters on each side; never before closing punctuation, a combining mark or a joiner, never after an opening bracket; the cut whitespace is dropped';

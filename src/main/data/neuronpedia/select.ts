// The paper's rule: keep the English examples on which a feature fires at >= 80 % of its maximum,
// and cut each into a phrase. Which value is compared, and against which maximum, are settings
// (the paper does not say which it used):
//   thresholdRule 'record-max': a record passes when its maxValue >= threshold · maximum, giving one
//                               phrase around maxValueTokenIndex;
//                 'token':      every token with value >= threshold · maximum is a peak, taken in
//                               descending value; a peak inside the window of a stronger kept peak of
//                               the same record adds nothing (its phrase would overlap), others give
//                               a phrase each;
//   maximum       'maxActApprox': the feature row's maxActApprox (Neuronpedia's largest example);
//                 'recomputed':   the largest value over the records read for the feature.
// Records of every group are considered (the top-activation group, binMin -1, and the quantile
// groups): the rule is about the value, and a high quantile group can pass it.
//
// Window: `before` tokens before the peak and `after` after it (default 16 and 4). The model is
// causal, so what made the feature fire lies before the peak: 16 tokens (about 12 English words)
// hold the clause that leads to it; 4 after finish the word or phrase the peak sits in. The result
// is a sentence-sized phrase, short enough for opus-mt to translate as one segment. The start moves
// forward to a word start (never past the peak) so a phrase does not begin inside a word or a
// character's bytes; the end grows by at most 8 tokens to finish the word it cuts.
import type { ActivationRecord } from './records';
import { isBoundary, type ResolvedToken } from './token-map';

export type ThresholdRule = 'record-max' | 'token';
export type MaximumSource = 'maxActApprox' | 'recomputed';

export interface SelectionSettings {
  threshold: number;
  thresholdRule: ThresholdRule;
  maximum: MaximumSource;
  before: number;
  after: number;
}

export const DEFAULT_SELECTION: SelectionSettings = { threshold: 0.8, thresholdRule: 'record-max', maximum: 'maxActApprox', before: 16, after: 4 };

/** How far the end may grow to finish a word it cuts. */
export const MAX_WORD_EXTENSION = 8;

/** The feature's maximum under `source`; null when there is none to compare against (no
 * maxActApprox in the export, or no records). */
export function featureMaximum(records: readonly ActivationRecord[], maxActApprox: number | null, source: MaximumSource): number | null {
  if (source === 'maxActApprox') return maxActApprox;
  if (records.length === 0) return null;
  return records.reduce((m, r) => Math.max(m, r.values.reduce((a, v) => Math.max(a, v), -Infinity)), -Infinity);
}

/** Whether a record can give a phrase at `bar` (before its tokens are resolved). */
export function recordPasses(record: ActivationRecord, bar: number, rule: ThresholdRule): boolean {
  return rule === 'record-max' ? record.maxValue >= bar : record.values.some((v) => v >= bar);
}

/** [start, end] (inclusive) of the phrase around `peak`. */
export function cutWindow(tokens: readonly ResolvedToken[], peak: number, before: number, after: number): [number, number] {
  let start = Math.max(0, peak - before);
  while (start < peak && !isBoundary(tokens, start)) start++;
  let end = Math.min(tokens.length - 1, peak + after);
  for (let grown = 0; end + 1 < tokens.length && !isBoundary(tokens, end + 1) && grown < MAX_WORD_EXTENSION; grown++) end++;
  return [start, end];
}

export interface PhraseWindow {
  peak: number;
  value: number;
  start: number;
  end: number;
}

/** The phrase windows of one record. A peak on a special token (BOS, where some SAE features
 * fire hugely on every text) describes no English text: it gives no phrase (the caller counts it). */
export function recordWindows(record: ActivationRecord, tokens: readonly ResolvedToken[], bar: number, s: SelectionSettings): PhraseWindow[] {
  if (s.thresholdRule === 'record-max') {
    if (record.maxValue < bar || tokens[record.maxValueTokenIndex].special) return [];
    const [start, end] = cutWindow(tokens, record.maxValueTokenIndex, s.before, s.after);
    return [{ peak: record.maxValueTokenIndex, value: record.maxValue, start, end }];
  }
  const peaks = record.values
    .map((value, i) => ({ value, i }))
    .filter((p) => p.value >= bar && !tokens[p.i].special)
    .sort((a, b) => b.value - a.value || a.i - b.i);
  const out: PhraseWindow[] = [];
  for (const p of peaks) {
    if (out.some((w) => w.start <= p.i && p.i <= w.end)) continue;
    const [start, end] = cutWindow(tokens, p.i, s.before, s.after);
    out.push({ peak: p.i, value: p.value, start, end });
  }
  return out;
}

// Multiple-choice metrics as lm-evaluation-harness reports them:
//   acc      = mean over items of [argmax_i ll_i == gold]
//   acc_norm = mean over items of [argmax_i ll_i / len(choice_i) == gold], len in code points of
//              the choice without the delimiter (the harness's completion_len)
//   stderr   = sample standard deviation (n − 1) / √n  (the harness's mean_stderr)
// argmax takes the first of equal maxima, as numpy's does. Before/after: the paired difference
// of the per-item correctness with a percentile bootstrap interval over items.
import { mulberry32 } from '../../shared/random';
import { pyLen } from './py-text';

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

export interface ItemDecision {
  pred: number;
  predNorm: number;
  acc: 0 | 1;
  accNorm: 0 | 1;
}

export function decide(loglikelihoods: readonly number[], choices: readonly string[], gold: number): ItemDecision {
  const pred = argmax(loglikelihoods);
  const predNorm = argmax(loglikelihoods.map((ll, i) => ll / pyLen(choices[i])));
  return { pred, predNorm, acc: pred === gold ? 1 : 0, accNorm: predNorm === gold ? 1 : 0 };
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The harness's mean_stderr: sample standard deviation over √n (NaN for n < 2, as it reports). */
export function meanStderr(xs: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mu = mean(xs);
  const variance = xs.reduce((a, x) => a + (x - mu) ** 2, 0) / (n - 1);
  return Math.sqrt(variance) / Math.sqrt(n);
}

/** Paired difference after − before (per item) with a percentile bootstrap interval. */
export function pairedDifference(before: readonly number[], after: readonly number[], reps: number, seed: number): { difference: number; ci: [number, number] | null } {
  const n = before.length;
  const d = before.map((b, i) => after[i] - b);
  const difference = mean(d);
  if (n < 2 || reps <= 0) return { difference, ci: null };
  const rand = mulberry32(seed);
  const draws: number[] = [];
  for (let r = 0; r < reps; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[Math.floor(rand() * n)];
    draws.push(s / n);
  }
  draws.sort((a, b) => a - b);
  const at = (q: number) => draws[Math.floor(q * (draws.length - 1))];
  return { difference, ci: [at(0.025), at(0.975)] };
}

// The axes and labels of a labelled scatter: a range that keeps every point (and its label) off the
// frame, tick labels with just enough decimals to differ (points can be close: a sweep's gains may
// all lie within a hundredth of a percent), and one joined label for points drawn on one spot.

/** [lo, hi] of the values widened by 8 % of their span on each side; a single value (or values
 * equal to 1 part in 10^4, which would otherwise need ticks of ten digits) by 5 % of its size, or
 * by 1 when it is 0. [0, 1] when there is none. */
export function paddedDomain(values: readonly number[]): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const size = Math.max(Math.abs(lo), Math.abs(hi));
  if (hi - lo > 1e-4 * size) return [lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo)];
  const mid = (lo + hi) / 2;
  const pad = size > 0 ? 0.05 * size : 1;
  return [mid - pad, mid + pad];
}

/** Decimals that tell apart ticks a fifth of the domain apart (0..6). */
export function tickDecimals([lo, hi]: readonly [number, number]): number {
  const step = (hi - lo) / 5;
  if (!(step > 0)) return 2;
  return Math.min(6, Math.max(0, Math.ceil(-Math.log10(step))));
}

/** Points that would be drawn on top of each other (closer than `near` of each axis' range) share
 * one label, the names joined ("#1, #2", a no-break space: recharts wraps a label at spaces to the
 * symbol's width) on the first of them, so no label hides another. */
export function mergedLabels(points: readonly { label: string; x: number; y: number }[], xDomain: readonly [number, number], yDomain: readonly [number, number], near = 0.02): string[] {
  const [sx, sy] = [xDomain[1] - xDomain[0] || 1, yDomain[1] - yDomain[0] || 1];
  const owner = points.map((p, i) => points.findIndex((q, j) => j <= i && Math.abs(q.x - p.x) / sx < near && Math.abs(q.y - p.y) / sy < near));
  return points.map((_, i) => (owner[i] === i ? points.filter((_, j) => owner[j] === i).map((q) => q.label).join(',\u00a0') : ''));
}

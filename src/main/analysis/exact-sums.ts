// Sums of many non-negative float32 values per index whose result does not depend on the order
// of the additions, so a sum over phrases computed in any batches, runs or passes is the same.
//
// A value v in [2^a, 2^(a+14)) is a multiple of its float32 ulp, at least 2^(a−23); the sum of up to
// 2^16 such values is a multiple of 2^(a−23) below 2^(a+30), i.e. at most 53 significant bits: exact
// in float64 whatever the order. Five such bands cover [2^-50, 2^20); a value outside them (far
// below any activation that matters, or above a million) goes to a sixth, ordinary float64 sum.
// The total adds the bands in one fixed order.
const BANDS = [2 ** 6, 2 ** -8, 2 ** -22, 2 ** -36, 2 ** -50];
const TOP = 2 ** 20;
const SLOTS = BANDS.length + 1;
/** Values per index a band holds exactly. */
export const EXACT_SUM_LIMIT = 2 ** 16;

export class ExactSums {
  private readonly bands: Float64Array;
  private readonly counts: Uint32Array;

  constructor(readonly size: number) {
    this.bands = new Float64Array(size * SLOTS);
    this.counts = new Uint32Array(size);
  }

  add(i: number, v: number): void {
    if (v === 0) return;
    if (++this.counts[i] > EXACT_SUM_LIMIT) throw new Error(`more than ${EXACT_SUM_LIMIT} values summed for one feature: the sum would no longer be exact`);
    let slot = BANDS.length;
    if (v < TOP) {
      for (let b = 0; b < BANDS.length; b++) {
        if (v >= BANDS[b]) {
          slot = b;
          break;
        }
      }
    }
    this.bands[i * SLOTS + slot] += v;
  }

  /** The sum at index i: the bands added smallest first. */
  total(i: number): number {
    let t = 0;
    for (let s = SLOTS - 1; s >= 0; s--) t += this.bands[i * SLOTS + s];
    return t;
  }
}

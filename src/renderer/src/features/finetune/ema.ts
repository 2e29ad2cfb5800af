// The monitor's optional smoothing: an exponential moving average debiased as Adam debiases its
// moments (Kingma & Ba 2015, §3). Started at s_0 = 0 the average is pulled towards 0 for the first
// ~1/(1-β) points; dividing by 1 - β^t removes exactly that pull, so the first point equals x_1 and a
// constant series stays constant.
//
//   s_t = β·s_{t-1} + (1-β)·x_t,   shown ŝ_t = s_t / (1 - β^t),   t = 1, 2, … over the finite points

/** ŝ_t for each point; a missing or non-finite point gives null and does not advance t. */
export function debiasedEma(values: readonly (number | null | undefined)[], beta: number): (number | null)[] {
  if (!(beta >= 0 && beta < 1)) throw new RangeError(`the smoothing factor β must be in [0, 1); got ${beta}`);
  let s = 0;
  let t = 0;
  return values.map((x) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    t++;
    s = beta * s + (1 - beta) * x;
    return s / (1 - beta ** t);
  });
}

/** The smoothing choices the monitor offers (β; about 1/(1-β) points of memory). */
export const EMA_BETAS = [0.6, 0.9, 0.98] as const;

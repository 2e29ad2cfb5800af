// The gap-vs-accuracy correlation across languages (the paper's first experiment): per layer,
// Pearson's r and Spearman's ρ of a disparity measure against benchmark accuracy, each with a
// percentile bootstrap interval over languages. Plain functions over arrays; checked against
// scipy.stats (scripts/reference/make_correlation_fixtures.py).
import type { DisparitySummary } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { CorrelationLayer, CorrelationMeasure, CorrelationMetric, CorrelationPoint, CorrelationResult, CorrelationStat, EvalResult, EvalTask } from '../../shared/eval';
import { mulberry32 } from '../../shared/random';

/** Below this many languages no interval is given: a bootstrap over 3 languages has only 10
 * distinct resamples (multisets), most of them with a repeated value. */
export const MIN_BOOTSTRAP_N = 4;
/** Under this many languages the result carries a plain warning about the small n. */
export const SMALL_N = 30;

/** Pearson's r = Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²), two-pass (centred first, so values near 1e6
 * with a small spread keep their digits); null when n < 2 or either input is constant. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = x.length;
  if (n < 2 || y.length !== n) return null;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (constant(x) || constant(y) || sxx === 0 || syy === 0) return null;
  const r = sxy / (Math.sqrt(sxx) * Math.sqrt(syy));
  return Math.max(-1, Math.min(1, r));
}

function constant(v: ArrayLike<number>): boolean {
  for (let i = 1; i < v.length; i++) if (v[i] !== v[0]) return false;
  return true;
}

/** 1-based ranks; tied values share the mean of the positions they span (scipy's "average"). */
export function averageRanks(v: ArrayLike<number>): number[] {
  const order = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[a] - v[b]);
  const ranks = new Array<number>(v.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && v[order[end]] === v[order[start]]) end++;
    const rank = (start + 1 + end) / 2; // mean of positions start+1 .. end
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/** Spearman's ρ: Pearson's r of the average ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  return pearson(averageRanks(x), averageRanks(y));
}

/** Linear interpolation between order statistics (numpy's default percentile). */
function percentile(sorted: readonly number[], p: number): number {
  const at = (sorted.length - 1) * p;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** Why a coefficient is undefined, in words. */
function undefinedReason(x: readonly number[], y: readonly number[], measure: string): string {
  if (x.length < 2) return `only ${x.length} language${x.length === 1 ? '' : 's'} with both a ${measure} and an accuracy; a correlation needs at least 2`;
  if (constant(x)) return `the ${measure} is the same for every language here, so the correlation is undefined`;
  if (constant(y)) return 'the accuracy is the same for every language, so the correlation is undefined';
  return 'undefined';
}

/** Share of undefined resamples past which no interval is given: they are the resamples that
 * miss the few languages carrying the spread, so leaving them out would narrow the interval
 * towards ±1 (one odd language among equal ones: about 1/3 of resamples miss it). */
const MAX_UNDEFINED_SHARE = 0.1;

/** Both coefficients with 95 % percentile intervals over `reps` resamples of the languages (one
 * draw of languages for r and ρ alike). Resamples where a coefficient is undefined are left out
 * of its interval and counted; past MAX_UNDEFINED_SHARE of them no interval is given. */
export function correlate(x: readonly number[], y: readonly number[], reps: number, seed: number, measure = 'measure'): { pearson: CorrelationStat; spearman: CorrelationStat } {
  const n = x.length;
  const stats = { pearson, spearman };
  const out = {} as { pearson: CorrelationStat; spearman: CorrelationStat };
  const draws: Record<'pearson' | 'spearman', number[]> = { pearson: [], spearman: [] };
  const bootstrap = n >= MIN_BOOTSTRAP_N && reps > 0;
  if (bootstrap) {
    const rand = mulberry32(seed);
    const bx = new Float64Array(n);
    const by = new Float64Array(n);
    for (let b = 0; b < reps; b++) {
      for (let i = 0; i < n; i++) {
        const k = Math.floor(rand() * n);
        bx[i] = x[k];
        by[i] = y[k];
      }
      for (const name of ['pearson', 'spearman'] as const) {
        const v = stats[name](bx, by);
        if (v !== null) draws[name].push(v);
      }
    }
  }
  for (const name of ['pearson', 'spearman'] as const) {
    const value = stats[name](x, y);
    const sorted = draws[name].sort((a, b) => a - b);
    const undefinedResamples = bootstrap ? reps - sorted.length : 0;
    let ci: [number, number] | null = null;
    let reason: string | null = null;
    if (value === null) reason = undefinedReason(x, y, measure);
    else if (reps <= 0) reason = 'no interval: the bootstrap was turned off (0 resamples)';
    else if (n < MIN_BOOTSTRAP_N) reason = `no interval: ${n} languages are too few to resample (a bootstrap over languages needs at least ${MIN_BOOTSTRAP_N})`;
    else if (undefinedResamples > MAX_UNDEFINED_SHARE * reps) reason = `no interval: ${undefinedResamples} of ${reps} resamples repeated a single value and had no correlation (the spread rests on one or two languages)`;
    else ci = [percentile(sorted, 0.025), percentile(sorted, 0.975)];
    out[name] = { value, ci, reason, undefined_resamples: undefinedResamples };
  }
  return out;
}

/** The measure of one language at each of the summary's layers (null where it has none).
 * gap(L, l) = 100·(M_high(l) − m(L, l)) / M_high(l): the tier gap's formula for one language. */
export function measureOf(summary: Pick<DisparitySummary, 'languages' | 'layers' | 'mean_activation' | 'deficit_vs_en'>, measure: CorrelationMeasure, code: string): (number | null)[] {
  const m = summary.mean_activation;
  if (measure === 'mean_activation') return summary.layers.map((_, i) => m[code]?.[i] ?? null);
  if (measure === 'deficit') return summary.layers.map((_, i) => summary.deficit_vs_en[code]?.[i] ?? null);
  const high = summary.languages.filter((l) => l.tier === 'high').map((l) => l.code);
  return summary.layers.map((_, i) => {
    const hs = high.map((h) => m[h]?.[i]);
    const v = m[code]?.[i];
    if (hs.some((h) => typeof h !== 'number') || typeof v !== 'number') return null;
    const mHigh = (hs as number[]).reduce((a, b) => a + b, 0) / hs.length;
    return mHigh !== 0 ? (100 * (mHigh - v)) / mHigh : null;
  });
}

export const CORRELATION_FORMULAS: Record<CorrelationMeasure | 'pearson' | 'spearman' | 'interval', string> = {
  gap: 'gap(L, l) = 100 * (M_high(l) - m(L, l)) / M_high(l): the tier gap formula for one language L against the mean of the high-resource languages',
  deficit: 'deficit(L, l) = 100 * (m(en, l) - m(L, l)) / m(en, l)',
  mean_activation: 'm(L, l) = mean over aligned segments of the phrase activation a(L, s, l)',
  pearson: "Pearson's r of the measure against accuracy across languages, per layer",
  spearman: "Spearman's rho: Pearson's r of the average ranks (tied values share the mean of their positions)",
  interval: '95 % percentile bootstrap over languages (languages drawn with replacement; one draw for r and rho)',
};

export interface CorrelationInput {
  summary: DisparitySummary;
  evalResult: EvalResult;
  task?: EvalTask;
  metric: CorrelationMetric;
  measure: CorrelationMeasure;
  model: 'base' | 'adapted';
  bootstrap: number;
  seed: number;
  analysisSource: string;
  evalSource: string;
}

const bad = (setting: string, message: string) => new ApiError('INVALID_ARGUMENT', message, { setting });

/** The whole correlation: languages paired between the analysis and the evaluation, the measure
 * per layer, both coefficients per layer with intervals, and the warnings a reader needs. */
export function correlationResult(input: CorrelationInput): Omit<CorrelationResult, 'outDir' | 'files'> {
  const { summary, evalResult, metric, measure } = input;
  const tasks = [...new Set(evalResult.results.map((r) => r.task))];
  if (tasks.length === 0) throw bad('eval', `${input.evalSource} holds no scored task`);
  const task = input.task ?? (tasks.length === 1 ? tasks[0] : undefined);
  if (task === undefined) throw bad('task', `${input.evalSource} holds several tasks (${tasks.join(', ')}); choose one with task`);
  if (!tasks.includes(task)) throw bad('task', `${input.evalSource} holds no ${task} results (it holds ${tasks.join(', ')})`);
  if (measure === 'gap' && !summary.languages.some((l) => l.tier === 'high')) {
    throw bad('measure', 'the gap of a language is taken against the high-resource tier, and the analysis has no high-resource language; use the deficit against English, or add a high-resource language to the analysis');
  }
  const accuracy = new Map<string, { value: number; items: number }>();
  for (const r of evalResult.results.filter((t) => t.task === task)) {
    const scores = input.model === 'base' ? r.before : r.after;
    if (!scores) throw bad('model', `${input.evalSource} has no scores with an adapter; correlate the base model's accuracy, or evaluate with the adapter`);
    accuracy.set(r.language.toLowerCase(), { value: scores[metric], items: r.n });
  }
  const analysed = new Map(summary.languages.map((l) => [l.code.toLowerCase(), l]));
  const left_out: CorrelationResult['left_out'] = [];
  for (const code of analysed.keys()) if (!accuracy.has(code)) left_out.push({ language: code, why: `no ${task} accuracy in the evaluation` });
  for (const code of accuracy.keys()) if (!analysed.has(code)) left_out.push({ language: code, why: 'not in the analysis' });
  const points: CorrelationPoint[] = [...analysed.entries()]
    .filter(([code]) => accuracy.has(code))
    .map(([code, l]) => ({ language: l.code, tier: l.tier, accuracy: accuracy.get(code)!.value, items: accuracy.get(code)!.items, measure: measureOf(summary, measure, l.code) }));
  if (points.length === 0) throw bad('languages', `the analysis (${[...analysed.keys()].join(', ')}) and the evaluation (${[...accuracy.keys()].join(', ')}) share no language`);
  const measureName = measure === 'mean_activation' ? 'mean activation' : measure;
  const per_layer: CorrelationLayer[] = summary.layers.map((layer, i) => {
    const usable = points.filter((p) => typeof p.measure[i] === 'number' && Number.isFinite(p.measure[i]) && Number.isFinite(p.accuracy));
    const x = usable.map((p) => p.measure[i]!);
    const y = usable.map((p) => p.accuracy);
    return { layer, n: usable.length, languages: usable.map((p) => p.language), ...correlate(x, y, input.bootstrap, input.seed + 7919 * i, measureName) };
  });
  const ns = [...new Set(per_layer.map((l) => l.n))].sort((a, b) => a - b);
  const nText = ns.length === 1 ? `n = ${ns[0]} languages` : `n = ${ns[0]} to ${ns.at(-1)} languages (per layer)`;
  const warnings: string[] = [];
  if (ns[0] < MIN_BOOTSTRAP_N) warnings.push(`${nText}: below ${MIN_BOOTSTRAP_N} no interval is given, and a correlation over so few languages says next to nothing`);
  else if (ns[0] < SMALL_N) warnings.push(`${nText} is a small sample: one language can move r or rho a lot, and the bootstrap interval over so few languages is itself rough; read the interval, not the point`);
  if (summary.adapter) warnings.push(`the analysis was run with an adapter (${summary.adapter.path}); its activations are the adapted model's`);
  return {
    measure,
    metric,
    task,
    model: input.model,
    analysis: { source: input.analysisSource, model: summary.model.path, adapter: summary.adapter?.path ?? null, segments: summary.segments, reduction: summary.settings.reduction },
    eval: { source: input.evalSource, model: evalResult.model, adapter: evalResult.adapter, preset: evalResult.preset },
    layers: summary.layers,
    points,
    per_layer,
    left_out,
    bootstrap: { resamples: input.bootstrap, seed: input.seed, unit: 'languages' },
    warnings,
    formulas: { measure: CORRELATION_FORMULAS[measure], accuracy: `${metric} of ${task} (${evalResult.preset}), ${input.model === 'base' ? 'the base model' : 'with the adapter'}`, pearson: CORRELATION_FORMULAS.pearson, spearman: CORRELATION_FORMULAS.spearman, interval: `${CORRELATION_FORMULAS.interval}, ${input.bootstrap} resamples, seed ${input.seed} (+7919 per layer)`,
      ...(measure !== 'mean_activation' ? { note: `at one layer the ${measureName} is a linear function of the mean activation, so r and rho per layer are those of the mean activation up to sign (flipped where the reference mean is positive)` } : {}),
    },
  };
}

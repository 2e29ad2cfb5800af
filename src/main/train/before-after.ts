// Before/after figures of a fine-tune on the held-out segments, with bootstrap intervals over
// segments (resampled with replacement, the same draw for before and after: a paired bootstrap).
// Per held-out segment s, language L and loss layer l, a(s, L, l) = the mean, over the features
// the frozen English phrase activates, of the phrase's SAE codes reduced over its tokens (BOS
// excluded). Then
//   gain_L %        = 100 · (Σ_s Σ_l a_after(s, L, l) − Σ_s Σ_l a_before(s, L, l)) / Σ_s Σ_l a_before(s, L, l)
//   retention %     = 100 · Σ_s Σ_l a_after(s, en, l) / Σ_s Σ_l a_before(s, en, l)
//   cosine          = mean over s and l of cos(English codes after, English codes before)
//   gap(l) %        = 100 · (M_high(l) − M_low(l)) / M_high(l), M_tier(l) = mean over the tier's
//                     languages of the mean over segments of a(s, L, l)  (as the analysis defines it)
import { mulberry32 } from '../../shared/random';
import { type BeforeAfterReport, type Interval } from '../../shared/finetune';

export interface HeldOutMeasure {
  /** Held-out segment indices. */
  segments: number[];
  layers: number[];
  /** `${segment}:${language}` -> a(s, L, l) per layer. */
  values: Map<string, number[]>;
  /** segment -> cos(English codes after, before) per layer (null: a zero vector). */
  cosines?: Map<number, (number | null)[]>;
}


const sumOver = (m: HeldOutMeasure, segs: readonly number[], lang: string, layer?: number) => {
  let total = 0;
  for (const s of segs) {
    const v = m.values.get(`${s}:${lang}`);
    if (!v) continue;
    total += layer === undefined ? v.reduce((a, b) => a + b, 0) : v[layer];
  }
  return total;
};

const pct = (after: number, before: number, relative: boolean) => (before > 0 ? (relative ? (100 * (after - before)) / before : (100 * after) / before) : null);

export function gainPercent(before: HeldOutMeasure, after: HeldOutMeasure, lang: string, segs = before.segments, layer?: number): number | null {
  return pct(sumOver(after, segs, lang, layer), sumOver(before, segs, lang, layer), true);
}

export function retentionPercent(before: HeldOutMeasure, after: HeldOutMeasure, segs = before.segments, layer?: number): number | null {
  return pct(sumOver(after, segs, 'en', layer), sumOver(before, segs, 'en', layer), false);
}

export function meanCosine(after: HeldOutMeasure, segs = after.segments): number | null {
  let total = 0;
  let n = 0;
  for (const s of segs) {
    for (const c of after.cosines?.get(s) ?? []) {
      if (c === null) continue;
      total += c;
      n++;
    }
  }
  return n ? total / n : null;
}

/** Percentile interval (2.5 %, 97.5 %) of `statistic` over `reps` resamples of the segments. */
export function bootstrapInterval(segments: readonly number[], statistic: (segs: number[]) => number | null, reps: number, seed: number): Interval {
  if (reps <= 0 || segments.length < 2) return null;
  const rand = mulberry32(seed);
  const draws: number[] = [];
  for (let r = 0; r < reps; r++) {
    const sample = Array.from({ length: segments.length }, () => segments[Math.floor(rand() * segments.length)]);
    const v = statistic(sample);
    if (v !== null && Number.isFinite(v)) draws.push(v);
  }
  if (draws.length < reps / 2) return null;
  draws.sort((a, b) => a - b);
  const at = (q: number) => draws[Math.min(draws.length - 1, Math.max(0, Math.floor(q * (draws.length - 1))))];
  return [round(at(0.025)), round(at(0.975))];
}

const round = (x: number) => Number(x.toPrecision(6));
const maybe = (x: number | null) => (x === null ? null : round(x));


export const BEFORE_AFTER_FORMULAS: Record<string, string> = {
  activation: 'a(s, L, l) = mean over the features active on the frozen English phrase of the phrase\'s SAE codes, reduced over its tokens (BOS excluded) as the loss reduces them (mean or max)',
  gain_percent: 'gain_L = 100 · (Σ_s Σ_l a_after(s, L, l) − Σ_s Σ_l a_before(s, L, l)) / Σ_s Σ_l a_before(s, L, l), over the held-out segments s and loss layers l',
  retention_percent: 'retention = 100 · Σ_s Σ_l a_after(s, en, l) / Σ_s Σ_l a_before(s, en, l)',
  retention_cosine: 'mean over held-out segments and loss layers of cos(English codes after, English codes before)',
  gap_percent: 'gap(l) = 100 · (M_high(l) − M_medium-low(l)) / M_high(l), M_tier = mean over the tier\'s languages of the mean over segments of a(s, L, l)',
  ci: 'percentile bootstrap over held-out segments (paired: one draw for before and after), 2.5 % and 97.5 %',
};

export function beforeAfterReport(args: {
  before: HeldOutMeasure;
  after: HeldOutMeasure;
  targets: readonly string[];
  tiers: Record<string, 'reference' | 'high' | 'medium-low'>;
  bootstrap: number;
  seed: number;
}): BeforeAfterReport {
  const { before, after, targets, bootstrap, seed } = args;
  const segs = before.segments;
  const L = before.layers.length;
  const langs = ['en', ...targets];
  const gain: BeforeAfterReport['gain_percent'] = {};
  targets.forEach((lang, i) => {
    gain[lang] = {
      value: maybe(gainPercent(before, after, lang)),
      ci: bootstrapInterval(segs, (s) => gainPercent(before, after, lang, s), bootstrap, seed + 101 * (i + 1)),
      per_layer: before.layers.map((_, l) => maybe(gainPercent(before, after, lang, segs, l))),
    };
  });
  const meanAct = (m: HeldOutMeasure) =>
    Object.fromEntries(langs.map((lang) => [lang, Array.from({ length: L }, (_, l) => {
      const present = segs.filter((s) => m.values.has(`${s}:${lang}`));
      return present.length ? round(sumOver(m, present, lang, l) / present.length) : 0;
    })]));
  const before_ = meanAct(before);
  const after_ = meanAct(after);
  const high = targets.filter((t) => args.tiers[t] === 'high');
  const low = targets.filter((t) => args.tiers[t] === 'medium-low');
  const gapOf = (m: Record<string, number[]>) =>
    Array.from({ length: L }, (_, l) => {
      if (!high.length || !low.length) return null;
      const h = high.reduce((a, t) => a + m[t][l], 0) / high.length;
      const lo = low.reduce((a, t) => a + m[t][l], 0) / low.length;
      return h > 0 ? round((100 * (h - lo)) / h) : null;
    });
  return {
    segments: segs.length,
    layers: before.layers,
    bootstrap,
    gain_percent: gain,
    retention_percent: {
      value: maybe(retentionPercent(before, after)),
      ci: bootstrapInterval(segs, (s) => retentionPercent(before, after, s), bootstrap, seed + 7),
      per_layer: before.layers.map((_, l) => maybe(retentionPercent(before, after, segs, l))),
    },
    retention_cosine: { value: maybe(meanCosine(after)), ci: bootstrapInterval(segs, (s) => meanCosine(after, s), bootstrap, seed + 13) },
    mean_activation: { before: before_, after: after_ },
    gap_percent: {
      before: gapOf(before_),
      after: gapOf(after_),
      reason: high.length && low.length ? null : `no gap: it compares the high-resource tier with the medium/low-resource tier among the fine-tune's target languages, and ${!high.length ? 'no high-resource' : 'no medium/low-resource'} language is one`,
    },
    formulas: BEFORE_AFTER_FORMULAS,
  };
}

// The fast precision's fidelity gate: before a fast analysis, a sample of its segments runs in
// both precisions (float32, then int8 projections) and the figures the analysis reports are
// compared with the same formulas (analyzeDisparity):
//   mean:    max over languages L, layers l of |m_fast(L, l) − m_exact(L, l)| / |m_exact(L, l)|
//   gap:     max over layers l of |gap_fast(l) − gap_exact(l)|           (percentage points)
//   overlap: min over L, l of |T_exact ∩ T_fast| / |T_exact ∪ T_fast|, T(L, l) = the GATE_TOP_K
//            features with the largest sum over the sample's phrases of a(L, s, l, f)
// The run goes on only if each is within its threshold; otherwise PRECISION_GATE_FAILED names
// the figures. A sample mean that is 0 in float32 and not in int8 (or a gap defined in one
// precision only) counts as an infinite difference.
import type { DisparitySettings, PrecisionGateReport } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { RuntimeHost } from '../engine/runtime-host';
import type { PeftAdapter } from '../io/peft-adapter';
import type { ModelFolder } from '../models/model';
import { paddedLength, SaeExtractor, type ExtractionSettings, type PhraseSummary } from '../sae/extract';
import type { SaeSpec } from '../sae/sae';
import { activeBitmap, cacheRow, type CachedSummary } from '../store/sae-cache-repo';
import { analyzeDisparity, type DisparityInput } from './disparity';

// Defaults: the gap's own sampling error is far larger than 2 points (the demo model's 95 %
// bootstrap intervals on 20 UDHR segments are 8–13 points wide), while a 2-bit quantization moves
// it by tens of points; the mean and overlap bounds are set from the same measurements
// (docs/ARCHITECTURE.md, "Fast precision").
export const GATE_DEFAULTS = { gateSegments: 16, gateMaxMeanDiff: 0.02, gateMaxGapDiff: 2, gateMinTopOverlap: 0.8 } as const;
export const GATE_TOP_K = 20;

/** The summary's formulas of a fast run (added to `formulas`). */
export const PRECISION_FORMULAS: Record<string, string> = {
  precision_fast:
    'decoder projections y = x·Wᵀ as com.microsoft.DynamicQuantizeMatMul: W int8 per output column n, s[n] = max_k |W[n,k]| / 127, Wq = rint(W / s) (half to even); x quantized to uint8 per call over its own range (onnxruntime); embeddings, norms, attention, the SAEs and every reduction float32',
  precision_gate:
    'before the run, the gate sample (segments ⌊i·S/n⌋) runs in float32 and fast; mean: max over L, l of |m_fast − m_exact| / |m_exact|; gap: max over l of |gap_fast − gap_exact| (points); overlap: min over L, l of the Jaccard index of the 20 features with the largest summed a(L, s, l, f) on the sample; the run goes on only within the thresholds',
};
/** Phrases per gate batch (one padded length per batch, as the analysis batches them). */
const GATE_BATCH = 8;

export interface GateInput {
  folder: ModelFolder;
  saes: readonly SaeSpec[];
  runtime: RuntimeHost;
  adapter?: PeftAdapter;
  languages: DisparityInput['languages'];
  layers: number[];
  segments: DisparityInput['segments'];
  /** Segment-major: phrase s·languages + L is segment s in language L (English first). */
  phrases: readonly { tokens: readonly number[] }[];
  settings: DisparitySettings;
  /** Passed to the fast extractor (the test hook for a deliberately bad quantization). */
  quantize?: ExtractionSettings['quantize'];
  /** The run's own batching of phrase indices (into `phrases`). Fast figures depend on a phrase's
   * batch-mates (onnxruntime quantizes each projection's input over one range per tensor), so the
   * gate batches as the run will: with every segment sampled its fast figures are the run's.
   * Without it: batches of GATE_BATCH phrases of one padded length. */
  batches?: (phraseIds: number[]) => number[][];
  signal?: AbortSignal;
  progress?: (done: number, total: number) => void;
}

/** Evenly spread segment indices: ⌊i·S/n⌋ for i < n (all of them when n ≥ S). */
export function gateSample(total: number, n: number): number[] {
  if (n >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: n }, (_, i) => Math.floor((i * total) / n));
}

export async function precisionGate(input: GateInput): Promise<PrecisionGateReport> {
  const s = input.settings;
  const nL = input.languages.length;
  const sample = gateSample(input.segments.length, s.gateSegments ?? GATE_DEFAULTS.gateSegments);
  const phraseIds = sample.flatMap((seg) => Array.from({ length: nL }, (_, L) => seg * nL + L));
  const exact = await runAll(input, phraseIds, { includeBos: s.includeBos }, 0);
  const fast = await runAll(input, phraseIds, { includeBos: s.includeBos, precision: 'fast', quantize: input.quantize }, 1);

  const figures = (out: PhraseSummary[][]) => {
    const rows = (L: number, si: number, l: number): CachedSummary => {
      const en = out[si * nL][l];
      const dSae = input.saes[l].dSae;
      return cacheRow(out[si * nL + L][l], L === 0 ? null : activeBitmap(en.features, dSae), s.keepFeatures, dSae);
    };
    const cache = new Map<string, CachedSummary>();
    const summary = (L: number, si: number, l: number) => {
      const k = `${L}:${si}:${l}`;
      let row = cache.get(k);
      if (!row) cache.set(k, (row = rows(L, si, l)));
      return row;
    };
    const result = analyzeDisparity({ languages: input.languages, layers: input.layers, dSae: input.saes.map((x) => x.dSae), segments: sample.map((i) => input.segments[i]), summary, settings: { ...s, bootstrap: 0, topFeatures: 0 } });
    return { mean: result.mean_activation, gap: result.gap_percent, top: topSets(out, nL, input.saes.length, s.reduction) };
  };
  const e = figures(exact.out);
  const f = figures(fast.out);

  let meanDiff = 0;
  let meanAt: PrecisionGateReport['worst']['mean'] = null;
  let overlap = 1;
  let overlapAt: PrecisionGateReport['worst']['overlap'] = null;
  input.languages.forEach((lang, L) =>
    input.layers.forEach((layer, l) => {
      const d = relDiff(e.mean[lang.code][l], f.mean[lang.code][l]);
      if (d > meanDiff || (meanAt === null && d > 0)) [meanDiff, meanAt] = [d, { language: lang.code, layer }];
      const j = jaccard(e.top[L][l], f.top[L][l]);
      if (j < overlap) [overlap, overlapAt] = [j, { language: lang.code, layer }];
    }),
  );
  let gapDiff: number | null = null;
  let gapAt: PrecisionGateReport['worst']['gap'] = null;
  input.layers.forEach((layer, l) => {
    const [a, b] = [e.gap[l], f.gap[l]];
    if (a === null && b === null) return;
    const d = a === null || b === null ? Infinity : Math.abs(a - b);
    if (gapDiff === null || d > gapDiff) [gapDiff, gapAt] = [d, { layer }];
  });
  const thresholds = {
    max_mean_rel_diff: s.gateMaxMeanDiff ?? GATE_DEFAULTS.gateMaxMeanDiff,
    max_gap_diff_points: s.gateMaxGapDiff ?? GATE_DEFAULTS.gateMaxGapDiff,
    min_top_overlap: s.gateMinTopOverlap ?? GATE_DEFAULTS.gateMinTopOverlap,
  };
  const passed = meanDiff <= thresholds.max_mean_rel_diff && (gapDiff === null || gapDiff <= thresholds.max_gap_diff_points) && overlap >= thresholds.min_top_overlap;
  return {
    segments: sample.length,
    phrases: phraseIds.length,
    max_mean_rel_diff: round(meanDiff),
    max_gap_diff_points: gapDiff === null ? null : round(gapDiff),
    min_top_overlap: round(overlap),
    top_k: GATE_TOP_K,
    worst: { mean: meanAt, gap: gapAt, overlap: overlapAt },
    thresholds,
    passed,
    seconds: { exact: round(exact.seconds, 4), fast: round(fast.seconds, 4) },
  };
}

/** PRECISION_GATE_FAILED with the figures, or nothing when the gate passed. */
export function checkGate(report: PrecisionGateReport): void {
  if (report.passed) return;
  const t = report.thresholds;
  const parts: string[] = [];
  const w = report.worst;
  if (!(report.max_mean_rel_diff <= t.max_mean_rel_diff)) parts.push(`mean activation differs by ${pct(report.max_mean_rel_diff)} (${w.mean!.language}, layer ${w.mean!.layer}; tolerance ${pct(t.max_mean_rel_diff)}, gateMaxMeanDiff)`);
  if (report.max_gap_diff_points !== null && !(report.max_gap_diff_points <= t.max_gap_diff_points)) parts.push(`gap differs by ${report.max_gap_diff_points} points (layer ${w.gap!.layer}; tolerance ${t.max_gap_diff_points}, gateMaxGapDiff)`);
  if (!(report.min_top_overlap >= t.min_top_overlap)) parts.push(`top-${report.top_k} feature overlap is ${report.min_top_overlap} (${w.overlap!.language}, layer ${w.overlap!.layer}; at least ${t.min_top_overlap}, gateMinTopOverlap)`);
  throw new ApiError(
    'PRECISION_GATE_FAILED',
    `the fast precision failed its fidelity gate on ${report.segments} segment(s): ${parts.join('; ')}; run with precision exact, or widen the tolerance`,
    { ...report },
  );
}

const pct = (v: number) => (Number.isFinite(v) ? `${Number((100 * v).toPrecision(3))} %` : 'an unbounded amount');
const round = (v: number, digits = 6) => (Number.isFinite(v) ? Number(v.toPrecision(digits)) : v);

function relDiff(a: number | null, b: number | null): number {
  if (a === null && b === null) return 0;
  if (a === null || b === null) return Infinity;
  if (a === 0) return b === 0 ? 0 : Infinity;
  return Math.abs(b - a) / Math.abs(a);
}

function jaccard(a: ReadonlySet<number>, b: ReadonlySet<number>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  return both / (a.size + b.size - both);
}

/** Per language and layer, the GATE_TOP_K features with the largest summed activation (ties: the
 * lower index first). */
function topSets(out: PhraseSummary[][], nL: number, nSae: number, reduction: 'mean' | 'max'): Set<number>[][] {
  return Array.from({ length: nL }, (_, L) =>
    Array.from({ length: nSae }, (_, l) => {
      const sums = new Map<number, number>();
      for (let i = L; i < out.length; i += nL) {
        const p = out[i][l];
        const v = reduction === 'mean' ? p.mean : p.max;
        p.features.forEach((feature, j) => sums.set(feature, (sums.get(feature) ?? 0) + v[j]));
      }
      const ranked = [...sums].filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1] || x[0] - y[0]);
      return new Set(ranked.slice(0, GATE_TOP_K).map(([feature]) => feature));
    }),
  );
}

/** The sample's phrases through one extractor, in batches of one padded length. */
async function runAll(input: GateInput, ids: number[], settings: ExtractionSettings, pass: number): Promise<{ out: PhraseSummary[][]; seconds: number }> {
  const tokens = (i: number) => input.phrases[i].tokens;
  const max = input.folder.config.maxPositions;
  const byLength = new Map<number, number[]>();
  ids.forEach((id, k) => {
    const T = paddedLength(tokens(id).length, max);
    const group = byLength.get(T);
    if (group) group.push(k);
    else byLength.set(T, [k]);
  });
  const at = new Map(ids.map((id, k) => [id, k]));
  const batches = input.batches
    ? input.batches(ids).map((batch) => batch.map((id) => at.get(id)!))
    : [...byLength.values()].flatMap((g) => Array.from({ length: Math.ceil(g.length / GATE_BATCH) }, (_, b) => g.slice(b * GATE_BATCH, (b + 1) * GATE_BATCH)));
  const out: PhraseSummary[][] = new Array(ids.length);
  const extractor = await SaeExtractor.load(input.folder, input.saes, input.runtime, settings, input.signal, input.adapter);
  const t0 = performance.now();
  try {
    for (const [b, batch] of batches.entries()) {
      if (input.signal?.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
      const res = await extractor.run(batch.map((k) => [...tokens(ids[k])]), input.signal);
      batch.forEach((k, j) => (out[k] = res[j]));
      input.progress?.(pass * batches.length + b + 1, 2 * batches.length);
    }
  } finally {
    await extractor.release();
  }
  return { out, seconds: (performance.now() - t0) / 1000 };
}

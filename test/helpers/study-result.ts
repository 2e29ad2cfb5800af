// A hand-made StudyResult (study.run's answer) for the report's unit tests: four languages (en
// reference, de high, hi and ml medium/low, ml the one that does not gain), three layers, every
// figure a distinct value so a test can tell which one a cell shows. `text` is put into every free
// string the report prints (names, paths, notes, reasons, warnings) so a test can make it hostile.
import { BEFORE_AFTER_FORMULAS } from '../../src/main/train/before-after';
import { CORRELATION_FORMULAS } from '../../src/main/analysis/correlation';
import { DEFAULT_DISPARITY, disparityFormulas } from '../../src/main/analysis/disparity';
import type { DisparitySummary } from '../../src/shared/dto';
import type { CorrelationLayer, CorrelationResult, EvalResult } from '../../src/shared/eval';
import { finetuneSettings, type FinetuneResult } from '../../src/shared/finetune';
import type { StudyResult } from '../../src/shared/study';

export const LAYERS = [1, 3, 5];
const CODES = ['en', 'de', 'hi', 'ml'] as const;

function summary(text: string, segments: number, gap: (number | null)[]): DisparitySummary {
  const mean: Record<string, number[]> = { en: [2.25, 3.5, 4.75], de: [2.125, 3.25, 4.5], hi: [1.375, 2.625, 3.875], ml: [1.125, 2.375, 3.625] };
  return {
    languages: [
      { code: 'en', name: `English ${text}`, tier: 'reference' },
      { code: 'de', name: 'German', tier: 'high' },
      { code: 'hi', name: `Hindi ${text}`, tier: 'medium-low' },
      { code: 'ml', name: 'Malayalam', tier: 'medium-low' },
    ],
    layers: LAYERS,
    segments,
    mean_activation: mean,
    mean_activation_ci: Object.fromEntries(CODES.map((c) => [c, mean[c].map((m) => [m - 0.0625, m + 0.0625] as [number, number])])),
    gap_percent: gap,
    gap_percent_ci: gap.map((g) => (g === null ? null : ([g - 2.5, g + 3.5] as [number, number]))),
    gap_reason: gap.includes(null) ? `M_high is 0 at some layers ${text}` : null,
    deficit_vs_en: Object.fromEntries(CODES.map((c) => [c, mean[c].map((m, i) => (100 * (mean.en[i] - m)) / mean.en[i])])),
    fidelity: Object.fromEntries(CODES.map((c) => [c, { explained_variance: [0.8, 0.75, 0.7], nmse: [0.2, 0.25, 0.3], l0: [12, 14, 16], cosine: [0.9, 0.88, 0.86] }])),
    fidelity_warnings: [],
    top_features: [],
    settings: DEFAULT_DISPARITY,
    formulas: { ...disparityFormulas(DEFAULT_DISPARITY), note: `a rule ${text}` },
    model: {
      path: `/models/${text}/demo`,
      architecture: 'Gemma2ForCausalLM',
      arch: 'gemma2',
      layers: 6,
      dModel: 64,
      vocabSize: 512,
      heads: 4,
      kvHeads: 2,
      parameters: 400_000,
      dtype: 'F32',
      weightBytes: 1_600_000,
      files: 1,
      memoryBytes: 8_000_000,
      maxPositions: 512,
      tokenizer: `/models/${text}/demo/tokenizer.json`,
      slidingWindowLayers: 3,
      fingerprint: 'model-fp-study',
    },
    saes: LAYERS.map((layer) => ({
      layer,
      hook: `blocks.${layer}.hook_resid_post`,
      dIn: 64,
      source: `/saes/${text}/blocks.${layer}.hook_resid_post.safetensors`,
      format: 'saelens' as const,
      architecture: 'jumprelu' as const,
      dSae: 256,
      averageL0: 14,
      fingerprint: `sae-fp-${layer}`,
    })),
    corpus: { source: `corpus ${text}`, segments, tokens: { en: 300, de: 340, hi: 420, ml: 610 }, skipped: [] },
    cache: { phrases_computed: 4 * segments, phrases_cached: 0, bytes_per_phrase: 512, seconds: 1.5 },
  };
}

export interface StudyShape {
  /** Put into every free string the report prints. */
  text?: string;
  /** Per layer; the fixture's default is positive in every layer. */
  gap?: (number | null)[];
  /** Per target (hi, ml). */
  gain?: { hi: number | null; ml: number | null };
  retention?: number | null;
  /** Per layer, the base model's Pearson r and Spearman rho (null: undefined, with its reason). */
  correlation?: { pearson: number | null; spearman: number | null }[];
}

function correlation(which: 'base' | 'adapted', text: string, values: { pearson: number | null; spearman: number | null }[], acc: Record<string, number>): CorrelationResult {
  const reason = (v: number | null) => (v === null ? `the accuracy is the same in every language ${text}` : null);
  const shift = which === 'base' ? 0 : 0.03125;
  const per_layer: CorrelationLayer[] = LAYERS.map((layer, i) => {
    const p = values[i].pearson === null ? null : values[i].pearson! + shift;
    const s = values[i].spearman === null ? null : values[i].spearman! + shift;
    return {
      layer,
      n: 4,
      languages: [...CODES],
      pearson: { value: p, ci: p === null ? null : [Math.max(-1, p - 0.40625), Math.min(1, p + 0.21875)], reason: reason(p), undefined_resamples: 0 },
      spearman: { value: s, ci: s === null ? null : [Math.max(-1, s - 0.46875), Math.min(1, s + 0.15625)], reason: reason(s), undefined_resamples: 1 },
    };
  });
  return {
    measure: 'deficit',
    metric: 'acc',
    task: 'mc',
    model: which,
    analysis: { source: `/study/${text}/analysis/summary.json`, model: `/models/${text}/demo`, adapter: null, segments: 40, reduction: 'mean' },
    eval: { source: 'inline', model: `/models/${text}/demo`, adapter: `/study/${text}/finetune/adapter`, preset: 'lm-eval-okapi' },
    layers: LAYERS,
    points: CODES.map((c) => ({ language: c, tier: c === 'en' ? 'reference' : c === 'de' ? 'high' : 'medium-low', accuracy: acc[c], items: 8, measure: [0, 0, 0] })),
    per_layer,
    left_out: [],
    bootstrap: { resamples: 1000, seed: 0, unit: 'languages' },
    warnings: [`n = 4 languages: a small sample ${text}`],
    formulas: CORRELATION_FORMULAS,
    outDir: which === 'base' ? `/study/${text}/correlation` : null,
    files: [],
  };
}

export function studyResult(shape: StudyShape = {}): StudyResult {
  const text = shape.text ?? 'plain';
  const gap = shape.gap ?? [31.25, 27.5, 22.75];
  const gain = shape.gain ?? { hi: 12.5, ml: 8.75 };
  const retention = shape.retention === undefined ? 96.5 : shape.retention;
  const corr = shape.correlation ?? [
    { pearson: -0.625, spearman: -0.5 },
    { pearson: -0.8125, spearman: -0.75 },
    { pearson: 0.25, spearman: 0.125 },
  ];
  const dir = `/study/${text}`;
  const heldOut = ['art.3', 'art.7', 'art.11', 'art.13', 'art.19', 'art.21', 'art.26', 'art.29'];
  const before = summary(text, 8, [18.5, 16.25, 14.125]);
  const after = summary(text, 8, [9.5, 8.25, 7.125]);
  const finetune: FinetuneResult = {
    outDir: `${dir}/finetune`,
    adapterDir: `${dir}/finetune/adapter`,
    reportDir: `${dir}/finetune/report`,
    outcome: 'completed',
    reason: `reached the planned steps ${text}`,
    steps: 40,
    stepsPlanned: 40,
    seconds: 21.5,
    checkpoints: [`${dir}/finetune/checkpoints/step-40`],
    config: {
      format: 'linguascope-finetune',
      version: 1,
      model: `/models/${text}/demo`,
      saes: LAYERS.map((l) => `/saes/${text}/blocks.${l}.hook_resid_post.safetensors`),
      languages: ['en', 'hi', 'ml'],
      settings: finetuneSettings({ steps: 40 }),
      stepsPlanned: 40,
      formula: `L = term1 + alpha * term2 ${text}`,
      adaptLayers: [0, 1, 2, 3, 4],
      lossLayers: LAYERS,
      modules: 35,
      scale: 2,
      notes: [`a note ${text}`],
      split: { trainSegments: ['art.1', 'art.2', 'art.4'], heldOutSegments: heldOut, trainPairs: 6, availablePairs: 6, heldOutPairs: 16 },
    },
    final: { kind: 'eval', step: 40, heldout_loss: 0.5, heldout_term1: 0.25, heldout_term2: 0.25, gain_percent: { hi: gain.hi, ml: gain.ml }, retention_percent: retention, retention_cosine: 0.984375 },
    report: {
      segments: 8,
      layers: LAYERS,
      bootstrap: 1000,
      gain_percent: {
        hi: { value: gain.hi, ci: gain.hi === null ? null : [gain.hi - 4.25, gain.hi + 5.5], per_layer: [gain.hi, gain.hi, gain.hi] },
        ml: { value: gain.ml, ci: gain.ml === null ? null : [gain.ml - 3.75, gain.ml + 4.5], per_layer: [gain.ml, gain.ml, gain.ml] },
      },
      retention_percent: { value: retention, ci: retention === null ? null : [retention - 1.75, retention + 1.25], per_layer: [retention, retention, retention] },
      retention_cosine: { value: 0.984375, ci: [0.9765625, 0.9921875] },
      mean_activation: { before: { en: [2, 3, 4], hi: [1, 2, 3], ml: [1.5, 2.5, 3.5] }, after: { en: [1.9, 2.9, 3.9], hi: [1.2, 2.2, 3.2], ml: [1.6, 2.6, 3.6] } },
      gap_percent: { before: [18.5, 16.25, 14.125], after: [9.5, 8.25, 7.125], reason: null },
      formulas: BEFORE_AFTER_FORMULAS,
    },
    analysis: { before, after },
  };
  const acc = { en: 0.625, de: 0.5, hi: 0.375, ml: 0.25 };
  const accAfter = { en: 0.5, de: 0.5, hi: 0.5, ml: 0.125 };
  const evaluation: EvalResult = {
    model: `/models/${text}/demo`,
    adapter: finetune.adapterDir,
    data: `${dir}/task`,
    preset: 'lm-eval-okapi',
    fewshot: 0,
    fewshotPerTask: {},
    presetNote: `zero-shot ${text}`,
    results: CODES.map((language, i) => ({
      task: 'mc' as const,
      language,
      n: 8,
      before: { acc: acc[language], acc_stderr: 0.125 + i / 64, acc_norm: acc[language], acc_norm_stderr: 0.125 },
      after: { acc: accAfter[language], acc_stderr: 0.15625 + i / 64, acc_norm: accAfter[language], acc_norm_stderr: 0.125 },
      difference: {
        acc: { difference: accAfter[language] - acc[language], ci: [accAfter[language] - acc[language] - 0.1875 - i / 256, accAfter[language] - acc[language] + 0.1875 + i / 256] },
        acc_norm: { difference: accAfter[language] - acc[language], ci: null },
      },
    })),
    files: [],
    cache: { items: 64, cached: 0, scored: 64 },
    seconds: 3.25,
    outDir: `${dir}/eval`,
  };
  return {
    outDir: dir,
    report: `${dir}/report.html`,
    files: [],
    languages: [...CODES],
    targets: ['hi', 'ml'],
    stages: [
      { stage: 'measure', seconds: 4.5 },
      { stage: 'fine-tune', seconds: 21.5 },
      { stage: 'task', seconds: 0.25 },
      { stage: 'evaluate', seconds: 3.25 },
      { stage: 'correlate', seconds: 0.5 },
    ],
    seconds: 30,
    analysis: { outDir: `${dir}/analysis`, files: [], summary: summary(text, 40, gap) },
    finetune,
    task: { dir: `${dir}/task`, segments: heldOut, items: 8, choices: 4, rule: `Each item: a cut paragraph ${text}` },
    evaluation,
    correlation: { base: correlation('base', text, corr, acc), adapted: correlation('adapted', text, corr, accAfter) },
    findings: [],
  };
}

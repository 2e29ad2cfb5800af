// The activation-alignment loss of the paper's mitigation, as graph ops on the one decoder builder
// (models/forward.ts) with trainable LoRA factors as graph inputs and the SAEs frozen:
//
//   L = Σ_l [ term1_l + α · term2_l ]
//   term1_l = (1/P) Σ_p (1/n_lp) Σ_f w_lpf · |u_lpf − v_lpf|
//   term2_l = (1/P) Σ_p (1/n_lp) Σ_f w_lpf · (u_lpf − uorig_lpf)²
//
// over the P pairs of a batch (English phrase e_p, target phrase t_p) and the loss layers l, where
//   z = space(x) per token, x = blocks.l.hook_resid_post:  sae-codes  a = relu(pre)·[pre > θ] (the
//       SAE's own encoding, sae/encode.ts) | sae-preacts  pre | residual  x
//   u_lp = r(z over e_p's counted tokens) under the adapted model, v_lp the same for t_p,
//   uorig_lp = r(...) of e_p under the frozen model (fed, computed once),
//   r = mean or max over the phrase's counted tokens (BOS excluded, as in the analysis),
//   w_lpf = 1 (features "all") or [the frozen English codes' r > 0] ("english-active"),
//   n_lp = max(Σ_f w_lpf, 1) (normalisation "mean") or 1 ("sum").
// direction "target-only" detaches u in term1 (only v is pulled towards English there).
//
// The English and target phrases of a batch run as one batch of 2P sequences: rows en_rows (P)
// and tgt_rows (P) of it. Besides the loss the graph returns, per loss layer, every phrase's
// SAE codes reduced as the loss reduces them (`codes.L`, (2P, d_sae)): the monitor's activation
// gain and English retention.
import { ApiError } from '../../shared/errors';
import { DIRECTIONS, LOSS_FEATURES, LOSS_SPACES, NORMALISATIONS, REDUCTIONS, type LossSettings } from '../../shared/finetune';
import { stopGradient } from '../engine/autodiff';
import { Graph, type Value } from '../engine/graph';
import { abs, add, div, greater, mul, sub, where } from '../engine/ops/elementwise';
import { reduceMax, reduceMean, reduceSum } from '../engine/ops/reduce';
import { int64s, reshapeTo } from '../engine/ops/shapes';
import { concat, gather, unsqueeze } from '../engine/ops/tensor';
import type { TrainableParam } from '../engine/optim';
import { WeightFolder } from '../engine/weights';
import type { WeightIndex } from '../io/safetensors';
import type { ModelConfig } from '../models/config';
import { buildDecoder, hookName, type LoraSource } from '../models/forward';
import { saeGraph } from '../sae/encode';
import type { SaeSpec } from '../sae/sae';


// The formula text is shared with the renderer (the Fine-tune step shows it before a run).
export { lossFormula } from '../../shared/finetune';

/** Checks a settings object from a request: every field one of its values, α finite ≥ 0. */
export function checkLossSettings(s: LossSettings): void {
  const one = <T extends string>(value: string, allowed: readonly T[], name: string) => {
    if (!allowed.includes(value as T)) throw new ApiError('INVALID_ARGUMENT', `${name} must be one of ${allowed.join(', ')}; got ${JSON.stringify(value)}`, { setting: name });
  };
  one(s.space, LOSS_SPACES, 'space');
  one(s.reduction, REDUCTIONS, 'reduction');
  one(s.direction, DIRECTIONS, 'direction');
  one(s.normalisation, NORMALISATIONS, 'normalisation');
  one(s.features, LOSS_FEATURES, 'features');
  if (typeof s.alpha !== 'number' || !Number.isFinite(s.alpha) || s.alpha < 0) throw new ApiError('INVALID_ARGUMENT', `the retention weight α must be a finite number ≥ 0; got ${s.alpha}`, { setting: 'retention-weight' });
  if (s.space === 'residual' && s.features === 'english-active') throw new ApiError('INVALID_ARGUMENT', 'features "english-active" selects SAE features; with space "residual" use features "all"', { setting: 'features' });
}

/** One adapted linear: its HF module name and its (out, in) shape. */
export interface LoraTarget {
  module: string;
  out: number;
  inp: number;
}

/** Graph-input names of a module's factors (also the checkpoint's tensor names). */
export const loraParamName = (module: string, which: 'A' | 'B') => `lora.${module}.${which}`;

/** LoRA factors as trainable graph inputs: A (r, in), B (out, r), the scale fixed. */
export function trainableLora(g: Graph, targets: readonly LoraTarget[], rank: number, scale: number): { source: LoraSource; params: TrainableParam[] } {
  const params: TrainableParam[] = [];
  const byModule = new Map<string, { a: Value; b: Value; scale: number }>();
  for (const t of targets) {
    const a = g.input(loraParamName(t.module, 'A'), 'float32', [rank, t.inp]);
    const b = g.input(loraParamName(t.module, 'B'), 'float32', [t.out, rank]);
    // PEFT's AdamW trains A and B with weight decay like any matrix.
    params.push({ value: a, decay: true }, { value: b, decay: true });
    byModule.set(t.module, { a, b, scale });
  }
  return { source: { factors: (module) => byModule.get(module) }, params };
}

export interface LossLayer {
  layer: number;
  sae: SaeSpec;
}

export interface AlignmentGraph {
  graph: Graph;
  params: TrainableParam[];
  loss: Value;
  maskWindows: (number | null)[];
  /** Width of u/v per loss layer (d_sae, or d_model for the residual space). */
  widths: number[];
}

/**
 * The training graph up to the loss. Inputs besides the decoder's: count_mask (2P, T) float (1 on
 * counted tokens), en_rows and tgt_rows (P) int64, and per loss layer i `uorig.i` and `weights.i`
 * (P, width). Outputs: loss, term1, term2 (summed over layers, term2 without α), `reduced.i` (2P, width: every phrase's r(z)) and `codes.i`.
 */
export function buildAlignmentGraph(args: {
  config: ModelConfig;
  /** The external-data root every weight file (model and SAEs) lies under. */
  root: string;
  index: WeightIndex;
  layers: readonly LossLayer[];
  targets: readonly LoraTarget[];
  rank: number;
  scale: number;
  settings: LossSettings;
}): AlignmentGraph {
  const { config, root, index, layers, settings: s } = args;
  checkLossSettings(s);
  const g = new Graph('alignment-loss');
  const lora = trainableLora(g, args.targets, args.rank, args.scale);
  const widths = layers.map((l) => (s.space === 'residual' ? config.hiddenSize : l.sae.dSae));
  let loss: Value | undefined;
  const built = buildDecoder(
    g,
    config,
    new WeightFolder(root, index, g),
    { hooks: [], logits: false },
    {
      taps: layers.map((l) => hookName(l.layer, 'resid_post')),
      extend: ({ tapped, idsShape }) => {
        const mask = g.input('count_mask', 'float32', ['batch', 'seq']);
        const enRows = g.input('en_rows', 'int64', ['pairs']);
        const tgtRows = g.input('tgt_rows', 'int64', ['pairs']);
        const m3 = unsqueeze(mask, [2]); // (B, T, 1)
        const count = g.op1('Max', [reduceSum(m3, [1], false), g.scalar(1, 'float32')]); // (B, 1)
        const byPhrase = (v: Value, width: number) => reshapeTo(v, concat([idsShape, int64s(g, [width])], 0)); // (B, T, width)
        const meanOver = (z: Value, width: number) => div(reduceSum(mul(byPhrase(z, width), m3), [1], false), count);
        const maxOver = (z: Value, width: number) => reduceMax(where(greater(m3, g.scalar(0, 'float32')), byPhrase(z, width), g.scalar(-3.4028234663852886e38, 'float32')), [1], false);
        const terms1: Value[] = [];
        const terms2: Value[] = [];
        layers.forEach((l, i) => {
          const x = tapped.get(hookName(l.layer, 'resid_post'))!;
          const sae = saeGraph(x, l.sae, root, `sae${i}`);
          // The codes as the measurement reduces them (the loss's reduction), for gain and retention.
          g.output(s.reduction === 'mean' ? meanOver(sae.acts, l.sae.dSae) : maxOver(sae.acts, l.sae.dSae), `codes.${i}`);
          const z = s.space === 'sae-codes' ? sae.acts : s.space === 'sae-preacts' ? sae.pre : x;
          const reduced = s.reduction === 'mean' ? meanOver(z, widths[i]) : maxOver(z, widths[i]); // (2P, width)
          g.output(reduced, `reduced.${i}`);
          const u = gather(reduced, enRows);
          const v = gather(reduced, tgtRows);
          const uorig = g.input(`uorig.${i}`, 'float32', ['pairs', widths[i]]);
          const w = g.input(`weights.${i}`, 'float32', ['pairs', widths[i]]);
          const n = s.normalisation === 'mean' ? g.op1('Max', [reduceSum(w, [1]), g.scalar(1, 'float32')]) : g.scalar(1, 'float32');
          const perPair = (d: Value) => reduceMean(div(reduceSum(mul(w, d), [1]), n), [0, 1], false);
          const u1 = s.direction === 'both' ? u : stopGradient(u);
          terms1.push(perPair(abs(sub(u1, v))));
          const du = sub(u, uorig);
          terms2.push(perPair(mul(du, du)));
        });
        const term1 = terms1.reduce((a, b) => add(a, b));
        const term2 = terms2.reduce((a, b) => add(a, b));
        g.output(term1, 'term1');
        g.output(term2, 'term2');
        loss = add(term1, mul(g.scalar(s.alpha, 'float32'), term2));
      },
    },
    false,
    lora.source,
  );
  return { graph: g, params: lora.params, loss: loss!, maskWindows: built.maskWindows, widths };
}

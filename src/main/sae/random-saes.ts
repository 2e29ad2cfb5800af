// Deterministic random JumpReLU (or ReLU/TopK) SAEs for a model, for benchmarks and tests, in our
// own format (one .safetensors per hook, settings in the `linguascope_sae` metadata). Thresholds
// are not random: each feature's threshold is the quantile of its pre-activation over real
// residual-stream tokens of the model (a sample of the English UDHR) that makes the average L0
// the target, so the SAEs are as sparse as trained ones.
import { basename, join } from 'node:path';
import { ApiError } from '../../shared/errors';
import { Graph } from '../engine/graph';
import { matmul } from '../engine/ops/linalg';
import type { RuntimeHost } from '../engine/runtime-host';
import { checkOutputFolder, stageOutputFolder } from '../io/output';
import { writeSafetensors } from '../io/safetensors';
import { hookName } from '../models/forward';
import { LoadedModel, type ModelFolder } from '../models/model';
import { randomTensor } from '../models/random-model';
import { SAE_LINGUASCOPE_KEY, type SaeArchitecture } from './sae';

export interface RandomSaesOptions {
  width: number;
  layers: number[];
  architecture: SaeArchitecture;
  seed: number;
  outDir: string;
  /** Token ids of the calibration sample (phrases). */
  sample: number[][];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** Target average L0 (Gemma Scope's canonical 16k SAEs sit at 60-140). */
export function targetL0(width: number): number {
  return Math.max(1, Math.min(100, Math.round(width / 64)));
}

export async function makeRandomSaes(folder: ModelFolder, runtime: RuntimeHost, o: RandomSaesOptions): Promise<{ files: string[]; l0: Record<string, number> }> {
  const d = folder.config.hiddenSize;
  const w = o.width;
  const k = targetL0(w);
  const hooks = o.layers.map((L) => hookName(L, 'resid_post'));
  // Refused before any work unless missing, empty or an earlier output of ours; replaced whole.
  checkOutputFolder(o.outDir);
  const model = await LoadedModel.load(folder, runtime, { hooks, logits: false }, o.signal);
  let acts: Record<string, { data: Float32Array; width: number }>;
  try {
    acts = (await model.run(o.sample, o.signal)).outputs;
  } finally {
    await model.release();
  }
  const n = o.sample.reduce((s, p) => s + p.length, 0);
  // pre = x W_enc for the sample, in onnxruntime.
  const g = new Graph('calibrate');
  const x = g.input('x', 'float32', [n, d]);
  g.output(matmul(x, g.input('w', 'float32', [d, w])), 'pre');
  const staged = stageOutputFolder(o.outDir, 'random SAEs');
  const outDir = staged.dir;
  const session = await runtime.load(g.toModel(), {}, o.signal).catch((error: unknown) => {
    staged.discard();
    throw error;
  });
  const files: string[] = [];
  const l0: Record<string, number> = {};
  try {
    for (const [i, L] of o.layers.entries()) {
      if (o.signal?.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
      const hook = hooks[i];
      const wEnc = randomTensor(d * w, (o.seed * 1000003 + L * 7919 + 1) >>> 0, 1 / Math.sqrt(d));
      const pre = (await session.run({ x: { dtype: 'float32', dims: [n, d], data: acts[hook].data }, w: { dtype: 'float32', dims: [d, w], data: wEnc } }, undefined, o.signal)).pre.data as Float32Array;
      // Per feature, the (1 - k/w) quantile of its pre-activations: on average k features fire.
      const threshold = new Float32Array(w);
      const column = new Float32Array(n);
      const rank = Math.min(n - 1, Math.max(0, Math.floor(n * (1 - k / w))));
      for (let f = 0; f < w; f++) {
        for (let t = 0; t < n; t++) column[t] = pre[t * w + f];
        column.sort();
        threshold[f] = Math.max(0, column[rank]);
      }
      let active = 0;
      for (let t = 0; t < n; t++) for (let f = 0; f < w; f++) if (pre[t * w + f] > threshold[f]) active++;
      l0[String(L)] = Number((active / n).toFixed(2));
      // Decoder: the encoder's transpose with unit-norm rows; b_dec: the sample's mean.
      const wDec = new Float32Array(w * d);
      for (let f = 0; f < w; f++) {
        let norm = 0;
        for (let j = 0; j < d; j++) norm += wEnc[j * w + f] ** 2;
        const inv = 1 / Math.sqrt(norm || 1);
        for (let j = 0; j < d; j++) wDec[f * d + j] = wEnc[j * w + f] * inv;
      }
      const bDec = new Float32Array(d);
      for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) bDec[j] += acts[hook].data[t * d + j] / n;
      const cfg = {
        architecture: o.architecture,
        d_in: d,
        d_sae: w,
        hook_name: hook,
        model_name: folder.info.architecture,
        apply_b_dec_to_input: false,
        normalize_activations: 'none',
        ...(o.architecture === 'topk' ? { k } : {}),
        average_l0: l0[String(L)],
        seed: o.seed,
        random: true,
      };
      const file = join(outDir, `${hook}.safetensors`);
      writeSafetensors(
        file,
        [
          { name: 'W_enc', dtype: 'F32', shape: [d, w], data: wEnc },
          { name: 'W_dec', dtype: 'F32', shape: [w, d], data: wDec },
          { name: 'b_enc', dtype: 'F32', shape: [w], data: new Float32Array(w) },
          { name: 'b_dec', dtype: 'F32', shape: [d], data: bDec },
          ...(o.architecture === 'jumprelu' ? [{ name: 'threshold', dtype: 'F32' as const, shape: [w], data: threshold }] : []),
        ],
        { [SAE_LINGUASCOPE_KEY]: JSON.stringify(cfg) },
      );
      files.push(file);
      o.onProgress?.(i + 1, o.layers.length);
    }
    staged.commit();
  } catch (error) {
    staged.discard();
    throw error;
  } finally {
    await session.release();
  }
  return { files: files.map((f) => join(staged.target, basename(f))), l0 };
}

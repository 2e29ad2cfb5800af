// Writes a PEFT LoRA adapter folder that `PeftModel.from_pretrained` loads as it is (checked by
// scripts/reference/check_written_adapter.py, which fails on any missing/unexpected-key warning):
//   adapter_config.json        peft_type LORA, task_type CAUSAL_LM, keys sorted as PEFT writes them
//   adapter_model.safetensors  F32 `base_model.model.<module>.lora_A.weight` [r, in] and
//                              `...lora_B.weight` [out, r], metadata {"format": "pt"}
// The folder goes through the output rules (written whole, never over files we did not write).
// Before anything is written the adapter is read back in spirit: the modules the config selects
// (PEFT's targeting rules, as openPeftAdapter applies them) must be exactly the modules given, with
// the shapes the model implies — so that what we write is what our loader and PEFT will apply.
import { ApiError } from '../../shared/errors';
import type { ModelConfig } from '../models/config';
import { stageOutputFolder, writeError, writeFileSynced } from './output';
import { loraTargets } from './peft-adapter';
import { writeSafetensors, type TensorToWrite } from './safetensors';
import { join } from 'node:path';

/** One adapted linear's factors, row-major float32: A [r, in], B [out, r]. */
export interface LoraFactors {
  /** HF module name under the causal LM, e.g. model.layers.0.self_attn.q_proj. */
  module: string;
  a: Float32Array;
  b: Float32Array;
}

export interface PeftAdapterSpec {
  rank: number;
  alpha: number;
  rslora: boolean;
  dropout: number;
  /** Module name suffixes (q_proj, ..., down_proj) as PEFT's list form. */
  targetModules: string[];
  /** Layers adapted; null: every layer. */
  layersToTransform: number[] | null;
  /** Recorded for PEFT (AutoPeftModel loads the base from it); our loader ignores it. */
  baseModel: string;
  factors: LoraFactors[];
}

const badSpec = (message: string, details: Record<string, unknown> = {}) => new ApiError('INVALID_ARGUMENT', `adapter: ${message}`, details);

/** adapter_config.json text: every key sorted (as PEFT's save_pretrained), floats where PEFT types
 * floats (lora_dropout), 2-space indentation. */
export function peftConfigJson(spec: PeftAdapterSpec): string {
  const cfg: Record<string, unknown> = {
    alpha_pattern: {},
    base_model_name_or_path: spec.baseModel,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: spec.layersToTransform === null ? null : [...spec.layersToTransform].sort((x, y) => x - y),
    lora_alpha: spec.alpha,
    lora_dropout: spec.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: spec.rank,
    rank_pattern: {},
    revision: null,
    target_modules: [...spec.targetModules].sort(),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: spec.rslora,
  };
  const sorted = Object.fromEntries(Object.keys(cfg).sort().map((k) => [k, cfg[k]]));
  const text = JSON.stringify(sorted, null, 2);
  // JavaScript drops the ".0" of 0.0; PEFT reads lora_dropout as a float either way, but writes it as one.
  return `${text.replace(/("lora_dropout": )(-?\d+)(,?)$/m, '$1$2.0$3')}\n`;
}

/** Checks the spec against the model: options in range, the config's selection equal to the
 * modules given, every factor of the shape the model implies. */
function check(spec: PeftAdapterSpec, config: ModelConfig): void {
  if (!Number.isInteger(spec.rank) || spec.rank < 1) throw badSpec(`rank must be a positive integer, got ${spec.rank}`, { key: 'r' });
  if (!Number.isFinite(spec.alpha) || spec.alpha < 0) throw badSpec(`alpha must be a finite number ≥ 0, got ${spec.alpha}`, { key: 'lora_alpha' });
  if (!Number.isFinite(spec.dropout) || spec.dropout < 0 || spec.dropout >= 1) throw badSpec(`dropout must be in [0, 1), got ${spec.dropout}`, { key: 'lora_dropout' });
  let selected;
  try {
    selected = loraTargets(JSON.parse(peftConfigJson(spec)), config, 'adapter_config.json');
  } catch (error) {
    if (error instanceof ApiError) throw badSpec(error.message.replace(/^adapter_config\.json: /, ''), error.details ?? {});
    throw error;
  }
  const given = new Map<string, LoraFactors>();
  for (const f of spec.factors) {
    if (given.has(f.module)) throw badSpec(`module ${f.module} is given twice`, { module: f.module });
    given.set(f.module, f);
  }
  const wanted = new Set(selected.map((s) => s.module));
  const extra = [...given.keys()].filter((m) => !wanted.has(m));
  if (extra.length) throw badSpec(`factors for ${extra.slice(0, 3).join(', ')} are given, but target_modules/layers_to_transform do not select ${extra.length === 1 ? 'it' : 'them'} (PEFT would not read them)`, { modules: extra });
  for (const { module, out, inp } of selected) {
    const f = given.get(module);
    if (!f) throw badSpec(`target_modules/layers_to_transform select ${module}, but no factors are given for it (PEFT would warn and run it with B = 0)`, { module });
    if (f.a.length !== spec.rank * inp) throw badSpec(`${module}: A holds ${f.a.length} values, expected r × in = ${spec.rank} × ${inp}`, { module });
    if (f.b.length !== out * spec.rank) throw badSpec(`${module}: B holds ${f.b.length} values, expected out × r = ${out} × ${spec.rank}`, { module });
  }
}

/** Writes the adapter folder `dir` (replaced whole if it is an earlier output of ours); returns the
 * written files' paths. */
export function writePeftAdapter(dir: string, spec: PeftAdapterSpec, config: ModelConfig): string[] {
  check(spec, config);
  const shapes = new Map(loraTargets(JSON.parse(peftConfigJson(spec)), config, 'adapter_config.json').map((s) => [s.module, s]));
  const tensors: TensorToWrite[] = [];
  for (const f of [...spec.factors].sort((x, y) => x.module.localeCompare(y.module))) {
    const { out, inp } = shapes.get(f.module)!;
    tensors.push({ name: `base_model.model.${f.module}.lora_A.weight`, dtype: 'F32', shape: [spec.rank, inp], data: f.a });
    tensors.push({ name: `base_model.model.${f.module}.lora_B.weight`, dtype: 'F32', shape: [out, spec.rank], data: f.b });
  }
  const staged = stageOutputFolder(dir, 'PEFT adapter');
  try {
    writeFileSynced(join(staged.dir, 'adapter_config.json'), peftConfigJson(spec));
    writeSafetensors(join(staged.dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
  } catch (error) {
    staged.discard();
    throw writeError(staged.target, error, `cannot write the adapter folder ${staged.target}`);
  }
  return staged.commit();
}

// Model folders: inspection for the model step, activation export (what users take into their
// Python tools, and how anyone can check us), and random model folders for benchmarks and tests.
import type { ActivationsExport, ModelInfo, RandomModelResult } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import type { RuntimeHost } from '../engine/runtime-host';
import { checkOutputFile } from '../io/output';
import { adapterInfo, openPeftAdapter } from '../io/peft-adapter';
import { readSafetensorsHeader, writeSafetensors } from '../io/safetensors';
import type { TokenizerHost } from '../io/tokenizer-host';
import type { ArchName } from '../models/config';
import { hookName, type HookKind } from '../models/forward';
import { LoadedModel, openModelFolder } from '../models/model';
import { makeRandomModel, type RandomDtype } from '../models/random-model';
import { appVersion } from '../package-root';
import type { JobContext } from './handler';
import { throwIfCancelled } from './jobs';

/** The metadata key that marks a safetensors file as LinguaScope's output (value: its kind). */
export const OUTPUT_METADATA_KEY = 'linguascope_output';

/** A .safetensors file LinguaScope wrote: it carries our key (or, from before the key existed, our
 * producer line). Anything else, including a file that is not safetensors at all, is not ours. */
export function isOurSafetensors(file: string): boolean {
  try {
    const { metadata } = readSafetensorsHeader(file);
    return metadata[OUTPUT_METADATA_KEY] !== undefined || /^linguascope \S+$/.test(metadata.producer ?? '');
  } catch {
    return false;
  }
}

export interface ActivationsRequest {
  model: string;
  text?: string;
  tokenIds?: number[];
  bos?: boolean;
  layers: 'all' | number[];
  hooks?: HookKind[];
  logits?: boolean;
  out: string;
  /** A PEFT LoRA adapter folder applied to the model. */
  adapter?: string;
}

export class ModelService {
  constructor(
    private readonly runtime: RuntimeHost,
    private readonly tokenizers: TokenizerHost,
  ) {}

  inspect(path: string): ModelInfo {
    return openModelFolder(path).info;
  }

  async activations(request: ActivationsRequest, ctx: JobContext): Promise<ActivationsExport> {
    const folder = openModelFolder(request.model);
    const adapter = request.adapter !== undefined ? openPeftAdapter(request.adapter, folder.config) : undefined;
    // Refused before any work: the output path must be new or an activation file of ours.
    checkOutputFile(request.out, isOurSafetensors);
    const c = folder.config;
    const layers = request.layers === 'all' ? [...Array(c.numLayers).keys()] : [...new Set(request.layers)].sort((a, b) => a - b);
    const bad = layers.find((L) => L >= c.numLayers);
    if (bad !== undefined) throw new ApiError('INVALID_ARGUMENT', `layer ${bad} does not exist: ${c.architecture} has layers 0..${c.numLayers - 1}`);
    let tokens: number[];
    if (request.text !== undefined) {
      if (!folder.info.tokenizer) {
        throw new ApiError('TOKENIZER_NOT_FOUND', `${folder.path} has no tokenizer.json; pass token ids instead of text`, { file: folder.path });
      }
      tokens = (await this.tokenizers.encode(folder.path, [request.text], request.bos ?? true, ctx.signal)).ids[0];
    } else {
      tokens = request.tokenIds!;
    }
    const hooks = layers.flatMap((L) => (request.hooks ?? ['resid_post']).map((k) => hookName(L, k)));
    ctx.progress('loading model', 0, 2);
    const model = await LoadedModel.load(folder, this.runtime, { hooks, logits: request.logits ?? false }, ctx.signal, undefined, adapter);
    try {
      model.validate([tokens]);
      throwIfCancelled(ctx.signal);
      ctx.progress('forward', 1, 2);
      const result = await model.run([tokens], ctx.signal);
      const names = [...hooks, ...(request.logits ? ['logits'] : [])];
      const tensors = names.map((name) => ({ name, dtype: 'F32' as const, shape: [tokens.length, result.outputs[name].width], data: result.outputs[name].data }));
      const file = checkOutputFile(request.out, isOurSafetensors);
      writeSafetensors(file, tensors, {
        format: 'pt',
        [OUTPUT_METADATA_KEY]: 'activations',
        token_ids: JSON.stringify(tokens),
        model: folder.path,
        architecture: c.architecture,
        ...(adapter ? { adapter: adapter.path, adapter_sha256: adapter.sha256 } : {}),
        producer: `linguascope ${appVersion()}`,
        ...(request.text !== undefined ? { text: request.text } : {}),
      });
      ctx.progress('forward', 2, 2);
      return { file, tokens, tensors: tensors.map(({ name, shape }) => ({ name, shape })), provider: model.provider, model: folder.info, ...(adapter ? { adapter: adapterInfo(adapter) } : {}) };
    } finally {
      await model.release();
    }
  }

  async makeRandom(request: { arch: ArchName; preset: string; dtype: RandomDtype; out: string; seed?: number }, ctx: JobContext): Promise<RandomModelResult> {
    const made = await makeRandomModel({ ...request, signal: ctx.signal, onProgress: (done, total) => ctx.progress('writing weights', done, total) });
    return { ...made, info: openModelFolder(made.path).info };
  }
}

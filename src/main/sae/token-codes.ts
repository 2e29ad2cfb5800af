// Token-level SAE codes of one text for drill-down: the model runs to the SAE's hook, the SAE
// encodes every token, and each token gets its strongest features and the values of the features
// asked for. The ids and readable token texts come from the tokenizer worker (tokenizeText: a
// character split over several byte tokens is shown on the token that completes it).
import type { TokenActivations } from '../../shared/dto';
import { ApiError } from '../../shared/errors';
import { externalDataRoot } from '../engine/external-root';
import { Graph } from '../engine/graph';
import type { RuntimeHost } from '../engine/runtime-host';
import type { TokenizedText } from '../io/tokenizer-protocol';
import { LoadedModel, type ModelFolder } from '../models/model';
import { saeGraph } from './encode';
import { checkSaeFitsModel, saeLayer, type SaeSpec } from './sae';
import { topk } from '../engine/ops/select';

export async function tokenCodes(
  folder: ModelFolder,
  spec: SaeSpec,
  tokenized: Pick<TokenizedText, 'ids' | 'texts'>,
  runtime: RuntimeHost,
  request: { top?: number; features?: number[] },
  signal?: AbortSignal,
): Promise<TokenActivations> {
  checkSaeFitsModel(spec, folder.info);
  const bad = (request.features ?? []).find((f) => f >= spec.dSae);
  if (bad !== undefined) throw new ApiError('INVALID_ARGUMENT', `feature ${bad} does not exist: the SAE has features 0..${spec.dSae - 1}`);
  const { ids, texts } = tokenized;
  const model = await LoadedModel.load(folder, runtime, { hooks: [spec.hookName!], logits: false }, signal);
  let x: Float32Array;
  try {
    model.validate([ids]);
    x = (await model.run([ids], signal)).outputs[spec.hookName!].data;
  } finally {
    await model.release();
  }
  const k = Math.min(request.top ?? 8, spec.dSae);
  const g = new Graph('token-codes');
  const input = g.input('x', 'float32', ['n', spec.dIn]);
  // The SAE's real folder: a hub-cache snapshot links its files into ../../blobs.
  const root = externalDataRoot(Object.values(spec.tensors).filter((t) => t && !t.data).map((t) => t!.file).concat(spec.tensors.W_enc.file));
  const { acts } = saeGraph(input, spec, root, 'sae');
  const wanted = request.features ?? [];
  if (k > 0) {
    const best = topk(acts, k);
    g.output(best.values, 'top_values');
    g.output(best.indices, 'top_features');
  }
  if (wanted.length) g.output(g.op1('Gather', [acts, g.constant(wanted, 'int64')], { axis: 1 }), 'wanted');
  if (k === 0 && wanted.length === 0) g.output(acts, 'acts');
  const session = await runtime.load(g.toModel(), { externalDataFolder: root }, signal);
  let out;
  try {
    out = await session.run({ x: { dtype: 'float32', dims: [ids.length, spec.dIn], data: x } }, undefined, signal);
  } finally {
    await session.release();
  }
  const topValues = out.top_values?.data as Float32Array | undefined;
  const topFeatures = out.top_features?.data as BigInt64Array | undefined;
  const wantedValues = out.wanted?.data as Float32Array | undefined;
  return {
    hook: spec.hookName!,
    layer: saeLayer(spec)!,
    sae: spec.source,
    tokens: ids.map((id, t) => ({
      id,
      text: texts[t],
      top: Array.from({ length: k }, (_, j) => ({ feature: Number(topFeatures![t * k + j]), value: topValues![t * k + j] })).filter((e) => e.value > 0),
    })),
    features: wanted.map((feature, j) => ({ feature, values: ids.map((_, t) => wantedValues![t * wanted.length + j]) })),
  };
}

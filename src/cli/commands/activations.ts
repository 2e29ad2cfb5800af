import { resolve } from 'node:path';
import { layerList, parseIntList, requireOptions, splitList, UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

function parseHook(kind: string): 'resid_pre' | 'resid_mid' | 'resid_post' {
  const k = kind.replace(/^hook_/, '');
  if (k !== 'resid_pre' && k !== 'resid_mid' && k !== 'resid_post') throw new UsageError(`--hooks: "${kind}" is not one of resid_pre, resid_mid, resid_post`);
  return k;
}

export const activations: CliCommand = {
  name: 'activations',
  usage: `  activations --model DIR (--text "..." | --token-ids 2,651,...) --out FILE.safetensors
              [--layers all|0,5,12] [--hooks resid_post,resid_mid,resid_pre] [--logits] [--no-bos] [--adapter DIR]
                                            residual-stream activations (one [tokens, d_model] float32 tensor per hook)`,
  check(values) {
    requireOptions(values, 'activations', ['model', 'out']);
    if ((values.text === undefined) === (values['token-ids'] === undefined)) throw new UsageError('activations needs exactly one of --text "..." or --token-ids 2,651,...');
    if (values['token-ids'] !== undefined) parseIntList(values['token-ids'], '--token-ids');
    layerList(values.layers);
    if (values.hooks !== undefined) splitList(values.hooks, '--hooks').map(parseHook);
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    const result = await api.model
      .activations({
        model: resolve(values.model!),
        text: values.text,
        tokenIds: values['token-ids'] !== undefined ? parseIntList(values['token-ids'], '--token-ids') : undefined,
        bos: !values['no-bos'],
        layers: layerList(values.layers),
        hooks: values.hooks !== undefined ? splitList(values.hooks, '--hooks').map(parseHook) : undefined,
        logits: values.logits,
        out: resolve(values.out!),
        ...(values.adapter !== undefined ? { adapter: resolve(values.adapter) } : {}),
      })
      .finally(done);
    if (values.json) {
      printJson(result);
      return;
    }
    console.log(`${result.tokens.length} tokens through ${result.model.architecture} (${result.model.layers} layers) on ${result.provider}`);
    if (result.adapter) console.log(`with LoRA adapter ${result.adapter.path} (${result.adapter.modules} linears, r ${result.adapter.rank}, scale ${result.adapter.scale})`);
    console.log(`wrote ${result.tensors.length} tensors to ${result.file}`);
    for (const t of result.tensors.slice(0, 4)) console.log(`  ${t.name} [${t.shape.join(', ')}]`);
    if (result.tensors.length > 4) console.log(`  ... ${result.tensors.length - 4} more`);
  },
};

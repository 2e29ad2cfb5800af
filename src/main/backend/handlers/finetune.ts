// Fine-tuning and adapter merging over the typed API.
import { resolve } from 'node:path';
import { openPeftAdapter } from '../../io/peft-adapter';
import { writeMergedModel } from '../../models/merge-adapter';
import { openModelFolder } from '../../models/model';
import type { FinetuneService } from '../finetune-service';
import type { HandlerMap } from '../handler';

export function finetuneHandlers(service: FinetuneService): HandlerMap<'finetune.run' | 'finetune.status' | 'model.merge'> {
  return {
    'finetune.run': async (arg, ctx) => service.run(arg, ctx),
    'finetune.status': async ({ dir }) => service.status(dir),
    'model.merge': async ({ model, adapter, out }, ctx) => {
      const folder = openModelFolder(model);
      const peft = openPeftAdapter(adapter, folder.config);
      ctx.progress('writing the merged model', 0, 1);
      const files = writeMergedModel(resolve(out), folder, peft);
      ctx.progress('writing the merged model', 1, 1);
      return { outDir: resolve(out), files };
    },
  };
}

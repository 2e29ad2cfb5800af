// Fine-tuning and adapter merging over the typed API. A finished fine-tune is a stored run
// (run-history.ts); its held-out analyses are stored as analysis runs by the service.
import { resolve } from 'node:path';
import { openPeftAdapter } from '../../io/peft-adapter';
import { writeMergedModel } from '../../models/merge-adapter';
import { openModelFolder } from '../../models/model';
import type { RunsRepo } from '../../store/runs-repo';
import type { FinetuneService } from '../finetune-service';
import type { HandlerMap } from '../handler';
import { recordResult } from '../run-history';

export function finetuneHandlers(service: FinetuneService, runs: RunsRepo): HandlerMap<'finetune.run' | 'finetune.status' | 'model.merge'> {
  return {
    'finetune.run': async (arg, ctx) => recordResult(runs, 'finetune', arg, ctx, () => service.run(arg, ctx)),
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

// dataset.import over the typed API: a parallel corpus from the user's files (FLORES, FLORES+,
// tables; data/parallel/) written as the corpus file every analysis and fine-tune reads, with the
// per-language report beside it, into a folder of ours (io/output.ts).
import { join } from 'node:path';
import type { DatasetImportResult } from '../../../shared/dataset';
import { ApiError } from '../../../shared/errors';
import { corpusTsv, importParallel } from '../../data/parallel/import';
import type { LanguageRegistry } from '../../data/registry';
import { checkOutputFolder, writeOutputFolder } from '../../io/output';
import type { DatasetTranslateService } from '../dataset-translate-service';
import type { HandlerMap } from '../handler';

const PREVIEW_SEGMENTS = 20;

export function datasetHandlers(registry: LanguageRegistry, translate: DatasetTranslateService): HandlerMap<'dataset.import' | 'dataset.translate'> {
  return {
    'dataset.translate': async (arg, ctx) => translate.run(arg, ctx),
    'dataset.import': async ({ path, languages, split, outDir }, ctx) => {
      // Before any reading: an output folder we may not write is refused first.
      const target = checkOutputFolder(outDir);
      ctx.progress('reading', 0, 2);
      const imported = await importParallel(path, registry.list(), { languages, split });
      const { rows, ...rest } = imported;
      const result: DatasetImportResult = {
        ...rest,
        corpus: join(target, 'corpus.tsv'),
        report: join(target, 'import.json'),
        preview: rows.slice(0, PREVIEW_SEGMENTS),
      };
      if (ctx.signal.aborted) throw new ApiError('CANCELLED', 'the import was cancelled; nothing was written');
      ctx.progress('writing', 1, 2);
      writeOutputFolder(target, 'dataset import', [
        { name: 'corpus.tsv', content: corpusTsv(imported) },
        { name: 'import.json', content: `${JSON.stringify({ ...result, preview: undefined }, null, 2)}\n` },
      ]);
      ctx.progress('done', 2, 2);
      return result;
    },
  };
}

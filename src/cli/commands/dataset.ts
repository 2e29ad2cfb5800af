import { resolve } from 'node:path';
import { FLORES_SPLIT_NAMES, type DatasetImportResult } from '../../shared/dataset';
import { oneOf, requireOptions, splitList, UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

const ACTIONS = ['import'];

function printImport(r: DatasetImportResult): void {
  console.log(`${r.format}${r.split ? ` (${r.split})` : ''}: ${r.segments.kept} of ${r.segments.read} segments kept, in ${r.languages.map((l) => l.code).join(', ')}`);
  console.log(['language', 'from', 'rows', 'kept', 'empty', 'repeated', 'incomplete', 'flattened'].join('\t'));
  for (const l of r.languages) console.log([l.code, l.label, l.read, l.kept, l.empty, l.duplicate, l.incomplete, l.flattened].join('\t'));
  for (const s of r.skipped) console.log(`not imported: ${s.label} (${s.rows} rows): ${s.why}`);
  console.log(`corpus: ${r.corpus}`);
  console.log(`report: ${r.report}`);
}

export const dataset: CliCommand = {
  name: 'dataset',
  usage: `  dataset import PATH --out DIR [--languages en,hi] [--split dev|devtest]
                                            a parallel corpus from FLORES-200/FLORES+ files or parquet, or a
                                            .jsonl/.csv/.tsv/.parquet table (a column per language, or
                                            segment, language, text) -> DIR/corpus.tsv (use as --corpus)
                                            and DIR/import.json (what was kept and dropped, per language)`,
  check(values, rest) {
    const [action, path] = rest;
    if (!action || !ACTIONS.includes(action)) throw new UsageError(`dataset needs an action (${ACTIONS.join(', ')})`);
    if (!path) throw new UsageError('dataset import needs the path of the files to import');
    requireOptions(values, 'dataset import', ['out']);
    oneOf(values.split, '--split', FLORES_SPLIT_NAMES);
    if (values.languages !== undefined) splitList(values.languages, '--languages');
  },
  async run({ api, values, rest }) {
    const done = progressPrinter(api);
    const result = await api.dataset
      .import({
        path: resolve(rest[1]),
        outDir: resolve(values.out!),
        ...(values.languages !== undefined ? { languages: splitList(values.languages, '--languages') } : {}),
        ...(values.split !== undefined ? { split: oneOf(values.split, '--split', FLORES_SPLIT_NAMES) } : {}),
      })
      .finally(done);
    if (values.json) printJson(result);
    else printImport(result);
  },
};

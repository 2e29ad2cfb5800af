import { resolve } from 'node:path';
import { FLORES_SPLIT_NAMES, type DatasetImportResult, type DatasetTranslateResult } from '../../shared/dataset';
import { oneOf, optionalInt, requireOptions, splitList, UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

const ACTIONS = ['import', 'translate'];

/** `--target hi=DIR` or `--target zh=DIR@>>cmn_Hans<<`. */
function parseTarget(value: string): { language: string; model: string; targetToken?: string } {
  const m = /^([^=]+)=(.+?)(?:@(>>[A-Za-z0-9_]+<<))?$/.exec(value);
  if (!m) throw new UsageError(`--target must be LANG=DIR or LANG=DIR@>>token<< (found ${JSON.stringify(value.slice(0, 60))})`);
  return { language: m[1].trim(), model: resolve(m[2]), ...(m[3] ? { targetToken: m[3] } : {}) };
}


function printImport(r: DatasetImportResult): void {
  console.log(`${r.format}${r.split ? ` (${r.split})` : ''}: ${r.segments.kept} of ${r.segments.read} segments kept, in ${r.languages.map((l) => l.code).join(', ')}`);
  console.log(['language', 'from', 'rows', 'kept', 'empty', 'repeated', 'incomplete', 'flattened'].join('\t'));
  for (const l of r.languages) console.log([l.code, l.label, l.read, l.kept, l.empty, l.duplicate, l.incomplete, l.flattened].join('\t'));
  for (const s of r.skipped) console.log(`not imported: ${s.label} (${s.rows} rows): ${s.why}`);
  console.log(`corpus: ${r.corpus}`);
  console.log(`report: ${r.report}`);
}

function printTranslated(r: DatasetTranslateResult): void {
  console.log(`${r.segments.kept} of ${r.segments.read} segments in ${[...r.languagesKept, ...r.languages.filter((l) => !l.quality).map((l) => l.code)].join(', ')}`);
  for (const l of r.languages) {
    const quality = l.quality ? `; kept the corpus's own ${l.code} texts, translations against them: BLEU ${l.quality.bleu.toFixed(2)}, chrF++ ${l.quality.chrfpp.toFixed(2)}` : '';
    console.log(`${l.code}: ${l.count} texts with ${l.model}${l.settings.targetToken ? ` (${l.settings.targetToken})` : ''}, ${l.cached} from the cache, ${l.empty} empty, ${l.seconds} s${quality}`);
  }
  console.log(`corpus: ${r.corpus}`);
  if (r.features) console.log(`features: ${r.features}`);
  console.log(`report: ${r.report}`);
}

export const dataset: CliCommand = {
  name: 'dataset',
  usage: `  dataset import PATH --out DIR [--languages en,hi] [--split dev|devtest]
                                            a parallel corpus from FLORES-200/FLORES+ files or parquet, or a
                                            .jsonl/.csv/.tsv/.parquet table (a column per language, or
                                            segment, language, text) -> DIR/corpus.tsv (use as --corpus)
                                            and DIR/import.json (what was kept and dropped, per language)
  dataset translate SOURCE --target LANG=DIR[@>>token<<] [--target …] --out DIR [--source-language en]
          [--beams N] [--batch N]
                                            translate a corpus file's source-language rows, or a phrases JSONL
                                            from \`phrases neuronpedia\`, with one opus-mt folder per target
                                            language -> DIR/corpus.tsv (+ phrases.json: segment -> feature)`,
  check(values, rest) {
    const [action, path] = rest;
    if (!action || !ACTIONS.includes(action)) throw new UsageError(`dataset needs an action (${ACTIONS.join(', ')})`);
    if (!path) throw new UsageError(`dataset ${action} needs the path of the files to ${action}`);
    requireOptions(values, `dataset ${action}`, ['out']);
    if (action === 'translate') {
      if (!values.target?.length) throw new UsageError('dataset translate needs --target LANG=DIR (one per target language)');
      values.target.forEach(parseTarget);
      for (const flag of ['beams', 'batch'] as const) optionalInt(values[flag], `--${flag}`);
    }
    oneOf(values.split, '--split', FLORES_SPLIT_NAMES);
    if (values.languages !== undefined) splitList(values.languages, '--languages');
  },
  async run({ api, values, rest }) {
    const done = progressPrinter(api);
    if (rest[0] === 'translate') {
      const translated = await api.dataset
        .translate({
          source: resolve(rest[1]),
          outDir: resolve(values.out!),
          targets: (values.target ?? []).map(parseTarget),
          ...(values['source-language'] !== undefined ? { sourceLanguage: values['source-language'] } : {}),
          ...(values.beams !== undefined ? { beams: optionalInt(values.beams, '--beams') } : {}),
          ...(values.batch !== undefined ? { batch: optionalInt(values.batch, '--batch') } : {}),
        })
        .finally(done);
      if (values.json) printJson(translated);
      else printTranslated(translated);
      return;
    }
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

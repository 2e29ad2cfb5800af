import { resolve } from 'node:path';
import type { TranslateResult } from '../../shared/translate';
import { optionalInt, UsageError } from '../args';
import type { CliCommand } from '../command';
import { printJson, progressPrinter } from '../print';

function printTranslate(r: TranslateResult): void {
  const s = r.settings;
  console.log(`${r.count} texts (${r.cached} from the cache) with ${r.model}: ${s.numBeams === 1 ? 'greedy' : `beam ${s.numBeams}`}, max length ${s.maxLength}${s.targetToken ? `, ${s.targetToken}` : ''}, ${r.seconds} s`);
  if (r.metrics) {
    const b = r.metrics.bleu;
    console.log(`BLEU ${b.score.toFixed(2)} (${b.precisions.map((p) => p.toFixed(1)).join('/')}, BP ${b.bp.toFixed(3)}, ${b.sysLen}/${b.refLen} tokens, tokenizer ${b.tokenizer}); chrF++ ${r.metrics.chrfpp.score.toFixed(2)} — as sacrebleu computes them`);
  }
  if (r.out) console.log(`translations: ${r.out}`);
  else for (const l of r.lines) console.log(l.text);
}

export const translate: CliCommand = {
  name: 'translate',
  usage: `  translate --model DIR (--text "…" | --in FILE.txt) [--target-token '>>cmn_Hans<<'] [--beams N]
          [--max-length N] [--batch N] [--references FILE.txt [--language zh]] [--out FILE.jsonl]
                                            translate with a local Helsinki-NLP opus-mt folder (greedy or beam
                                            search as transformers generate()); --out: one JSON line per input
                                            line {"source", "source_ids", "text", "ids"}; --references: BLEU and
                                            chrF++ as sacrebleu computes them; cached per text`,
  check(values) {
    if (!values.model) throw new UsageError('translate needs --model DIR (an opus-mt folder)');
    if ((values.text === undefined) === (values.in === undefined)) throw new UsageError('translate needs either --text "…" or --in FILE.txt');
    for (const flag of ['beams', 'max-length', 'batch'] as const) optionalInt(values[flag], `--${flag}`);
  },
  async run({ api, values }) {
    const done = progressPrinter(api);
    const result = await api.translate
      .run({
        model: resolve(values.model!),
        ...(values.text !== undefined ? { texts: [values.text] } : { inFile: resolve(values.in!) }),
        ...(values['target-token'] !== undefined ? { targetToken: values['target-token'] } : {}),
        ...(values.beams !== undefined ? { beams: optionalInt(values.beams, '--beams') } : {}),
        ...(values['max-length'] !== undefined ? { maxLength: optionalInt(values['max-length'], '--max-length') } : {}),
        ...(values.batch !== undefined ? { batch: optionalInt(values.batch, '--batch') } : {}),
        ...(values.references !== undefined ? { references: resolve(values.references) } : {}),
        ...(values.language !== undefined ? { language: values.language } : {}),
        ...(values.out !== undefined ? { outFile: resolve(values.out) } : {}),
      })
      .finally(done);
    if (values.json) printJson(result);
    else printTranslate(result);
  },
};

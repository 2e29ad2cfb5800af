import { resolve } from 'node:path';
import { requireOptions, splitList, UsageError } from '../args';
import type { CliCommand } from '../command';
import { fixed, printJson, progressPrinter } from '../print';

export const fertility: CliCommand = {
  name: 'fertility',
  usage: `  fertility --languages en,hi,ml --out DIR  tokenizer fertility on the aligned UDHR corpus
            [--model DIR]                   measure that model folder's own tokenizer.json
            [--tokenizer DIR|FILE]          or this tokenizer (neither: the bundled Gemma tokenizer)`,
  check(values) {
    requireOptions(values, 'fertility', ['languages', 'out']);
    splitList(values.languages, '--languages');
    if (values.model !== undefined && values.tokenizer !== undefined) {
      throw new UsageError('fertility measures one tokenizer: give --model or --tokenizer, not both');
    }
  },
  async run({ api, values }) {
    const languages = splitList(values.languages, '--languages');
    const done = progressPrinter(api);
    const request = {
      languages,
      outDir: resolve(values.out!),
      tokenizer: values.tokenizer === undefined ? undefined : resolve(values.tokenizer),
      model: values.model === undefined ? undefined : resolve(values.model),
    };
    const { files, result } = await api.fertility.export(request).finally(done);
    if (values.json) {
      printJson({ files, result });
      return;
    }
    console.log(`Tokenizer fertility on ${result.corpus.alignedSegments} aligned UDHR segments`);
    console.log(`tokenizer: ${result.tokenizerLabel}`);
    if (result.tokenizerOrigin === 'bundled') console.log('  (give --model DIR to measure the tokenizer of the model you analyse)');
    console.log('language  tier         tokens/word  tokens/char  ratio_to_en');
    for (const r of result.rows) {
      console.log(`${r.language.padEnd(9)} ${r.tier.padEnd(12)} ${fixed(r.tokens_per_word).padStart(11)}  ${fixed(r.tokens_per_char).padStart(11)}  ${fixed(r.ratio_to_en).padStart(11)}`);
    }
    if (result.fromCache.length) console.log(`served from the cache: ${result.fromCache.join(', ')}`);
    console.log('wrote:');
    for (const f of files) console.log(`  ${f}`);
  },
};

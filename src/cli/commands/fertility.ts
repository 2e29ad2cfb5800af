import { resolve } from 'node:path';
import { requireOptions, splitList } from '../args';
import type { CliCommand } from '../command';
import { fixed, printJson, progressPrinter } from '../print';

export const fertility: CliCommand = {
  name: 'fertility',
  usage: `  fertility --languages en,hi,ml --out DIR  tokenizer fertility on the aligned UDHR corpus
            [--tokenizer DIR|FILE]          (default: the bundled Gemma tokenizer)`,
  check(values) {
    requireOptions(values, 'fertility', ['languages', 'out']);
    splitList(values.languages, '--languages');
  },
  async run({ api, values }) {
    const languages = splitList(values.languages, '--languages');
    const done = progressPrinter(api);
    const { files, result } = await api.fertility.export({ languages, outDir: resolve(values.out!), tokenizer: values.tokenizer }).finally(done);
    if (values.json) {
      printJson({ files, result });
      return;
    }
    console.log(`Tokenizer fertility on ${result.corpus.alignedSegments} aligned UDHR segments (tokenizer ${result.tokenizer.source}, sha256 ${result.tokenizer.sha256.slice(0, 12)})`);
    console.log('language  tier         tokens/word  tokens/char  ratio_to_en');
    for (const r of result.rows) {
      console.log(`${r.language.padEnd(9)} ${r.tier.padEnd(12)} ${fixed(r.tokens_per_word).padStart(11)}  ${fixed(r.tokens_per_char).padStart(11)}  ${fixed(r.ratio_to_en).padStart(11)}`);
    }
    if (result.fromCache.length) console.log(`served from the cache: ${result.fromCache.join(', ')}`);
    console.log('wrote:');
    for (const f of files) console.log(`  ${f}`);
  },
};

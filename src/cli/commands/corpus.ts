import { PAPER_LANGUAGES } from '../../main/data/languages';
import { splitList } from '../args';
import type { CliCommand } from '../command';
import { printJson } from '../print';

export const corpus: CliCommand = {
  name: 'corpus',
  usage: `  corpus [--languages en,hi]                aligned segment counts of the bundled corpus`,
  async run({ api, values }) {
    const codes = values.languages ? splitList(values.languages, '--languages') : PAPER_LANGUAGES.map((l) => l.code);
    const preview = await api.corpus.preview({ languages: codes, limit: 1 });
    if (values.json) {
      printJson(preview);
      return;
    }
    console.log(`UDHR ${preview.corpus.version}: ${preview.corpus.alignedSegments} aligned segments for ${preview.languages.join(', ')}`);
    if (preview.corpus.mergedArticles.length) console.log(`kept whole (paragraphs differ): ${preview.corpus.mergedArticles.join(', ')}`);
  },
};

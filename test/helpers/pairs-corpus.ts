// Ten short parallel phrases in English and Hindi as a corpus file (segment, language, text); short
// phrases keep fine-tune tests fast.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PAIRS_EN = ['all people are free', 'everyone has rights', 'no one shall be a slave', 'everyone may travel', 'the family is protected', 'everyone may work', 'everyone may rest', 'education is free', 'everyone may vote', 'duties to the community'];
export const PAIRS_HI = ['सभी लोग स्वतंत्र हैं', 'सबके अधिकार हैं', 'कोई दास नहीं होगा', 'हर कोई यात्रा कर सकता है', 'परिवार सुरक्षित है', 'हर कोई काम कर सकता है', 'हर कोई आराम कर सकता है', 'शिक्षा निःशुल्क है', 'हर कोई मत दे सकता है', 'समुदाय के प्रति कर्तव्य'];

/** Writes `pairs.tsv` into `dir` and returns its path. */
export function writePairsCorpus(dir: string): string {
  const file = join(dir, 'pairs.tsv');
  writeFileSync(file, ['segment\tlanguage\ttext', ...PAIRS_EN.flatMap((t, i) => [`s${i}\ten\t${t}`, `s${i}\thi\t${PAIRS_HI[i]}`])].join('\n') + '\n');
  return file;
}

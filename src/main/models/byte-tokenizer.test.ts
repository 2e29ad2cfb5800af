// The byte-level tokenizer through @huggingface/tokenizers: ids are BOS then 3 + each UTF-8 byte
// (TextEncoder is the oracle), for every script the paper's languages use.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { loadTokenizer } from '../io/tokenizer';
import { BYTE_TOKENIZER_OFFSET, byteTokenizerFiles } from './byte-tokenizer';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

it.each(['Hello, world', 'Всеобщая декларация', '人人生而自由', 'मनुष्य', 'മനുഷ്യർ', 'Tots els éssers humans', ''])('"%s" encodes to BOS + its UTF-8 bytes', (text) => {
  const dir = join(tmp.dir, 'bytes');
  mkdirSync(dir, { recursive: true });
  const { tokenizer, config } = byteTokenizerFiles();
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  const t = loadTokenizer(dir);
  const bytes = [...new TextEncoder().encode(text)];
  expect(t.encode(text, true)).toEqual([2, ...bytes.map((b) => b + BYTE_TOKENIZER_OFFSET)]);
  expect(t.encode(text, false)).toEqual(bytes.map((b) => b + BYTE_TOKENIZER_OFFSET));
});

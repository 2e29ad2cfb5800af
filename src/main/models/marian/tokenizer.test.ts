// Our MarianTokenizer against transformers' MarianTokenizer (5.24, sentencepiece 0.2.3) on the
// tiny opus-mt folder of scripts/reference/make_marian_fixtures.py: the same pieces and ids for
// every source text (UDHR sentences, `>>cmn_Hans<<`/`>>hin<<`-prefixed ones, unknown characters,
// special tokens written as text, whitespace edge cases), and the same text from decode; plus the
// typed errors for broken folders.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/helpers/temp';
import { MarianTokenizer } from './tokenizer';

const root = fileURLToPath(new URL('../../../../test/fixtures/marian/', import.meta.url));
const folder = join(root, 'tiny-en-mul-bin');

interface Cases {
  encode: Array<{ text: string; pieces: string[]; ids: number[] }>;
  decode: Array<{ ids: number[]; tokens: string[]; text_target_spm: string; text_target_spm_with_special: string }>;
  dropped_source_pieces: string[];
}
const cases = JSON.parse(readFileSync(join(root, 'tokenizer-cases.json'), 'utf8')) as Cases;

let tok: MarianTokenizer;
beforeAll(async () => {
  tok = await MarianTokenizer.load(folder);
});

describe('MarianTokenizer equals transformers on the fixture folder', () => {
  it('covers the classes of text the fixture was made for', () => {
    const texts = cases.encode.map((c) => c.text);
    expect(cases.encode.length).toBeGreaterThanOrEqual(55);
    expect(texts.filter((t) => t.startsWith('>>cmn_Hans<<')).length).toBeGreaterThanOrEqual(6);
    expect(texts.some((t) => t.includes('</s>'))).toBe(true);
    // pieces the spm knows but vocab.json lacks, and characters neither knows, both map to <unk>
    expect(cases.encode.some((c) => c.pieces.some((p) => cases.dropped_source_pieces.includes(p)))).toBe(true);
    expect(cases.encode.some((c) => c.text.includes('🙂'))).toBe(true);
  });

  for (const [i, c] of cases.encode.entries()) {
    it(`encode #${i} ${JSON.stringify(c.text.slice(0, 40))}`, () => {
      const ours = tok.encode(c.text);
      expect(ours.pieces).toEqual(c.pieces);
      expect(ours.ids).toEqual(c.ids);
    });
  }

  for (const [i, c] of cases.decode.entries()) {
    it(`decode #${i} [${c.ids.slice(0, 6).join(', ')}${c.ids.length > 6 ? ', …' : ''}]`, () => {
      expect(tok.tokensOf(c.ids)).toEqual(c.tokens);
      expect(tok.decode(c.ids)).toBe(c.text_target_spm);
      expect(tok.decode(c.ids, { skipSpecialTokens: false })).toBe(c.text_target_spm_with_special);
    });
  }

  it('knows the special and language tokens', () => {
    expect([tok.eosId, tok.unkId, tok.padId]).toEqual([0, 1, 1093]);
    expect(tok.languageTokens).toEqual(['>>hin<<', '>>cmn_Hans<<']);
    expect(tok.idLimit).toBe(1094);
  });

  it('refuses text that is not valid Unicode (an unpaired surrogate) instead of encoding garbage', () => {
    expect(() => tok.encode('a\ud800b')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('broken opus-mt tokenizer files are refused by name', () => {
  const scratch = tempDir('marian-tok-');
  afterAll(() => scratch.cleanup());

  /** A copy of the fixture folder with one file replaced (or removed when `content` is null). */
  function variant(name: string, file: string, content: string | Buffer | null): string {
    const dir = join(scratch.dir, name);
    mkdirSync(dir);
    for (const f of ['source.spm', 'target.spm', 'vocab.json', 'tokenizer_config.json']) {
      if (f !== file) copyFileSync(join(folder, f), join(dir, f));
    }
    if (content !== null) writeFileSync(join(dir, file), content);
    return dir;
  }

  /** A ModelProto that parses but that the C++ library refuses: a piece with empty text. */
  const piece = (text: string, type: number): Buffer => Buffer.concat([Buffer.from([0x0a, text.length]), Buffer.from(text), Buffer.from([0x18, type])]);
  const field1 = (body: Buffer): Buffer => Buffer.concat([Buffer.from([0x0a, body.length]), body]);
  const emptyPiece = Buffer.concat([field1(piece('<unk>', 2)), field1(piece('', 1))]);

  const broken: Array<[string, string, string | Buffer | null, string, RegExp]> = [
    ['spm-empty-piece', 'source.spm', emptyPiece, 'TOKENIZER_UNREADABLE', /source\.spm: the SentencePiece library cannot load it \(.*piece must not be empty/],
    ['spm-json', 'source.spm', '{"not": "a model"}', 'TOKENIZER_UNREADABLE', /source\.spm: is not a SentencePiece model/],
    ['spm-empty', 'target.spm', '', 'TOKENIZER_UNREADABLE', /target\.spm: is not a SentencePiece model \(it has no pieces\)/],
    ['spm-truncated', 'source.spm', readFileSync(join(folder, 'source.spm')).subarray(0, 5000), 'TOKENIZER_UNREADABLE', /source\.spm: is not a SentencePiece model \(.*truncated\)/],
    ['spm-missing', 'target.spm', null, 'TOKENIZER_NOT_FOUND', /target\.spm: no such file/],
    ['vocab-missing', 'vocab.json', null, 'TOKENIZER_NOT_FOUND', /has no vocab\.json/],
    ['vocab-not-json', 'vocab.json', '{"a": 1,', 'TOKENIZER_UNREADABLE', /vocab\.json: is not valid JSON/],
    ['vocab-list', 'vocab.json', '["</s>", "<unk>"]', 'TOKENIZER_UNREADABLE', /vocab\.json: is not a JSON object/],
    ['vocab-string-id', 'vocab.json', '{"</s>": 0, "<unk>": "1", "<pad>": 2}', 'TOKENIZER_UNREADABLE', /maps '<unk>' to a string/],
    ['vocab-duplicate-id', 'vocab.json', '{"</s>": 0, "<unk>": 1, "<pad>": 1}', 'TOKENIZER_UNREADABLE', /gives id 1 to both '<unk>' and '<pad>'/],
    ['vocab-no-unk', 'vocab.json', '{"</s>": 0, "<pad>": 1}', 'TOKENIZER_UNREADABLE', /has no '<unk>' token/],
    ['separate-vocabs', 'tokenizer_config.json', '{"separate_vocabs": true}', 'TOKENIZER_UNREADABLE', /separate_vocabs/],
  ];
  for (const [name, file, content, code, message] of broken) {
    it(`${name}: ${code}`, async () => {
      const error = await MarianTokenizer.load(variant(name, file, content)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code });
      expect((error as Error).message).toMatch(message);
    });
  }
});

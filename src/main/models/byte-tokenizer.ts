// A byte-level tokenizer in Hugging Face's tokenizer.json format: ids 0-2 are <pad>, <eos>, <bos>,
// byte b is id 3 + b (GPT-2's byte-to-unicode alphabet, no merges). Every language's text is
// representable, and a token is one UTF-8 byte — so scripts that need more bytes per character
// (Devanagari, Malayalam: 3) get more tokens, as with real tokenizers' long tails. Used by the
// tiny random models and the bundled demo (a vocabulary of 259 or more).
export const BYTE_TOKENIZER_OFFSET = 3;
export const BYTE_VOCAB = 259;

function byteAlphabet(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + extra++);
    }
  }
  const out = new Array<string>(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i])));
  return out;
}

export function byteTokenizerFiles(): { tokenizer: object; config: object } {
  const specials = ['<pad>', '<eos>', '<bos>'];
  const vocab: Record<string, number> = Object.fromEntries(specials.map((s, i) => [s, i]));
  byteAlphabet().forEach((ch, b) => (vocab[ch] = BYTE_TOKENIZER_OFFSET + b));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const bos = { SpecialToken: { id: '<bos>', type_id: 0 } };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: specials.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
      },
      decoder: byteLevel,
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
    },
    config: { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', add_bos_token: true, add_eos_token: false, model_max_length: 1 << 20 },
  };
}

// A trained BPE model (bpe-train.ts) as Hugging Face tokenizer files, in the layout of Gemma's own
// tokenizer.json: normalizer ' ' -> '▁', no pre-tokenizer, a BPE model with byte_fallback (a
// character outside the vocabulary becomes its UTF-8 byte pieces <0xNN>), <bos> prepended, and a
// decoder that turns '▁' back into spaces and byte pieces back into text.
//
// No pre-tokenizer, as in Gemma: the model sees a whole text at once. That encodes exactly as
// word-by-word would, because no learned merge can join two words — a '▁' only ever starts a
// word during training, so no merge has a right-hand side that starts with '▁'.
import { BPE_SPECIALS, METASPACE, type BpeModel } from './bpe-train';

export function bpeTokenizerFiles(model: BpeModel): { tokenizer: object; config: object } {
  const vocab: Record<string, number> = {};
  model.tokens.forEach((t, id) => {
    // A merge that rebuilt an existing string reused its id, so the strings are unique.
    if (!(t in vocab)) vocab[t] = id;
  });
  const bos = { SpecialToken: { id: '<bos>', type_id: 0 } };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: BPE_SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: { type: 'Replace', pattern: { String: ' ' }, content: METASPACE },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<bos>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: { '<bos>': { id: '<bos>', ids: [2], tokens: ['<bos>'] } },
      },
      decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: METASPACE }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        ignore_merges: false,
        vocab,
        // "left right": no token holds a U+0020 space (the normalizer has turned them into '▁').
        merges: model.merges.map(([a, b]) => `${a} ${b}`),
      },
    },
    config: { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', unk_token: '<unk>', add_bos_token: true, add_eos_token: false, model_max_length: 1 << 20 },
  };
}

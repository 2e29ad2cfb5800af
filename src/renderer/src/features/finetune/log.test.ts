// The monitor's log: live records appended and merged with the run folder's, a resume rewriting
// what came after its checkpoint, progress events read back into records, and the run's clock.
import { describe, expect, it } from 'vitest';
import type { EvalRecord, LogRecord, StepRecord } from '../../../../shared/finetune';
import { appendRecord, clock, mergeLog, recordOfProgress, runClock } from './log';

const step = (n: number, elapsed = n, extra: Partial<StepRecord> = {}): StepRecord => ({
  kind: 'step',
  step: n,
  loss: 1 / n,
  term1: 1 / n,
  term2: 0,
  lr: 0.001,
  grad_norm: 0.1,
  tokens: 100 * n,
  elapsed_s: elapsed,
  tokens_per_s: 100,
  rss_mib: 500,
  ...extra,
});
const evalAt = (n: number): EvalRecord => ({ kind: 'eval', step: n, heldout_loss: 0.9, heldout_term1: 0.9, heldout_term2: 0, gain_percent: { hi: 1 }, retention_percent: 99, retention_cosine: 0.99 });
const keys = (rs: LogRecord[]) => rs.map((r) => `${r.kind[0]}${r.step}`).join(' ');

describe('fine-tune log', () => {
  it('keeps every record in order, the eval after the step it follows', () => {
    let log: LogRecord[] = [];
    for (const r of [step(1), step(2), step(3), evalAt(3), step(4)]) log = appendRecord(log, r);
    expect(keys(log)).toBe('s1 s2 s3 e3 s4');
    // A repeated eval replaces the one at its step.
    expect(keys(appendRecord(log, evalAt(3)))).toBe('s1 s2 s3 e3 s4');
  });

  it('drops what came after a checkpoint when the run is resumed from it', () => {
    const log = [step(1), step(2), step(3), evalAt(3), step(4), step(5), step(6), evalAt(6)];
    expect(keys(appendRecord(log, step(4, 0.5)))).toBe('s1 s2 s3 e3 s4');
    expect(appendRecord(log, step(4, 0.5)).at(-1)).toMatchObject({ elapsed_s: 0.5 });
  });

  it('takes the folder\'s lines and adds only the live records after them', () => {
    const folder = [step(1), step(2), step(3), evalAt(3)];
    const liveEval = { ...evalAt(3), heldout_term1: Number.NaN };
    const merged = mergeLog(folder, [step(2), step(3), liveEval, step(4), step(5)]);
    expect(keys(merged)).toBe('s1 s2 s3 e3 s4 s5');
    expect((merged[3] as EvalRecord).heldout_term1).toBe(0.9);
    expect(keys(mergeLog([], [step(1)]))).toBe('s1');
  });

  it('reads records back from progress events and ignores other events', () => {
    const s = recordOfProgress({ jobId: 'j', stage: 'training', done: 4, total: 6, detail: { kind: 'step', step: 4, loss: 0.8, term1: 0.7, term2: 0.1, lr: 0.0004, grad_norm: 0.2, tokens: 900, elapsed_s: 7, tokens_per_s: 700, rss_mib: 1000 } });
    expect(s).toEqual({ kind: 'step', step: 4, loss: 0.8, term1: 0.7, term2: 0.1, lr: 0.0004, grad_norm: 0.2, tokens: 900, elapsed_s: 7, tokens_per_s: 700, rss_mib: 1000 });
    const e = recordOfProgress({ jobId: 'j', stage: 'training', done: 3, total: 6, detail: { kind: 'eval', heldout_loss: 0.9, retention_percent: 99.5, retention_cosine: 0.999, gain_hi: -1.3, gain_ml: null } });
    expect(e).toMatchObject({ kind: 'eval', step: 3, heldout_loss: 0.9, gain_percent: { hi: -1.3, ml: null }, retention_percent: 99.5, retention_cosine: 0.999 });
    expect(recordOfProgress({ jobId: 'j', stage: 'tokenizing', done: 1, total: 2 })).toBeNull();
    expect(recordOfProgress({ jobId: 'j', stage: 'training', done: 1, total: 2, detail: { kind: 'other' } })).toBeNull();
  });

  it('tells step x/y, elapsed and remaining, across a resume that restarted the clock', () => {
    expect(runClock([], 10)).toEqual({ step: 0, total: 10, elapsed: 0, remaining: null, tokensPerS: null, rssMib: null });
    const one = runClock([step(1, 2), step(2, 4), evalAt(2), step(3, 6)], 10);
    expect(one).toMatchObject({ step: 3, total: 10, elapsed: 6, remaining: 14 });
    // Resumed from step 2: its clock restarts; 3 s per step since.
    const resumed = runClock([step(1, 2), step(2, 4), step(3, 3), step(4, 6)], 10);
    expect(resumed).toMatchObject({ step: 4, elapsed: 10, remaining: 18 });
    expect(clock(0)).toBe('0:00');
    expect(clock(75.4)).toBe('1:15');
    expect(clock(3725)).toBe('1:02:05');
  });
});

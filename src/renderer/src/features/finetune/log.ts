// The monitor's step log: the run folder's steps.jsonl (read by finetune.status) and the records
// that arrive live as progress events, kept as one ordered list: every step ever logged, never a
// window. A resumed run rewrites what came after its checkpoint, and so does this list.
import type { ProgressEvent } from '../../../../shared/dto';
import type { EvalRecord, LogRecord, StepRecord } from '../../../../shared/finetune';

const order = (a: LogRecord, b: LogRecord) => a.step - b.step || (a.kind === b.kind ? 0 : a.kind === 'step' ? -1 : 1);

/** Adds one record. A step record at step s means the run is (again) at s: every record after s,
 * and the step record at s, are replaced (a resume from an earlier checkpoint); an eval record
 * replaces the eval at its step. */
export function appendRecord(records: readonly LogRecord[], record: LogRecord): LogRecord[] {
  const kept = record.kind === 'step' ? records.filter((r) => r.step < record.step) : records.filter((r) => !(r.kind === 'eval' && r.step === record.step));
  return [...kept, record].sort(order);
}

/** The run folder's log with the live records it does not hold yet (those after its last line):
 * the folder is the record, so where both hold a step the folder's line wins. */
export function mergeLog(fromFolder: readonly LogRecord[], live: readonly LogRecord[]): LogRecord[] {
  const last = fromFolder.at(-1);
  const key = (r: LogRecord) => `${r.kind}:${r.step}`;
  const held = new Set(fromFolder.map(key));
  const newer = live.filter((r) => !held.has(key(r)) && (!last || order(r, last) > 0));
  return [...fromFolder, ...newer].sort(order);
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

/** The record a fine-tune's progress event carries (stage "training" with `detail`), or null. The
 * event's eval figures lack the held-out terms: the monitor reads them from the folder later. */
export function recordOfProgress(p: ProgressEvent): LogRecord | null {
  const d = p.detail;
  if (!d || p.stage !== 'training') return null;
  if (d.kind === 'step') {
    const record: StepRecord = {
      kind: 'step',
      step: p.done,
      loss: num(d.loss),
      term1: num(d.term1),
      term2: num(d.term2),
      lr: num(d.lr),
      grad_norm: num(d.grad_norm),
      tokens: num(d.tokens),
      elapsed_s: num(d.elapsed_s),
      tokens_per_s: num(d.tokens_per_s),
      rss_mib: num(d.rss_mib),
    };
    return record;
  }
  if (d.kind === 'eval') {
    const gains = Object.entries(d)
      .filter(([k]) => k.startsWith('gain_'))
      .map(([k, v]) => [k.slice(5), typeof v === 'number' ? v : null] as const);
    const record: EvalRecord = {
      kind: 'eval',
      step: p.done,
      heldout_loss: num(d.heldout_loss),
      heldout_term1: Number.NaN,
      heldout_term2: Number.NaN,
      gain_percent: Object.fromEntries(gains),
      retention_percent: typeof d.retention_percent === 'number' ? d.retention_percent : null,
      retention_cosine: typeof d.retention_cosine === 'number' ? d.retention_cosine : null,
    };
    return record;
  }
  return null;
}

export const stepRecords = (records: readonly LogRecord[]): StepRecord[] => records.filter((r): r is StepRecord => r.kind === 'step');
export const evalRecords = (records: readonly LogRecord[]): EvalRecord[] => records.filter((r): r is EvalRecord => r.kind === 'eval');

export interface RunClock {
  step: number;
  total: number;
  /** Seconds of training so far, over every session of the run (a resumed run restarts its clock). */
  elapsed: number;
  /** Seconds left at the current session's pace; null before a step is timed. */
  remaining: number | null;
  tokensPerS: number | null;
  rssMib: number | null;
}

/** "step x/y, elapsed < remaining" from the log. elapsed_s restarts at 0 when a run resumes, so the
 * log is cut into sessions where it falls; the pace is the latest session's seconds per step. */
export function runClock(records: readonly LogRecord[], total: number): RunClock {
  const steps = stepRecords(records);
  const last = steps.at(-1);
  if (!last) return { step: 0, total, elapsed: 0, remaining: null, tokensPerS: null, rssMib: null };
  let elapsed = 0;
  let sessionStart = 0;
  steps.forEach((r, i) => {
    const prev = steps[i - 1];
    if (prev && r.elapsed_s < prev.elapsed_s) {
      elapsed += prev.elapsed_s;
      sessionStart = r.step - 1;
    }
  });
  elapsed += last.elapsed_s;
  const perStep = last.elapsed_s / Math.max(1, last.step - sessionStart);
  return {
    step: last.step,
    total,
    elapsed,
    remaining: Number.isFinite(perStep) ? perStep * Math.max(0, total - last.step) : null,
    tokensPerS: Number.isFinite(last.tokens_per_s) ? last.tokens_per_s : null,
    rssMib: Number.isFinite(last.rss_mib) ? last.rss_mib : null,
  };
}

/** m:ss, or h:mm:ss from an hour. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

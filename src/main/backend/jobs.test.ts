// The job registry on its own: joining identical requests, followers that leave, cancel from
// another follower, the bounded history and every kind of bad id. Work here is a promise the test
// settles by hand, so each state is reached on purpose (the RPC-level tests run real jobs).
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../shared/errors';
import type { JobContext } from './handler';
import { JobRegistry, type JobSink } from './jobs';
import { jobKey } from './job-summary';
import { rejection } from '../../../test/helpers/rejection';

/** Work that reports what the test tells it and ends when the test says. */
function gate() {
  let ctx: JobContext | undefined;
  let finish: (value: unknown) => void = () => {};
  let fail: (error: unknown) => void = () => {};
  let calls = 0;
  const work = (c: JobContext) => {
    calls++;
    ctx = c;
    return new Promise<unknown>((resolve, reject) => {
      finish = resolve;
      fail = reject;
      // Stops as a real job does: at its next check after a cancel.
      c.signal.addEventListener('abort', () => reject(new ApiError('CANCELLED', 'the job was cancelled')));
    });
  };
  return {
    work,
    started: async () => {
      await expect.poll(() => ctx).toBeDefined();
      return ctx!;
    },
    finish: (v: unknown) => finish(v),
    fail: (e: unknown) => fail(e),
    calls: () => calls,
  };
}

function recorder(): JobSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    progress: (stage, done, total) => events.push(`${stage} ${done}/${total}`),
    log: (level, message) => events.push(`${level}: ${message}`),
  };
}

const ARG = { languages: ['en', 'hi'], model: '/models/a' };

describe('JobRegistry', () => {
  it('joins an identical request (same method and argument, any key order, any jobId) instead of starting a second job', async () => {
    const jobs = new JobRegistry();
    const g = gate();
    const first = jobs.submit('fertility.run', { ...ARG, jobId: 'tab-1' }, g.work);
    const a = recorder();
    const followA = jobs.follow(first.jobId, a);
    const ctx = await g.started();
    ctx.progress('tokenizing', 1, 2);
    // Same argument, keys in another order, another client-chosen id: the same work.
    const second = jobs.submit('fertility.run', { model: '/models/a', jobId: 'tab-2', languages: ['en', 'hi'] }, g.work);
    expect(second).toEqual({ jobId: 'tab-2', joined: true });
    const b = recorder();
    const followB = jobs.follow(second.jobId, b);
    // The joiner sees the latest progress at once, then the same events as the first caller.
    expect(b.events).toEqual(['tokenizing 1/2']);
    ctx.progress('tokenizing', 2, 2);
    ctx.log('info', 'done tokenizing');
    g.finish({ rows: [1, 2] });
    expect(await followA).toEqual({ rows: [1, 2] });
    expect(await followB).toEqual({ rows: [1, 2] });
    expect(g.calls()).toBe(1);
    expect(a.events).toEqual(['tokenizing 1/2', 'tokenizing 2/2', 'info: done tokenizing']);
    expect(b.events).toEqual(['tokenizing 1/2', 'tokenizing 2/2', 'info: done tokenizing']);
    const listed = jobs.list();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ jobId: 'tab-1', method: 'fertility.run', state: 'done', joined: 1, clients: 0, outcome: { ok: true, summary: 'rows=2 items' } });
    // The joiner's id names the same job: attach and cancel both find it.
    expect(await jobs.follow('tab-2', recorder())).toEqual({ rows: [1, 2] });
    expect(jobs.cancel('tab-2')).toEqual({ cancelled: false, state: 'done' });
  });

  it('starts separate jobs for another argument, another method, or the same request after the first ended', async () => {
    const jobs = new JobRegistry();
    const g = [gate(), gate(), gate(), gate()];
    jobs.submit('fertility.run', ARG, g[0].work);
    jobs.submit('fertility.run', { ...ARG, languages: ['en', 'ml'] }, g[1].work);
    jobs.submit('fertility.export', ARG, g[2].work);
    expect(jobs.size).toBe(3);
    await g[0].started();
    g[0].finish(1);
    await expect.poll(() => jobs.size).toBe(2);
    const again = jobs.submit('fertility.run', ARG, g[3].work);
    expect(again.joined).toBe(false);
    expect(jobs.list().filter((j) => j.state === 'running')).toHaveLength(3);
    await expect.poll(() => g.map((x) => x.calls())).toEqual([1, 1, 1, 1]);
  });

  it('the key ignores jobId and key order, and tells arrays in another order apart', () => {
    expect(jobKey('m', { b: 1, a: { y: 2, x: 1 }, jobId: 'one' })).toBe(jobKey('m', { a: { x: 1, y: 2 }, b: 1 }));
    expect(jobKey('m', { a: [1, 2] })).not.toBe(jobKey('m', { a: [2, 1] }));
    expect(jobKey('m', { a: 1 })).not.toBe(jobKey('n', { a: 1 }));
    expect(jobKey('m', { a: 1, b: undefined })).toBe(jobKey('m', { a: 1 }));
  });

  it('runs on when every follower has left, stays listed, and can be followed again', async () => {
    const jobs = new JobRegistry();
    const g = gate();
    const { jobId } = jobs.submit('analysis.run', ARG, g.work);
    const connection = new AbortController();
    const follower = recorder();
    const followed = jobs.follow(jobId, follower, connection.signal);
    const ctx = await g.started();
    ctx.progress('extracting', 1, 10);
    expect(jobs.list()[0].clients).toBe(1);
    connection.abort(); // the tab closed
    expect((await rejection(followed)).code).toBe('CANCELLED');
    ctx.progress('extracting', 2, 10);
    expect(follower.events).toEqual(['extracting 1/10']);
    expect(jobs.list()[0]).toMatchObject({ jobId, state: 'running', clients: 0, progress: { stage: 'extracting', done: 2, total: 10 } });
    const later = recorder();
    const attached = jobs.follow(jobId, later);
    expect(later.events).toEqual(['extracting 2/10']);
    g.finish('value');
    expect(await attached).toBe('value');
  });

  it('cancels from any follower: every follower gets CANCELLED; a second cancel and a cancel after the end say so', async () => {
    const jobs = new JobRegistry();
    const g = gate();
    const changes: string[] = [];
    jobs.onChange((e) => changes.push(`${e.jobId}:${e.state}`));
    const { jobId } = jobs.submit('analysis.run', { ...ARG, jobId: 'x' }, g.work);
    const owner = jobs.follow(jobId, recorder());
    await g.started();
    expect(jobs.cancel('x')).toEqual({ cancelled: true, state: 'running' });
    expect(jobs.list()[0].cancelRequested).toBe(true);
    expect((await rejection(owner)).code).toBe('CANCELLED');
    expect(jobs.cancel('x')).toEqual({ cancelled: false, state: 'cancelled' });
    expect(jobs.list()[0]).toMatchObject({ state: 'cancelled', outcome: { ok: false, error: { code: 'CANCELLED' } } });
    // Attaching to it later answers its stored outcome.
    expect((await rejection(jobs.follow('x', recorder()))).code).toBe('CANCELLED');
    expect(changes).toEqual(['x:running', 'x:running', 'x:cancelled']);
  });

  it('keeps a failed job\'s typed error, and an unexpected error as INTERNAL with its first line only', async () => {
    const jobs = new JobRegistry();
    const typed = gate();
    const plain = gate();
    const a = jobs.submit('m', { n: 1 }, typed.work);
    const b = jobs.submit('m', { n: 2 }, plain.work);
    await typed.started();
    await plain.started();
    typed.fail(new ApiError('WEIGHTS_INVALID', 'bad shapes'));
    plain.fail(new Error('boom\n    at secret/path.ts:1'));
    expect((await rejection(jobs.follow(a.jobId, recorder()))).code).toBe('WEIGHTS_INVALID');
    const internal = await rejection(jobs.follow(b.jobId, recorder()));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.message).toBe('internal error: boom');
    expect(jobs.list().map((j) => j.state)).toEqual(['failed', 'failed']);
  });

  it('keeps the last `history` ended jobs and the values of the last `values`; older ones are typed errors', async () => {
    const jobs = new JobRegistry({ history: 3, values: 1 });
    for (let i = 0; i < 5; i++) {
      const g = gate();
      const { jobId } = jobs.submit('m', { i, jobId: `j${i}` }, g.work);
      await g.started();
      g.finish({ i, rows: [i] });
      await jobs.follow(jobId, recorder());
    }
    expect(jobs.list().map((j) => j.jobId).sort()).toEqual(['j2', 'j3', 'j4']);
    expect(await jobs.follow('j4', recorder())).toEqual({ i: 4, rows: [4] });
    const expired = await rejection(jobs.follow('j3', recorder()));
    expect(expired.code).toBe('JOB_RESULT_EXPIRED');
    expect(expired.details).toEqual({ jobId: 'j3', state: 'done' });
    expect(expired.message).toContain('i=3, rows=1 items');
    // The summary outlives the value.
    expect(jobs.list().find((j) => j.jobId === 'j3')!.outcome).toEqual({ ok: true, summary: 'i=3, rows=1 items' });
    const gone = await rejection(jobs.follow('j0', recorder()));
    expect(gone.code).toBe('JOB_NOT_FOUND');
    expect(gone.details).toEqual({ jobId: 'j0' });
    expect(() => jobs.cancel('j0')).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });

  it('answers ids never issued with JOB_NOT_FOUND, and refuses a requested id that names other running work', async () => {
    const jobs = new JobRegistry();
    for (const id of ['nope', 'job-0-0', '', ' ', '__proto__', 'constructor', 'x'.repeat(64)]) {
      expect((await rejection(jobs.follow(id, recorder()))).code).toBe('JOB_NOT_FOUND');
      expect(() => jobs.cancel(id)).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
    }
    const g = gate();
    jobs.submit('m', { a: 1, jobId: 'busy' }, g.work);
    expect(() => jobs.submit('m', { a: 2, jobId: 'busy' }, gate().work)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // A joiner's alias is taken too while the job runs.
    jobs.submit('m', { a: 1, jobId: 'alias' }, gate().work);
    expect(() => jobs.submit('m', { a: 3, jobId: 'alias' }, gate().work)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    await expect.poll(() => g.calls()).toBe(1);
    expect(jobs.list()).toHaveLength(1);
  });

  it('lets an ended job\'s id be used again: the new job replaces the old one in the list', async () => {
    const jobs = new JobRegistry();
    const g1 = gate();
    jobs.submit('m', { a: 1, jobId: 'same' }, g1.work);
    await g1.started();
    g1.finish('old');
    await jobs.follow('same', recorder());
    const g2 = gate();
    expect(jobs.submit('m', { a: 2, jobId: 'same' }, g2.work)).toEqual({ jobId: 'same', joined: false });
    expect(jobs.list().map((j) => `${j.jobId}:${j.state}`)).toEqual(['same:running']);
    await g2.started();
    g2.finish('new');
    expect(await jobs.follow('same', recorder())).toBe('new');
  });

  it('summarises the argument in one bounded line (paths shortened, lists counted)', () => {
    const jobs = new JobRegistry();
    jobs.submit('analysis.run', { model: '/home/u/models/demo/model', saes: Array.from({ length: 12 }, (_, i) => `/s/${i}`), languages: ['en', 'hi'], settings: { reduction: 'max' }, text: 'y'.repeat(10_000), jobId: 'j' }, gate().work);
    const [info] = jobs.list();
    expect(info.summary.startsWith('model=…/demo/model, saes=12 items, languages=en hi, settings=reduction=max, text=yyy')).toBe(true);
    expect(info.summary.length).toBeLessThanOrEqual(240);
    expect(info.summary).not.toContain('jobId');
  });
});

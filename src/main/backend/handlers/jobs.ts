import type { HandlerMap } from '../handler';
import type { JobRegistry } from '../jobs';

/** jobs.*: what runs, following one job from any connection, and stopping it. The server gives
 * `jobs.attach` a context whose events reach the attaching connection and whose signal ends when
 * that connection closes (the job itself runs on). */
export function jobHandlers(jobs: JobRegistry): HandlerMap<'jobs.list' | 'jobs.attach' | 'jobs.cancel'> {
  return {
    'jobs.list': async () => jobs.list(),
    'jobs.attach': async ({ jobId }, ctx) => jobs.follow(jobId, ctx, ctx.signal),
    'jobs.cancel': async ({ jobId }) => jobs.cancel(jobId),
  };
}

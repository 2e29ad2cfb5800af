// Serves the backend's handler map over one transport: validates every payload against the
// contract, runs the handler with a job context, and returns typed errors as plain data.
import { backendContract, isMethod, jobMethods, type BackendMethod } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { ApiEventName, ApiEvents } from '../../shared/dto';
import { readCall, type CallMessage, type Transport } from '../../shared/rpc';
import type { HandlerMap, JobContext } from './handler';
import { JobRegistry } from './jobs';

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError('INTERNAL', `internal error: ${message.split('\n')[0]}`);
}

function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function serveConnection(transport: Transport, handlers: HandlerMap, jobs: JobRegistry): () => void {
  const emit = <E extends ApiEventName>(name: E, payload: ApiEvents[E]) =>
    transport.send({ kind: 'event', name, payload });

  const respond = async (message: CallMessage) => {
    const { id, method } = message;
    try {
      if (!isMethod(method) || !(method in backendContract)) {
        // A hostile name can be megabytes long: echo only its start.
        throw new ApiError('UNKNOWN_METHOD', `the backend has no method ${JSON.stringify(method.length > 80 ? `${method.slice(0, 80)}…` : method)}`);
      }
      const name = method as BackendMethod;
      const parsed = backendContract[name].input.safeParse(message.arg ?? {});
      if (!parsed.success) {
        throw new ApiError('INVALID_ARGUMENT', `${name}: ${describeIssues(parsed.error.issues)}`, {
          issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
        });
      }
      // Only job methods are registered (and so cancellable); `jobs.cancel`'s jobId names its target.
      const job = jobMethods.includes(name) ? jobs.start((parsed.data as { jobId?: string }).jobId) : jobs.detached();
      const ctx: JobContext = {
        jobId: job.jobId,
        signal: job.signal,
        progress: (stage, done, total, etaSeconds) => emit('progress', { jobId: job.jobId, stage, done, total, ...(etaSeconds !== undefined && Number.isFinite(etaSeconds) ? { etaSeconds } : {}) }),
        log: (level, text) => emit('log', { level, message: text, jobId: job.jobId }),
      };
      try {
        const handler = handlers[name] as (a: unknown, c: JobContext) => Promise<unknown>;
        const value = await handler(parsed.data, ctx);
        transport.send({ kind: 'result', id, ok: true, value });
      } finally {
        job.finish();
      }
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.code === 'INTERNAL') emit('error', { code: apiError.code, message: apiError.message });
      transport.send({ kind: 'result', id, ok: false, error: apiError.toData() });
    }
  };

  // Every transport ends here (the renderer's MessagePort too), so the envelope is checked here
  // as well as in the harness: junk gets a typed answer and never throws inside the backend.
  return transport.onMessage((message) => {
    const read = readCall(message);
    if ('reply' in read) transport.send(read.reply);
    else void respond(read.call);
  });
}

// Serves the backend's handler map over one transport: validates every payload against the
// contract, runs the handler with a job context, and returns typed errors as plain data.
import { backendContract, isMethod, jobMethods, type BackendMethod } from '../../shared/contract';
import { ApiError } from '../../shared/errors';
import type { ApiEventName, ApiEvents } from '../../shared/dto';
import { readCall, type CallMessage, type Transport } from '../../shared/rpc';
import { toApiError } from './api-error';
import type { HandlerMap, JobContext } from './handler';
import type { JobRegistry, JobSink } from './jobs';

export { toApiError };

function describeIssues(issues: { path: PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export function serveConnection(transport: Transport, handlers: HandlerMap, jobs: JobRegistry): () => void {
  // Aborted when the connection closes: its followers stop listening, its jobs run on.
  const connection = new AbortController();
  const emit = <E extends ApiEventName>(name: E, payload: ApiEvents[E]) => {
    if (!connection.signal.aborted) transport.send({ kind: 'event', name, payload });
  };
  const send: Transport['send'] = (message) => {
    if (!connection.signal.aborted) transport.send(message);
  };
  /** Events of a job, labelled with the id this connection knows it by (its own jobId when it joined). */
  const sinkFor = (jobId: string): JobSink => ({
    progress: (stage, done, total, etaSeconds, detail) =>
      emit('progress', { jobId, stage, done, total, ...(etaSeconds !== undefined && Number.isFinite(etaSeconds) ? { etaSeconds } : {}), ...(detail ? { detail } : {}) }),
    log: (level, text) => emit('log', { level, message: text, jobId }),
  });
  const stopChanges = jobs.onChange((event) => emit('jobs', event));

  const run = async (name: BackendMethod, arg: unknown): Promise<unknown> => {
    const handler = handlers[name] as (a: unknown, c: JobContext) => Promise<unknown>;
    if (jobMethods.includes(name)) {
      // A backend job: it outlives this connection; this call only follows it.
      const { jobId } = jobs.submit(name, arg as Record<string, unknown>, (ctx) => handler(arg, ctx));
      return jobs.follow(jobId, sinkFor(jobId), connection.signal);
    }
    if (name === 'jobs.attach') {
      // The attached job's events reach this connection under the id it was attached by.
      const { jobId } = arg as { jobId: string };
      return handler(arg, { jobId, signal: connection.signal, ...sinkFor(jobId) });
    }
    const call = jobs.detached();
    return handler(arg, { ...call, ...sinkFor(call.jobId) });
  };

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
      const value = await run(name, parsed.data);
      send({ kind: 'result', id, ok: true, value });
    } catch (error) {
      const apiError = toApiError(error);
      if (apiError.code === 'INTERNAL') emit('error', { code: apiError.code, message: apiError.message });
      send({ kind: 'result', id, ok: false, error: apiError.toData() });
    }
  };

  // Every transport ends here (the renderer's MessagePort too), so the envelope is checked here
  // as well as in the harness: junk gets a typed answer and never throws inside the backend.
  const stopMessages = transport.onMessage((message) => {
    const read = readCall(message);
    if ('reply' in read) send(read.reply);
    else void respond(read.call);
  });
  return () => {
    stopMessages();
    stopChanges();
    connection.abort();
  };
}

// The typed client every front end uses: `api.languages.list({})`, `api.on('progress', cb)`.
import { ApiError, isApiErrorData } from './errors';
import { methods, type Input, type Method, type Output } from './contract';
import type { ApiEventName, ApiEvents } from './dto';
import type { Transport, WireMessage } from './rpc';

type Split<S extends string> = S extends `${infer Domain}.${infer Name}` ? [Domain, Name] : never;
type DomainOf<M extends Method> = Split<M>[0];
type NameOf<M extends Method> = Split<M>[1];

/** `{ languages: { list(arg): Promise<Language[]> }, ... }` built from the contract's dotted names. */
export type ApiMethods = {
  [D in DomainOf<Method>]: {
    [M in Method as DomainOf<M> extends D ? NameOf<M> : never]: (arg: Input<M>) => Promise<Output<M>>;
  };
};

export interface ApiEventsApi {
  on<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
}

export type Api = ApiMethods & ApiEventsApi;

export type Invoke = (method: Method, arg: unknown) => Promise<unknown>;

/** Builds the nested method object from a flat `invoke`. Used by the client and by the preload. */
export function buildMethods(invoke: Invoke): ApiMethods {
  const api: Record<string, Record<string, (arg: unknown) => Promise<unknown>>> = {};
  for (const name of methods) {
    const [domain, fn] = name.split('.') as [string, string];
    (api[domain] ??= {})[fn] = (arg: unknown) => invoke(name, arg ?? {});
  }
  return api as unknown as ApiMethods;
}

export interface RpcClient {
  invoke: Invoke;
  on: ApiEventsApi['on'];
  /** Rejects every pending call (e.g. when the connection is lost). */
  failAll(error: ApiError): void;
  dispose(): void;
}

export function createRpcClient(transport: Transport): RpcClient {
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<ApiEventName, Set<(payload: unknown) => void>>();

  const stop = transport.onMessage((message: WireMessage) => {
    if (message.kind === 'result') {
      const call = pending.get(message.id);
      if (!call) return;
      pending.delete(message.id);
      if (message.ok) call.resolve(message.value);
      else call.reject(isApiErrorData(message.error) ? ApiError.fromData(message.error) : new ApiError('INTERNAL', 'malformed error from backend'));
    } else if (message.kind === 'event') {
      listeners.get(message.name)?.forEach((l) => l(message.payload));
    } else if (message.kind === 'protocol-error') {
      // The backend could not read one of our messages well enough to find its id: no call can
      // be matched, so it is reported like any other backend error event.
      listeners.get('error')?.forEach((l) => l({ code: message.error.code, message: message.error.message }));
    }
  });

  return {
    invoke(method, arg) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        transport.send({ kind: 'call', id, method, arg });
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener as (payload: unknown) => void);
      return () => set.delete(listener as (payload: unknown) => void);
    },
    failAll(error) {
      for (const call of pending.values()) call.reject(error);
      pending.clear();
    },
    dispose() {
      stop();
      this.failAll(new ApiError('CANCELLED', 'the connection to the backend was closed'));
    },
  };
}

export function createApi(transport: Transport): Api & { dispose(): void; failAll(error: ApiError): void } {
  const client = createRpcClient(transport);
  return Object.assign(buildMethods(client.invoke), { on: client.on, dispose: () => client.dispose(), failAll: (error: ApiError) => client.failAll(error) });
}

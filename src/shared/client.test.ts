// The typed client's side of protocol errors: an answer it cannot match to a call is reported as
// an 'error' event; a result carrying a call's id settles that call.
import { describe, expect, it } from 'vitest';
import { createRpcClient } from './client';
import type { ErrorEvent } from './dto';
import { ApiError } from './errors';
import { createTransportPair, type WireMessage } from './rpc';

describe('rpc client and protocol errors', () => {
  it('reports a protocol-error as an error event and settles calls by id', async () => {
    const [client, server] = createTransportPair();
    const rpc = createRpcClient(client);
    const events: ErrorEvent[] = [];
    rpc.on('error', (e) => events.push(e));
    server.onMessage((m) => {
      if (m.kind !== 'call') return;
      server.send({ kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message: 'the message is not JSON' } });
      server.send({ kind: 'result', id: m.id, ok: false, error: { code: 'PAYLOAD_TOO_LARGE', message: 'too large', details: { limit: 1 } } });
    });
    const error = await rpc.invoke('languages.list', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limit: 1 } });
    expect(events).toEqual([{ code: 'PROTOCOL_ERROR', message: 'the message is not JSON' }]);
  });

  it('ignores answers for calls it never made', async () => {
    const [client, server] = createTransportPair();
    const rpc = createRpcClient(client);
    server.onMessage((m) => m.kind === 'call' && server.send({ kind: 'result', id: m.id, ok: true, value: 'mine' }));
    server.send({ kind: 'result', id: 999, ok: true, value: 'stray' } satisfies WireMessage);
    expect(await rpc.invoke('languages.list', {})).toBe('mine');
  });
});

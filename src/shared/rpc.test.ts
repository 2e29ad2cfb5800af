// readCall: the envelope check every transport's receiving end runs before serving a call.
import { describe, expect, it } from 'vitest';
import { MAX_ARG_DEPTH, readCall } from './rpc';

const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);

describe('readCall', () => {
  it('passes a well-formed call through, ignoring extra envelope keys', () => {
    expect(readCall({ kind: 'call', id: 3, method: 'languages.list', arg: { a: [1] }, extra: true })).toEqual({
      call: { kind: 'call', id: 3, method: 'languages.list', arg: { a: [1] } },
    });
    expect(readCall({ kind: 'call', id: 0, method: 'x' })).toEqual({ call: { kind: 'call', id: 0, method: 'x', arg: undefined } });
  });

  it.each([null, undefined, 0, 'call', true, [], [{ kind: 'call', id: 1, method: 'm' }]])('non-objects get a protocol-error: %j', (value) => {
    const read = readCall(value);
    expect(read).toMatchObject({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR' } } });
    expect(JSON.stringify(read)).toContain('JSON object');
  });

  it.each([{}, { kind: 'call', method: 'm' }, { id: '1' }, { id: 1.5 }, { id: null }, { id: 2 ** 60 }, { id: Number.NaN }])('no readable id: protocol-error (%j)', (value) => {
    expect(readCall(value)).toMatchObject({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message: expect.stringContaining('"id"') } } });
  });

  it.each([
    { id: 4, method: 'm' },
    { id: 4, kind: 'result', method: 'm' },
    { id: 4, kind: 'call' },
    { id: 4, kind: 'call', method: 7 },
    { id: 4, kind: 'call', method: null },
  ])('a readable id gets a result carrying it: %j', (value) => {
    expect(readCall(value)).toEqual({ reply: { kind: 'result', id: 4, ok: false, error: { code: 'PROTOCOL_ERROR', message: expect.any(String) } } });
  });

  it(`refuses arguments nested deeper than ${MAX_ARG_DEPTH} levels, and only those`, () => {
    // nest(d) is d arrays deep; the arg object adds one level.
    expect(readCall({ kind: 'call', id: 1, method: 'm', arg: { a: nest(MAX_ARG_DEPTH - 1) } })).toHaveProperty('call');
    const deep = readCall({ kind: 'call', id: 1, method: 'm', arg: { a: nest(MAX_ARG_DEPTH) } });
    expect(deep).toMatchObject({ reply: { kind: 'result', id: 1, ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining(`deeper than ${MAX_ARG_DEPTH}`) } } });
    // A very deep value is refused without walking (or recursing) through all of it.
    let v: unknown = 0;
    for (let i = 0; i < 1_000_000; i++) v = [v];
    expect(readCall({ kind: 'call', id: 2, method: 'm', arg: v })).toMatchObject({ reply: { id: 2, error: { code: 'INVALID_ARGUMENT' } } });
  });
});

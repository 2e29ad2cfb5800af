// readFrame: every kind of WebSocket frame gets a call or a typed answer, never an exception.
import { describe, expect, it } from 'vitest';
import { FRAME_LIMIT_BYTES, MESSAGE_LIMIT_BYTES, readFrame } from './frames';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('readFrame', () => {
  it('reads a call from a UTF-8 JSON text frame', () => {
    expect(readFrame(text('{"kind":"call","id":1,"method":"languages.add","arg":{"code":"ml"}}'), false)).toEqual({
      call: { kind: 'call', id: 1, method: 'languages.add', arg: { code: 'ml' } },
    });
    expect(readFrame(text('{"kind":"call","id":1,"method":"m","arg":{"t":"मराठी 🙂"}}'), false)).toHaveProperty('call.arg.t', 'मराठी 🙂');
  });

  it.each([
    ['bytes never in UTF-8', [0x7b, 0xff, 0x7d]],
    ['an overlong encoding', [0x22, 0xc0, 0xaf, 0x22]],
    ['an encoded surrogate', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82]],
    ['a code point over U+10FFFF', [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]],
  ])('refuses a text frame with %s', (_name, bytes) => {
    expect(readFrame(Buffer.from(bytes), false)).toEqual({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message: 'the text frame is not valid UTF-8' } } });
  });

  it('refuses binary frames, even ones holding a valid call', () => {
    const read = readFrame(text('{"kind":"call","id":1,"method":"languages.list","arg":{}}'), true);
    expect(read).toMatchObject({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message: expect.stringContaining('binary') } } });
  });

  it.each(['', '{', 'NaN', "{'a':1}", '{"kind":"call",', '{"arg":{"id":3}', '{"kind":"call","method":"m","id":4,', '\u0000'])('answers text that is not JSON, without a readable id: %j', (s) => {
    expect(readFrame(text(s), false)).toMatchObject({ reply: { kind: 'protocol-error', error: { code: 'PROTOCOL_ERROR', message: expect.stringContaining('not JSON') } } });
  });

  it.each([
    ['{"id":1}}', 1],
    ['{"kind":"call","id":42,"method":"languages.list","arg":{', 42],
    [' { "kind" : "call" , "id" : 7 , "method": "m", "arg": {"x": tru', 7],
  ])('answers damaged JSON whose leading id is readable with a result carrying it: %j', (s, id) => {
    expect(readFrame(text(s), false)).toMatchObject({ reply: { kind: 'result', id, ok: false, error: { code: 'PROTOCOL_ERROR', message: expect.stringContaining('not JSON') } } });
  });

  it('answers a message over the limit with its id, its method and the field that made it large', () => {
    const head = '{"kind":"call","id":9,"method":"model.activations","arg":{"model":"m","tokenIds":[';
    const body = head + '1234567,'.repeat(Math.ceil(MESSAGE_LIMIT_BYTES / 8)) + '1]}}';
    const read = readFrame(text(body), false);
    expect(read).toMatchObject({
      reply: { kind: 'result', id: 9, ok: false, error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: MESSAGE_LIMIT_BYTES, bytes: body.length, field: 'tokenIds' } } },
    });
    expect(JSON.stringify(read)).toMatch(/model\.activations: the message is 16\.0 MiB, over the 16\.0 MiB.*arg\.tokenIds alone is 16\.0 MiB \(2097153 items\)/);
  });

  it('reads the leading id of an oversized message that is not JSON either', () => {
    const cut = '{"kind":"call","id":78,"method":"m","arg":"' + 'a'.repeat(MESSAGE_LIMIT_BYTES);
    expect(readFrame(text(cut), false)).toMatchObject({ reply: { kind: 'result', id: 78, ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('answers an oversized message without a readable id with a protocol-error', () => {
    expect(readFrame(Buffer.alloc(MESSAGE_LIMIT_BYTES + 1, 0x20), false)).toMatchObject({
      reply: { kind: 'protocol-error', error: { code: 'PAYLOAD_TOO_LARGE', details: { limit: MESSAGE_LIMIT_BYTES, bytes: MESSAGE_LIMIT_BYTES + 1 } } },
    });
  });

  it('admits a message exactly at the limit and keeps the frame limit above it', () => {
    const head = '{"kind":"call","id":2,"method":"m","arg":{"s":"';
    const exact = head + 'a'.repeat(MESSAGE_LIMIT_BYTES - head.length - 3) + '"}}';
    expect(exact.length).toBe(MESSAGE_LIMIT_BYTES);
    expect(readFrame(text(exact), false)).toHaveProperty('call.id', 2);
    expect(FRAME_LIMIT_BYTES).toBeGreaterThan(MESSAGE_LIMIT_BYTES);
  });
});

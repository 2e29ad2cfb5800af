// One WebSocket frame from a browser tab -> a call for the backend, or the typed answer to send
// back. Never throws: whatever a client sends, the harness answers and keeps serving.
import { isUtf8 } from 'node:buffer';
import { readCall, type ReadCall, type WireMessage } from '../../shared/rpc';
import type { ApiErrorData } from '../../shared/errors';

/** The largest contract-valid call, sent compactly, is model.activations with 1,000,000 token ids
 * of up to 10 digits (about 11 MB); every call the contract admits fits in 16 MiB. */
export const MESSAGE_LIMIT_BYTES = 16 * 1024 * 1024;
/** ws `maxPayload`: frames up to here are still read, so an oversized call is answered with its
 * id and the field that made it large; past it ws stops reading and closes with 1009 (Message Too
 * Big). Also the most memory one frame of one connection can take. */
export const FRAME_LIMIT_BYTES = 2 * MESSAGE_LIMIT_BYTES;

const MiB = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function protocolError(message: string, id?: number): ReadCall {
  const error = { code: 'PROTOCOL_ERROR' as const, message };
  return { reply: id === undefined ? { kind: 'protocol-error', error } : { kind: 'result', id, ok: false, error } };
}

/** The id of a call whose JSON is cut short or damaged after its start. Only an `"id"` that is the
 * first key of the top-level object, or the second after `"kind"` (the order every client here
 * writes), counts: nothing nested can come before it, so it cannot be an id inside `arg`. */
const LEADING_ID = /^\s*\{\s*(?:"kind"\s*:\s*"[a-z-]{0,20}"\s*,\s*)?"id"\s*:\s*(\d{1,15})\s*[,}]/;
export function leadingId(text: string): number | undefined {
  const match = LEADING_ID.exec(text.slice(0, 200));
  return match ? Number(match[1]) : undefined;
}

/** The argument's field with the longest JSON text, e.g. {name: 'tokenIds', bytes, items}. */
function largestField(arg: unknown): { name: string; bytes: number; items?: number } | undefined {
  if (typeof arg !== 'object' || arg === null || Array.isArray(arg)) return undefined;
  let best: { name: string; bytes: number; items?: number } | undefined;
  for (const [name, value] of Object.entries(arg)) {
    const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
    if (!best || bytes > best.bytes) best = { name, bytes, ...(Array.isArray(value) ? { items: value.length } : {}) };
  }
  return best;
}

function tooLarge(text: string, bytes: number): ReadCall {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const m = (typeof value === 'object' && value !== null ? value : {}) as { id?: unknown; method?: unknown; arg?: unknown };
  const id = Number.isSafeInteger(m.id) ? (m.id as number) : leadingId(text);
  const method = typeof m.method === 'string' ? m.method.slice(0, 80) : undefined;
  let field: ReturnType<typeof largestField>;
  try {
    field = largestField(m.arg);
  } catch {
    field = undefined; // nested too deeply to measure: the size alone is reported
  }
  const what = field ? `; arg.${field.name.slice(0, 40)} alone is ${MiB(field.bytes)}${field.items !== undefined ? ` (${field.items} items)` : ''}` : '';
  const error: ApiErrorData = {
    code: 'PAYLOAD_TOO_LARGE',
    message: `${method ? `${method}: ` : ''}the message is ${MiB(bytes)}, over the ${MiB(MESSAGE_LIMIT_BYTES)} one message may carry${what}`,
    details: { limit: MESSAGE_LIMIT_BYTES, bytes, ...(field ? { field: field.name.slice(0, 40) } : {}) },
  };
  const reply: WireMessage = id !== undefined ? { kind: 'result', id, ok: false, error } : { kind: 'protocol-error', error };
  return { reply };
}

export function readFrame(data: Buffer, isBinary: boolean): ReadCall {
  if (isBinary) return protocolError('binary frames are not part of the protocol: send each call as one JSON text frame');
  // ws's own check would close the connection (1007); checking here answers and keeps it open.
  if (!isUtf8(data)) return protocolError('the text frame is not valid UTF-8');
  const text = data.toString('utf8');
  if (data.length > MESSAGE_LIMIT_BYTES) return tooLarge(text, data.length);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return protocolError(`the message is not JSON: ${(error as Error).message.slice(0, 120)}`, leadingId(text));
  }
  return readCall(value);
}

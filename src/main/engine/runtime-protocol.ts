// Messages between the RuntimeHost and its compute worker (structured clone; tensors are copied).
import type { ApiErrorData } from '../../shared/errors';
import type { ProviderAttempt, ProviderName } from './providers';
import type { HostTensor, SessionOptions } from './session';

export type RuntimeRequest =
  | { id: number; op: 'probe' }
  | { id: number; op: 'load'; model: Uint8Array | string; options: SessionOptions }
  | { id: number; op: 'run'; handle: number; feeds: Record<string, HostTensor>; fetches?: readonly string[] }
  | { id: number; op: 'release'; handle: number }
  /** Release every session before the thread ends (closing the host). */
  | { id: number; op: 'releaseAll' };

export type RuntimeReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ApiErrorData };

export interface LoadedSession {
  handle: number;
  provider: ProviderName;
  attempts: ProviderAttempt[];
  inputNames: string[];
  outputNames: string[];
}

import { ApiError } from '../../shared/errors';

/** Any thrown value as the typed error that crosses the wire: an unexpected one is INTERNAL and
 * keeps only its first line (a stack or a multi-line message never reaches the user). */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError('INTERNAL', `internal error: ${message.split('\n')[0]}`);
}

// Errors about benchmark files: one line naming the file (and the line or row and field where there
// is one), never the file's text, so an error message cannot become a way to read a file.
import { basename } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { quoteToken } from '../../io/input-file';

/** Where in a file a row is: a JSONL line, a parquet row or an item of a JSON array (1-based). */
export interface RowPlace {
  file: string;
  unit: 'line' | 'row' | 'item';
  index: number;
}

export function fileError(file: string, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('INVALID_ARGUMENT', `${basename(file) || file} ${message}`, { file, ...details });
}

export function rowError(place: RowPlace, message: string, details: Record<string, unknown> = {}): ApiError {
  return new ApiError('INVALID_ARGUMENT', `${basename(place.file) || place.file} ${place.unit} ${place.index}: ${message}`, {
    file: place.file,
    [place.unit]: place.index,
    ...details,
  });
}

/** Field names from a file, quoted when they are short plain tokens, at most `max` of them. */
export function fieldList(names: readonly string[], max = 12): string {
  if (names.length === 0) return 'no fields';
  const shown = names.slice(0, max).map((n) => quoteToken(n));
  return names.length > max ? `${shown.join(', ')} and ${names.length - max} more` : shown.join(', ');
}

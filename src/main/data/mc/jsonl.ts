// JSON lines (alexandrainst's data/{lang}/{split}.jsonl and the generic form): one object per
// line, blank lines skipped (they are no item and take no doc_id), streamed under the line and
// file bounds.
import { closeSync } from 'node:fs';
import { CORPUS_CODES, jsonErrorWhere, openRegularFile } from '../../io/input-file';
import { describeValue, isPlainObject, type RawFile, type RawRow } from './container';
import { fileError, rowError } from './errors';
import type { McLimits } from './limits';
import { fileLines, sha256 } from './lines';

export function readJsonLines(path: string, limits: McLimits, what = 'benchmark file', unit = 'one item'): RawFile {
  const { fd, size } = openRegularFile(path, CORPUS_CODES, what);
  const hash = sha256();
  const rows: RawRow[] = [];
  try {
    if (size > limits.fileBytes) throw fileError(path, `is ${size} bytes, over the ${limits.fileBytes}-byte limit for a ${what}`, { limit: limits.fileBytes, bytes: size });
    for (const { line, text } of fileLines(path, fd, { ...limits, what, unit }, hash)) {
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw rowError({ file: path, unit: 'line', index: line }, `is not valid JSON (${jsonErrorWhere(error)})`);
      }
      if (!isPlainObject(value)) throw rowError({ file: path, unit: 'line', index: line }, `holds ${describeValue(value)}, not an object (one item per line)`);
      rows.push({ index: line, raw: value });
    }
  } finally {
    closeSync(fd);
  }
  if (rows.length === 0) throw fileError(path, 'is empty: no items (one JSON object per line)');
  return { format: 'jsonl', sha256: hash.digest('hex'), unit: 'line', fieldsAt: rows[0].index, fields: Object.keys(rows[0].raw), rows };
}

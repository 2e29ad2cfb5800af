// The Okapi release's files (nlp.uoregon.edu/download/okapi-eval/datasets/{m_arc,m_hellaswag,
// m_mmlu}/{lang}_{split}.json): one JSON array of row objects per file, read whole under a bound.
// Their rows carry the same fields as alexandrainst's JSONL (which was converted from them).
import { createHash } from 'node:crypto';
import { CORPUS_CODES, jsonErrorWhere, readRegularFile } from '../../io/input-file';
import { describeValue, isPlainObject, type RawFile } from './container';
import { fileError, rowError } from './errors';
import type { McLimits } from './limits';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function readOkapiJson(path: string, limits: McLimits): RawFile {
  const bytes = readRegularFile(path, CORPUS_CODES, limits.wholeFileBytes, 'benchmark file');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytes.includes(0)) throw fileError(path, 'holds a NUL byte: a binary file, not JSON');
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw fileError(path, 'is not valid UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fileError(path, `is not valid JSON (${jsonErrorWhere(error)})`);
  }
  if (!Array.isArray(value)) throw fileError(path, `holds ${describeValue(value)}, not a list of items`);
  if (value.length === 0) throw fileError(path, 'is empty: the list holds no items');
  const rows = value.map((raw, i) => {
    if (!isPlainObject(raw)) throw rowError({ file: path, unit: 'item', index: i + 1 }, `is ${describeValue(raw)}, not an object`);
    return { index: i + 1, raw };
  });
  return { format: 'okapi-json', sha256, unit: 'item', fieldsAt: 1, fields: Object.keys(rows[0].raw), rows };
}

// What each file reader hands back: the file's rows as plain objects with their places, the field
// names that decide the format (the first row's keys, or a parquet file's columns) and the hash.
import type { McFileFormat } from './types';

export interface RawRow {
  /** 1-based JSONL line, parquet row or JSON array item. */
  index: number;
  raw: Record<string, unknown>;
}

export interface RawFile {
  format: McFileFormat;
  sha256: string;
  unit: 'line' | 'row' | 'item';
  /** Place of `fields` for messages: the first row's index, or null for a parquet schema. */
  fieldsAt: number | null;
  fields: string[];
  rows: RawRow[];
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

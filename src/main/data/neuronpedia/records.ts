// The three record kinds of a Neuronpedia export, checked field by field. Fields follow the
// database rows the export script writes (`Activation`, `Neuron`, `Explanation`): `index` is a
// string; an activation record's `tokens[i]` has the activation `values[i]`; `maxValue` is their
// maximum, at `maxValueTokenIndex`; `binMin` -1 marks the top-activation group. Errors name the file,
// the line and the field, never the content.
import { ApiError } from '../../../shared/errors';
import { quoteToken, quoteValue } from '../../io/input-file';

/** Where a record came from, for messages and provenance. */
export interface RecordWhere {
  /** Absolute path. */
  file: string;
  /** How messages name it, e.g. `activations/batch-0.jsonl.gz`. */
  label: string;
  line: number;
}

/** Which model and source the records must belong to (fields absent from a record are not checked). */
export interface Expected {
  modelId: string | null;
  sourceId: string;
}

export interface ActivationRecord {
  index: number;
  tokens: string[];
  values: number[];
  maxValue: number;
  maxValueTokenIndex: number;
  binMin: number | null;
  id: string | null;
  where: RecordWhere;
}

export interface FeatureRow {
  index: number;
  maxActApprox: number | null;
}

export interface ExplanationRow {
  index: number;
  description: string;
}

/** A value past this is not an SAE activation (residual-stream features reach tens to hundreds);
 * such a file is refused rather than turned into a threshold. */
export const ABSURD_ACTIVATION = 1e9;
/** Tokens per record: Neuronpedia's examples are 128 tokens (some sources 1024); anything past
 * this is not an example window. */
export const MAX_RECORD_TOKENS = 65_536;

function fail(where: RecordWhere, message: string, field?: string): ApiError {
  return new ApiError('NEURONPEDIA_INVALID', `${where.label} line ${where.line}: ${message}`, { file: where.file, line: where.line, ...(field ? { field } : {}) });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A feature index: the export writes decimal strings ("42"); a whole number (some API answers) is
 * accepted too. Leading zeros, signs, exponents and fractions are refused: "042" and "42" would
 * name one feature in two ways. */
export function parseIndex(value: unknown, where: RecordWhere, field = 'index'): number {
  if (typeof value === 'string' && /^(0|[1-9]\d{0,9})$/.test(value)) return Number(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (value === undefined) throw fail(where, `has no "${field}"`, field);
  throw fail(where, `"${field}" must be a feature number written as a decimal string, found ${quoteValue(value)}`, field);
}

/** Refuses a line whose `layer` (source) or `modelId` is not the expected one; fields a line lacks
 * are not checked. Run on every line read, so a file of another source is refused wherever it sits. */
export function checkBelongs(record: Record<string, unknown>, where: RecordWhere, expected: Expected): void {
  const layer = record.layer;
  if (layer !== undefined && layer !== null && layer !== expected.sourceId) {
    throw fail(where, `is a record of source ${quoteToken(layer)}, not '${expected.sourceId}' — the file belongs to another source`, 'layer');
  }
  const model = record.modelId;
  if (expected.modelId !== null && model !== undefined && model !== null && model !== expected.modelId) {
    throw fail(where, `is a record of model ${quoteToken(model)}, not '${expected.modelId}' — the file belongs to another model`, 'modelId');
  }
}

function finite(value: unknown, where: RecordWhere, field: string): number {
  if (typeof value !== 'number') throw fail(where, value === undefined ? `has no "${field}"` : `"${field}" must be a number, found ${quoteValue(value)}`, field);
  if (!Number.isFinite(value)) throw fail(where, `"${field}" is not finite`, field);
  if (Math.abs(value) > ABSURD_ACTIVATION) throw fail(where, `"${field}" is ${value}, past ${ABSURD_ACTIVATION}: not an activation`, field);
  return value;
}

/** Values are rounded to 3 (newer exports 5) decimals while maxValue may keep the database's
 * full value, so they agree to within rounding. */
const agrees = (a: number, b: number) => Math.abs(a - b) <= 1e-3 + 1e-4 * Math.abs(b);

export function parseActivation(value: unknown, where: RecordWhere, expected: Expected): ActivationRecord {
  if (!isObject(value)) throw fail(where, 'is not a JSON object');
  checkBelongs(value, where, expected);
  const index = parseIndex(value.index, where);
  const tokens = value.tokens;
  if (!Array.isArray(tokens)) throw fail(where, tokens === undefined ? 'has no "tokens"' : '"tokens" must be a list of strings', 'tokens');
  if (tokens.length === 0 || tokens.length > MAX_RECORD_TOKENS) throw fail(where, `"tokens" holds ${tokens.length} tokens (1-${MAX_RECORD_TOKENS} expected)`, 'tokens');
  const bad = tokens.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw fail(where, `"tokens"[${bad}] is not a string`, 'tokens');
  const values = value.values;
  if (!Array.isArray(values)) throw fail(where, values === undefined ? 'has no "values"' : '"values" must be a list of numbers', 'values');
  if (values.length !== tokens.length) throw fail(where, `"values" has ${values.length} entries for ${tokens.length} tokens`, 'values');
  values.forEach((v, i) => finite(v, where, `values[${i}]`));
  const maxValue = finite(value.maxValue, where, 'maxValue');
  const at = value.maxValueTokenIndex;
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= tokens.length) {
    throw fail(where, at === undefined ? 'has no "maxValueTokenIndex"' : `"maxValueTokenIndex" ${quoteValue(at)} is not a token position (0-${tokens.length - 1})`, 'maxValueTokenIndex');
  }
  const nums = values as number[];
  const largest = nums.reduce((m, v) => Math.max(m, v), -Infinity);
  if (!agrees(maxValue, largest)) throw fail(where, `"maxValue" ${maxValue} is not the largest of "values" (${largest})`, 'maxValue');
  if (!agrees(nums[at], maxValue)) throw fail(where, `"values"[maxValueTokenIndex = ${at}] is ${nums[at]}, not "maxValue" ${maxValue}`, 'maxValueTokenIndex');
  const binMin = value.binMin;
  return {
    index,
    tokens: tokens as string[],
    values: nums,
    maxValue,
    maxValueTokenIndex: at,
    binMin: typeof binMin === 'number' && Number.isFinite(binMin) ? binMin : null,
    id: typeof value.id === 'string' && value.id.length <= 64 ? value.id : null,
    where,
  };
}

export function parseFeature(value: unknown, where: RecordWhere, expected: Expected): FeatureRow {
  if (!isObject(value)) throw fail(where, 'is not a JSON object');
  checkBelongs(value, where, expected);
  const index = parseIndex(value.index, where);
  const m = value.maxActApprox;
  return { index, maxActApprox: m === undefined || m === null ? null : finite(m, where, 'maxActApprox') };
}

/** Descriptions are model-written sentences; a longer one is cut for the search, not refused. */
export const MAX_DESCRIPTION_CHARS = 4096;

export function parseExplanation(value: unknown, where: RecordWhere, expected: Expected): ExplanationRow {
  if (!isObject(value)) throw fail(where, 'is not a JSON object');
  checkBelongs(value, where, expected);
  const index = parseIndex(value.index, where);
  const d = value.description;
  if (typeof d !== 'string') throw fail(where, d === undefined ? 'has no "description"' : '"description" must be a string', 'description');
  return { index, description: d.slice(0, MAX_DESCRIPTION_CHARS) };
}

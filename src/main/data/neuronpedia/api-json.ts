// A single feature as Neuronpedia's API returns it (GET /api/feature/{modelId}/{source}/{index}),
// saved by the user: the feature row (`modelId`, `layer` = the source id, `index`, `maxActApprox`,
// …) with its `activations` (records as in the export) and `explanations` (`description`).
import { ApiError } from '../../../shared/errors';
import { jsonErrorWhere, MAX_JSON_BYTES, readRegularFile } from '../../io/input-file';
import { NEURONPEDIA_CODES } from './jsonl-gz';
import { parseActivation, parseFeature, type ActivationRecord, type Expected } from './records';
import { basename } from 'node:path';

export interface ApiFeature {
  file: string;
  modelId: string | null;
  index: number;
  maxActApprox: number | null;
  records: ActivationRecord[];
  explanations: string[];
}

/** Reads one saved API answer; its `layer` (and `modelId`, when the caller names one) must be the
 * source's. A file of another source or model is NEURONPEDIA_INVALID naming both. */
export function readApiFeature(file: string, expected: Expected): ApiFeature {
  const label = basename(file);
  const bytes = readRegularFile(file, NEURONPEDIA_CODES, MAX_JSON_BYTES, 'saved Neuronpedia API answer');
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ApiError('NEURONPEDIA_INVALID', `${label}: ${error instanceof TypeError ? 'is not UTF-8 text' : `is not JSON (${jsonErrorWhere(error)})`}; save the answer of /api/feature/{model}/{source}/{index}`, { file });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('NEURONPEDIA_INVALID', `${label}: is not a JSON object (a feature)`, { file });
  const v = value as Record<string, unknown>;
  if (v.layer === undefined) throw new ApiError('NEURONPEDIA_INVALID', `${label}: has no "layer" (the source id); is it the answer of /api/feature/{model}/{source}/{index}?`, { file, field: 'layer' });
  const where = { file, label, line: 1 };
  const row = parseFeature(v, where, expected);
  if (!Array.isArray(v.activations)) throw new ApiError('NEURONPEDIA_INVALID', `${label}: has no "activations" list`, { file, field: 'activations' });
  const records = (v.activations as unknown[]).map((a, k) => {
    const record = parseActivation(a, { file, label: `${label} activations[${k}]`, line: 1 }, expected);
    if (record.index !== row.index) throw new ApiError('NEURONPEDIA_INVALID', `${label}: activations[${k}] is of feature ${record.index}, not ${row.index}`, { file, field: 'index' });
    return record;
  });
  const explanations = Array.isArray(v.explanations)
    ? (v.explanations as unknown[]).flatMap((e) => (typeof e === 'object' && e !== null && typeof (e as { description?: unknown }).description === 'string' ? [(e as { description: string }).description.slice(0, 4096)] : []))
    : [];
  return { file, modelId: typeof v.modelId === 'string' ? v.modelId : null, index: row.index, maxActApprox: row.maxActApprox, records, explanations };
}

// Reads what the import needs from an export, opening as few batch files as the layout allows:
// - activations: batch N holds features N·1024 … N·1024+1023 (numeric), so only the batches of the
//   chosen features are read, and every record's index is checked against its batch's range;
// - features and explanations: batches are ordered by `index` as TEXT ("0" "1" "10" "100" …), so
//   no numeric range can be assumed; each batch's first index is read (one line) and the batch
//   whose text range holds the wanted index is read; anything not found there sends the reader
//   through every batch (never a silent miss);
// - the explanation search reads every explanation batch.
import { ApiError } from '../../../shared/errors';
import { readJsonLines, type ReadLinesOptions } from './jsonl-gz';
import { batchFile, listBatches, type SourceFolder } from './layout';
import { checkBelongs, parseActivation, parseExplanation, parseFeature, parseIndex, type ActivationRecord, type Expected, type FeatureRow, type RecordWhere } from './records';

/** The index of a line, after checking that the line is an object of the expected source. */
function lineIndex(value: unknown, where: RecordWhere, expected: Expected): number {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ApiError('NEURONPEDIA_INVALID', `${where.label} line ${where.line}: is not a JSON object`, { file: where.file, line: where.line });
  }
  checkBelongs(value as Record<string, unknown>, where, expected);
  return parseIndex((value as { index?: unknown }).index, where);
}

export const ACTIVATION_BATCH = 1024;

export type ReadOptions = Pick<ReadLinesOptions, 'maxLineBytes' | 'signal'> & {
  /** Called after each batch file. */
  onBatch?: (label: string) => void;
};

const expectedOf = (s: SourceFolder): Expected => ({ modelId: s.modelId, sourceId: s.sourceId });

/** Activation records of `indices`, per feature in file order (a feature with none maps to []). */
export async function readActivationRecords(source: SourceFolder, indices: readonly number[], options: ReadOptions = {}): Promise<Map<number, ActivationRecord[]>> {
  const out = new Map<number, ActivationRecord[]>(indices.map((i) => [i, []]));
  const batches = [...new Set(indices.map((i) => Math.floor(i / ACTIVATION_BATCH)))].sort((a, b) => a - b);
  for (const n of batches) {
    const lo = n * ACTIVATION_BATCH;
    const hi = lo + ACTIVATION_BATCH - 1;
    const { file, label } = batchFile(source, 'activations', n, `it holds the records of features ${lo}-${hi}`);
    for await (const { line, value } of readJsonLines(file, { ...options, label })) {
      const where: RecordWhere = { file, label, line };
      // The index is checked on every line (the batch must hold only its range); the rest of a
      // record only where it is used, so one odd record of an unrelated feature costs nothing.
      const index = lineIndex(value, where, expectedOf(source));
      if (index < lo || index > hi) {
        throw new ApiError('NEURONPEDIA_INVALID', `${label} line ${line}: holds feature ${index}, but activation batch ${n} holds features ${lo}-${hi} — the file is misplaced or not from this export`, { file, line, field: 'index' });
      }
      const list = out.get(index);
      if (list) list.push(parseActivation(value, where, expectedOf(source)));
    }
    options.onBatch?.(label);
  }
  return out;
}

async function firstIndexText(file: string, label: string, expected: Expected, options: ReadOptions): Promise<string | null> {
  for await (const { line, value } of readJsonLines(file, { ...options, label })) {
    return String(lineIndex(value, { file, label, line }, expected));
  }
  return null;
}

/** Feature rows (maxActApprox) of `indices`. A feature not in any batch is NEURONPEDIA_NOT_FOUND. */
export async function readFeatureRows(source: SourceFolder, indices: readonly number[], options: ReadOptions = {}): Promise<{ rows: Map<number, FeatureRow>; batchesRead: string[] }> {
  const batches = listBatches(source, 'features');
  if (batches.length === 0) throw new ApiError('NEURONPEDIA_NOT_FOUND', `${source.modelId}/${source.sourceId}: features/ holds no batch-N.jsonl.gz files`, { file: source.dir });
  const wanted = new Set(indices);
  const rows = new Map<number, FeatureRow>();
  const read = new Set<number>();
  const readBatch = async (b: (typeof batches)[number]) => {
    read.add(b.n);
    for await (const { line, value } of readJsonLines(b.file, { ...options, label: b.label })) {
      const where = { file: b.file, label: b.label, line };
      const index = lineIndex(value, where, expectedOf(source));
      if (wanted.has(index)) rows.set(index, parseFeature(value, where, expectedOf(source)));
      if (rows.size === wanted.size) break;
    }
    options.onBatch?.(b.label);
  };
  // Text order: the batch holding index t is the last one whose first index sorts <= t.
  const firsts: string[] = [];
  for (const b of batches) firsts.push((await firstIndexText(b.file, b.label, expectedOf(source), options)) ?? '');
  const guess = new Set<number>();
  for (const i of wanted) {
    const t = String(i);
    let k = -1;
    for (let j = 0; j < firsts.length; j++) if (firsts[j] !== '' && firsts[j] <= t) k = j;
    if (k >= 0) guess.add(k);
  }
  for (const k of [...guess].sort((a, b) => a - b)) await readBatch(batches[k]);
  for (const b of batches) {
    if (rows.size === wanted.size) break;
    if (!read.has(b.n)) await readBatch(b);
  }
  const missing = [...wanted].filter((i) => !rows.has(i)).sort((a, b) => a - b);
  if (missing.length) {
    throw new ApiError('NEURONPEDIA_NOT_FOUND', `${source.modelId}/${source.sourceId}: feature${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ', …' : ''} ${missing.length > 1 ? 'are' : 'is'} not in features/ (${batches.length} batch files read)`, { features: missing.slice(0, 100) });
  }
  return { rows, batchesRead: batches.filter((b) => read.has(b.n)).map((b) => b.label) };
}

/** Features whose explanation contains `query`, case-insensitively, as plain text (no pattern
 * syntax: "C++ (and)" means those characters). Per feature, the matching descriptions. */
export async function searchExplanations(source: SourceFolder, query: string, options: ReadOptions = {}): Promise<Map<number, string[]>> {
  const needle = query.toLowerCase();
  const out = new Map<number, string[]>();
  const batches = listBatches(source, 'explanations');
  if (batches.length === 0) throw new ApiError('NEURONPEDIA_NOT_FOUND', `${source.modelId}/${source.sourceId}: explanations/ holds no batch-N.jsonl.gz files`, { file: source.dir });
  for (const b of batches) {
    for await (const { line, value } of readJsonLines(b.file, { ...options, label: b.label })) {
      const row = parseExplanation(value, { file: b.file, label: b.label, line }, expectedOf(source));
      if (!row.description.toLowerCase().includes(needle)) continue;
      const list = out.get(row.index) ?? [];
      if (!list.includes(row.description)) list.push(row.description);
      out.set(row.index, list);
    }
    options.onBatch?.(b.label);
  }
  return out;
}

// Hugging Face parquet files of the same datasets ({lang}/{split}-00000-of-00001.parquet, or the
// Hub's conversion {lang}/{split}/0000.parquet), decoded by hyparquet (pure JavaScript, no native
// code). The file is read whole under a bound; its columns decide the format before any row is
// decoded, so a parquet file of another dataset is refused naming its columns.
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects, parquetSchema, type Compressors, type FileMetaData } from 'hyparquet';
import { CORPUS_CODES, readRegularFile } from '../../io/input-file';
import { isPlainObject, type RawFile } from './container';
import { fileError } from './errors';
import type { McLimits } from './limits';

/** Snappy (pyarrow's and the Hub's default) is built into hyparquet; gzip and brotli come from
 * Node's zlib. ZSTD and LZ4 would need another package: they are refused by name. */
const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
};

/** int64 columns decode as bigint: numbers where exact (labels, indices), text otherwise, so rows
 * stay plain JSON data. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(plain);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function isParquet(head: Buffer): boolean {
  return head.length >= 4 && head.toString('latin1', 0, 4) === 'PAR1';
}

export async function readParquet(path: string, limits: McLimits, what = 'benchmark file'): Promise<RawFile> {
  const bytes = readRegularFile(path, CORPUS_CODES, limits.wholeFileBytes, what);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  let columns: string[];
  try {
    metadata = parquetMetadata(file);
    columns = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch {
    throw fileError(path, 'is not a readable parquet file (truncated or damaged: its footer cannot be read)');
  }
  if (Number(metadata.num_rows) === 0) throw fileError(path, 'is empty: the parquet file holds no rows');
  let objects: Record<string, unknown>[];
  try {
    objects = await parquetReadObjects({ file, metadata, compressors: COMPRESSORS, rowFormat: 'object' });
  } catch (error) {
    const codec = /unsupported compression codec: ([A-Z0-9_]+)/.exec(error instanceof Error ? error.message : '')?.[1];
    if (codec) throw fileError(path, `is compressed with ${codec}, which this reader does not decode; save it with snappy (pyarrow's default)`, { codec });
    throw fileError(path, 'is not a readable parquet file (damaged row data)');
  }
  if (objects.length !== Number(metadata.num_rows)) throw fileError(path, `is not a readable parquet file (holds ${objects.length} of the ${metadata.num_rows} rows its footer lists)`);
  const rows = objects.map((row, i) => ({ index: i + 1, raw: plain(row) as Record<string, unknown> }));
  return { format: 'parquet', sha256, unit: 'row', fieldsAt: null, fields: columns, rows };
}

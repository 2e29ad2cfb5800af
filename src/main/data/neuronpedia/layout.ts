// Where a source's files are in a downloaded Neuronpedia export:
//   v1/{modelId}/{sourceId}/{features|explanations|activations}/batch-N.jsonl.gz (+ source.jsonl)
// The user may name the folder holding `v1`, `v1` itself, the model's folder or the source's
// folder. Folders and files are found through symbolic links (a Hugging Face-style cache links
// each file into a blobs folder), which statSync and the readers follow.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { jsonErrorWhere, readRegularFile } from '../../io/input-file';
import { NEURONPEDIA_CODES } from './jsonl-gz';

export type BatchKind = 'features' | 'explanations' | 'activations';

/** What the export's source.jsonl says about the SAE behind the source (fields of the `Source` row). */
export interface SourceMeta {
  saelensRelease: string | null;
  saelensSaeId: string | null;
  hfRepoId: string | null;
  hfFolderId: string | null;
}

export interface SourceFolder {
  dir: string;
  modelId: string;
  sourceId: string;
  meta: SourceMeta | null;
}

/** Source and model ids as Neuronpedia writes them (`20-gemmascope-res-16k`, `gemma-2-2b`): no
 * separators, so they can be joined into paths safely. */
export const NEURONPEDIA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const subdirs = (p: string) => {
  try {
    return readdirSync(p).filter((n) => isDir(join(p, n)));
  } catch {
    return [];
  }
};

const realOr = (p: string) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

function readMeta(dir: string): SourceMeta | null {
  const file = join(dir, 'source.jsonl');
  let text: string;
  try {
    if (!statSync(file).isFile()) return null;
    text = readRegularFile(file, NEURONPEDIA_CODES, 1 << 20, 'source.jsonl').toString('utf8');
  } catch (error) {
    if (error instanceof ApiError) throw error;
    return null;
  }
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return null;
  let row: unknown;
  try {
    row = JSON.parse(first);
  } catch (error) {
    throw new ApiError('NEURONPEDIA_INVALID', `source.jsonl: line 1 is not JSON (${jsonErrorWhere(error)})`, { file });
  }
  if (typeof row !== 'object' || row === null) throw new ApiError('NEURONPEDIA_INVALID', 'source.jsonl: line 1 is not a JSON object', { file });
  const r = row as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' && (r[k] as string).length <= 512 ? (r[k] as string) : null);
  return { saelensRelease: str('saelensRelease'), saelensSaeId: str('saelensSaeId'), hfRepoId: str('hfRepoId'), hfFolderId: str('hfFolderId') };
}

/** The folder of `sourceId` under `exportDir` (see the layout above). */
export function locateSource(exportDir: string, sourceId: string, modelId?: string): SourceFolder {
  const root = resolve(exportDir);
  if (!isDir(root)) throw new ApiError('NEURONPEDIA_NOT_FOUND', `the Neuronpedia export folder ${root} does not exist or is not a folder`, { file: root });
  const candidates: string[] = [];
  if (basename(root) === sourceId) candidates.push(root);
  const models = (dir: string) => (modelId !== undefined ? [modelId] : subdirs(dir));
  for (const base of [root, join(root, 'v1')]) {
    if (basename(base) === modelId || modelId === undefined) candidates.push(join(base, sourceId));
    for (const m of models(base)) candidates.push(join(base, m, sourceId));
  }
  const found = new Map<string, string>();
  for (const c of candidates) if (isDir(c) && (modelId === undefined || basename(dirname(c)) === modelId)) found.set(realOr(c), c);
  if (found.size === 0) {
    const seen = [root, join(root, 'v1')].flatMap((b) => subdirs(b).flatMap((m) => subdirs(join(b, m)).filter((s) => NEURONPEDIA_ID.test(s)).map((s) => `${m}/${s}`)));
    const hint = seen.length ? `; it holds ${seen.slice(0, 8).join(', ')}${seen.length > 8 ? ', …' : ''}` : '; expected v1/{modelId}/{sourceId}/activations/batch-N.jsonl.gz';
    throw new ApiError('NEURONPEDIA_NOT_FOUND', `${root} has no source '${sourceId}'${modelId ? ` of model '${modelId}'` : ''}${hint}`, { file: root, sourceId });
  }
  if (found.size > 1) {
    const models = [...found.values()].map((d) => basename(dirname(d)));
    throw new ApiError('INVALID_ARGUMENT', `${root} has source '${sourceId}' for several models (${models.join(', ')}); name the model`, { file: root, sourceId });
  }
  const dir = [...found.values()][0];
  return { dir, modelId: basename(dirname(dir)), sourceId, meta: readMeta(dir) };
}

const BATCH_NAME = /^batch-(0|[1-9]\d{0,6})\.jsonl(\.gz)?$/;

/** A kind's batch files in batch order (`.jsonl.gz` preferred over a plain `.jsonl` of one batch). */
export function listBatches(source: SourceFolder, kind: BatchKind): { n: number; file: string; label: string }[] {
  const dir = join(source.dir, kind);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new ApiError('NEURONPEDIA_NOT_FOUND', `${source.modelId}/${source.sourceId} has no ${kind}/ folder`, { file: dir });
  }
  const byN = new Map<number, string>();
  for (const name of names) {
    const m = BATCH_NAME.exec(name);
    if (!m) continue;
    const n = Number(m[1]);
    if (!byN.has(n) || m[2]) byN.set(n, name);
  }
  return [...byN.entries()].sort((a, b) => a[0] - b[0]).map(([n, name]) => ({ n, file: join(dir, name), label: `${kind}/${name}` }));
}

/** One batch file; NEURONPEDIA_NOT_FOUND naming it when it is not there. */
export function batchFile(source: SourceFolder, kind: BatchKind, n: number, why: string): { file: string; label: string } {
  const dir = join(source.dir, kind);
  for (const name of [`batch-${n}.jsonl.gz`, `batch-${n}.jsonl`]) {
    const file = join(dir, name);
    try {
      statSync(file);
      return { file, label: `${kind}/${name}` };
    } catch {
      // try the next form
    }
  }
  throw new ApiError('NEURONPEDIA_NOT_FOUND', `${source.modelId}/${source.sourceId}: ${kind}/batch-${n}.jsonl.gz is missing (${why}); download it into ${dir}`, { file: join(dir, `batch-${n}.jsonl.gz`) });
}

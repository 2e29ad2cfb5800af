// readMcData: the multiple-choice items under a file or folder, whatever form they are stored in.
// Each file's language and split come from its path (location.ts), its storage from its first
// bytes (a parquet magic number, a JSON array, JSON lines), and its benchmark from the fields its
// rows have (rows.ts) — never from the file name alone. Items keep file order; doc_id counts the
// item's position in its split as lm-evaluation-harness does.
import { closeSync, readSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { ApiError } from '../../../shared/errors';
import { CORPUS_CODES, openRegularFile } from '../../io/input-file';
import { canonicalTag } from '../languages-code';
import type { RawFile } from './container';
import { fileError, rowError } from './errors';
import { readJsonLines } from './jsonl';
import { MC_LIMITS, type McLimits } from './limits';
import { arcOrMmluHint, LAYOUTS, locate, type McLocation } from './location';
import { readOkapiJson } from './okapi-json';
import { isParquet, readParquet } from './parquet';
import { normaliseRow, resolveTask, rowFamily } from './rows';
import { MC_TASKS, type McDataset, type McFileInfo, type McItem, type McReadOptions, type McTask } from './types';
import { benchmarkFiles } from './walk';

export type { McDataset, McFileInfo, McItem, McReadOptions, McTask } from './types';

const SNIFF_BYTES = 4096;

/** Which reader a file needs, from its first bytes. */
function storageOf(path: string): 'parquet' | 'json-array' | 'jsonl' {
  const { fd, size } = openRegularFile(path, CORPUS_CODES, 'benchmark file');
  const head = Buffer.alloc(Math.min(size, SNIFF_BYTES));
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (size === 0) throw fileError(path, 'is empty: no items');
  if (isParquet(head)) return 'parquet';
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) throw fileError(path, 'is UTF-16 text; save it as UTF-8');
  let i = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
  if (i === head.length) return 'jsonl'; // only blank so far: the line reader says whether anything follows
  if (head[i] === 0x5b) return 'json-array';
  if (head[i] === 0x7b) return 'jsonl';
  throw fileError(path, 'is neither JSON lines, a JSON list of items nor a parquet file');
}

async function readRaw(path: string, limits: McLimits): Promise<RawFile> {
  const storage = storageOf(path);
  if (storage === 'parquet') return readParquet(path, limits);
  return storage === 'json-array' ? readOkapiJson(path, limits) : readJsonLines(path, limits);
}

interface ReadFile {
  path: string;
  location: McLocation;
  task: McTask;
  raw: RawFile;
  items: Omit<McItem, 'docId'>[];
}

function checkOptions(options: McReadOptions): { task?: McTask; languages?: string[]; splits?: string[]; limit?: number } {
  const { task, limit } = options;
  if (task !== undefined && !MC_TASKS.includes(task)) throw new ApiError('INVALID_ARGUMENT', `unknown task ${JSON.stringify(String(task).slice(0, 20))}: use ${MC_TASKS.join(', ')}`, { task });
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new ApiError('INVALID_ARGUMENT', 'limit must be a whole number of items above 0', { limit });
  const languages = options.languages?.map((code) => canonicalTag(code).tag);
  const splits = options.splits?.map((s) => s.trim().toLowerCase());
  return { task, limit, languages: languages && [...new Set(languages)], splits: splits && [...new Set(splits)] };
}

/** The files of one (task, language, split): one file, or the numbered shards of one folder. */
function orderGroup(files: ReadFile[], root: string): ReadFile[] {
  if (files.length === 1) return files;
  const [first] = files;
  const shards = files.every((f) => f.location.shard && f.location.shard.group === first.location.shard?.group);
  const indices = new Set(files.map((f) => f.location.shard?.index));
  if (!shards || indices.size !== files.length) {
    const [a, b] = files.map((f) => relative(root, f.path) || f.path);
    throw new ApiError(
      'INVALID_ARGUMENT',
      `two files hold the ${first.task} ${first.location.language} ${first.location.split} items: ${a} and ${b}; keep one (reading both would count items twice)`,
      { files: files.map((f) => f.path) },
    );
  }
  return [...files].sort((x, y) => x.location.shard!.index - y.location.shard!.index);
}

/** Reads every benchmark file under `path` (a file or a folder). Bad input of any kind is an
 * ApiError naming the file (and line and field where there is one); a language asked for with no
 * file is LANGUAGE_NOT_IN_CORPUS. */
export async function readMcData(path: string, options: McReadOptions = {}, limits: McLimits = MC_LIMITS): Promise<McDataset> {
  const { task: wanted, languages, splits, limit } = checkOptions(options);
  const root = resolve(path);
  const { files: found, walked } = benchmarkFiles(root, limits);
  const located = found.flatMap((file) => {
    const location = locate(file.path);
    if (!location && !walked) throw fileError(file.path, `does not say its language and split: put it at ${LAYOUTS}`);
    return location ? [{ path: file.path, location }] : [];
  });
  if (located.length === 0) throw fileError(root, `holds no benchmark file: expected ${LAYOUTS}`);
  const chosen = located.filter((f) => (!languages || languages.includes(f.location.language)) && (!splits || splits.includes(f.location.split)));

  const read: ReadFile[] = [];
  for (const { path: file, location } of chosen) {
    const raw = await readRaw(file, limits);
    const family = rowFamily(raw.fields, {
      noun: raw.fieldsAt === null ? 'column' : 'field',
      fail: (message, details) => (raw.fieldsAt === null ? fileError(file, message, details) : rowError({ file, unit: raw.unit, index: raw.fieldsAt }, message, details)),
    });
    const task = resolveTask(family, arcOrMmluHint(file), wanted);
    if (task === null) {
      // resolveTask leaves ARC-or-MMLU rows open only when neither of the two was asked for.
      if (wanted && walked) continue;
      if (wanted) throw fileError(file, `holds ARC or MMLU items, not ${wanted}`, { fields: raw.fields });
      throw fileError(file, "has rows that fit both ARC and MMLU (four options, no option_e) and no folder named m_arc or m_mmlu above it: say which with the task (arc or mmlu)", { fields: raw.fields });
    }
    if (wanted && task !== wanted) {
      if (walked) continue;
      throw fileError(file, `holds ${task} items, not ${wanted}`, { task });
    }
    const items = raw.rows.map(({ index, raw: row }) => ({
      task,
      language: location.language,
      split: location.split,
      source: file,
      line: index,
      raw: row,
      ...normaliseRow(task, row, { file, unit: raw.unit, index }),
    }));
    read.push({ path: file, location, task, raw, items });
  }

  for (const language of languages ?? []) {
    if (!read.some((f) => f.location.language === language)) {
      const present = [...new Set(read.map((f) => f.location.language))];
      const what = [wanted, splits?.join('/')].filter(Boolean).join(' ');
      throw new ApiError(
        'LANGUAGE_NOT_IN_CORPUS',
        `${basename(root) || root} has no ${what ? `${what} ` : ''}file in language ${language}${present.length ? ` (it has ${present.join(', ')})` : ''}`,
        { language, path: root, present },
      );
    }
  }
  for (const split of splits ?? []) {
    if (!read.some((f) => f.location.split === split)) {
      const present = [...new Set(located.map((f) => f.location.split))];
      throw fileError(root, `has no ${wanted ? `${wanted} ` : ''}file of split ${JSON.stringify(split.slice(0, 20))} (splits found: ${present.join(', ')})`, { split, present });
    }
  }
  if (read.length === 0) throw fileError(root, `holds no ${wanted ?? 'benchmark'} file${wanted ? ` (use another task, or a folder with ${wanted} data)` : ''}`);

  const groups = new Map<string, ReadFile[]>();
  for (const file of read) {
    const key = `${file.task}\u0000${file.location.language}\u0000${file.location.split}`;
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  const items: McItem[] = [];
  const files: McFileInfo[] = [];
  for (const group of groups.values()) {
    let docId = 0;
    for (const file of orderGroup(group, root)) {
      for (const item of file.items) {
        if (limit === undefined || docId < limit) items.push({ ...item, docId });
        docId++;
      }
      const { language, split } = file.location;
      files.push({ path: file.path, sha256: file.raw.sha256, format: file.raw.format, task: file.task, language, split, rows: file.items.length });
    }
  }
  return { items, files };
}

// The benchmark files under a folder: every .jsonl, .json and .parquet below it (hidden entries
// skipped), each file once. Symbolic links are followed, as the Hugging Face cache needs (its
// snapshot files link to blobs), but a folder reached twice (a link to an ancestor, or two links to
// one folder) is walked once and a file reached twice is read once, so a loop ends and no item is
// counted twice. Entries and depth are bounded; a link that leads nowhere or loops on itself is an
// error naming it, since a data file behind it would otherwise be lost without a word.
import { readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { CORPUS_CODES, requireRegular, statInput } from '../../io/input-file';
import { fileError } from './errors';
import type { McLimits } from './limits';

const DATA_EXTENSIONS = new Set(['.jsonl', '.json', '.parquet']);

export interface WalkedFile {
  /** As reached from the root (what messages and items name). */
  path: string;
  /** With links resolved: the identity used to read each file once. */
  real: string;
}

function entryStat(path: string): Stats {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw fileError(path, 'is a symbolic link loop', { errno: code });
    if (code === 'ENOENT') throw fileError(path, 'is a symbolic link to nothing', { errno: code });
    throw fileError(path, `cannot be read (${code ?? 'error'})`, { errno: code });
  }
}

/** A file given directly is the one file; a folder is walked in name order. */
export function benchmarkFiles(
  root: string,
  limits: Pick<McLimits, 'walkEntries' | 'walkDepth'>,
  { what = 'benchmark file', isData = (name: string) => DATA_EXTENSIONS.has(extname(name).toLowerCase()) }: { what?: string; isData?: (name: string) => boolean } = {},
): { files: WalkedFile[]; walked: boolean } {
  const start = resolve(root);
  const st = statInput(start, CORPUS_CODES);
  if (!st.isDirectory()) {
    requireRegular(start, st, CORPUS_CODES, what);
    return { files: [{ path: start, real: realpathSync(start) }], walked: false };
  }
  const seenFolders = new Set<string>();
  const seenFiles = new Set<string>();
  const files: WalkedFile[] = [];
  let entries = 0;
  const visit = (folder: string, depth: number): void => {
    const real = realpathSync(folder);
    if (seenFolders.has(real)) return;
    seenFolders.add(real);
    let names: string[];
    try {
      names = readdirSync(folder).sort();
    } catch (error) {
      throw fileError(folder, `cannot be listed (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      if (++entries > limits.walkEntries) throw fileError(start, `holds over ${limits.walkEntries} entries; point at the ${what.replace(/ file$/, '')}'s own folder`, { limit: limits.walkEntries });
      const path = join(folder, name);
      const data = isData(name);
      let entry: Stats;
      try {
        entry = entryStat(path);
      } catch (error) {
        // A dangling link among READMEs and lock files hides nothing; one named like data does.
        if (data) throw error;
        continue;
      }
      if (entry.isDirectory()) {
        if (depth >= limits.walkDepth) throw fileError(path, `is over ${limits.walkDepth} folders below ${start}; point at the ${what.replace(/ file$/, '')}'s own folder`, { limit: limits.walkDepth });
        visit(path, depth + 1);
      } else if (data) {
        requireRegular(path, entry, CORPUS_CODES, what);
        const realFile = realpathSync(path);
        if (seenFiles.has(realFile)) continue;
        seenFiles.add(realFile);
        files.push({ path, real: realFile });
      }
    }
  };
  visit(start, 0);
  return { files, walked: true };
}

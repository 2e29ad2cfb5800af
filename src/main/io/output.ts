// Output folders: checked writable before any work starts, files written whole.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { makeDirs } from './fs';

export function ensureWritableDir(dir: string): string {
  const absolute = resolve(dir);
  const probe = join(absolute, `.linguascope-write-test-${process.pid}`);
  try {
    makeDirs(absolute);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write to the output folder ${absolute} (${code})`, { path: absolute });
  }
  return absolute;
}

/** Writes each file to a temporary name and renames it, so no file is ever half-written. */
export function writeOutputFiles(outDir: string, files: readonly { name: string; content: string | Buffer }[]): string[] {
  return files.map(({ name, content }) => {
    const path = join(outDir, name);
    const temporary = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(temporary, content);
      renameSync(temporary, path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { path });
    }
    return path;
  });
}

// Output files and folders the backend writes for the user (report folders, random model and SAE
// folders, activation files). Two rules:
// 1. Nothing is overwritten that LinguaScope did not write: an existing path may be replaced only
//    if it carries our mark (a folder: the marker file listing exactly its entries; a file: a mark
//    its kind checks, e.g. a safetensors metadata key). A symbolic link is never written through.
// 2. A folder is replaced whole or not at all: everything is written and synced in a sibling
//    staging folder, then swapped in with renames. A process killed mid-way leaves only staging or
//    set-aside folders named after it, which the next write beside them removes (or puts back).
import {
  closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ApiError } from '../../shared/errors';
import { makeDirs } from './fs';

/** Written last into every output folder: the proof the folder is ours and what it holds. */
export const OUTPUT_MARKER = '.linguascope-output.json';
/** Written first into a staging folder: whose it is, so a dead process's leftovers can be removed. */
const STAGING_MARKER = '.linguascope-staging.json';
const LEFTOVER = /^\.(.+)\.linguascope-(staging|old)-(\d+)$/;

interface OutputMark {
  producer: 'linguascope';
  kind: string;
  files: string[];
}

const errnoCode = (error: unknown) => (error as NodeJS.ErrnoException).code ?? 'error';
const isDiskFull = (code: string) => code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG';

/** The typed error for a failed write: a full disk says so (and that the old output is intact). */
export function writeError(path: string, error: unknown, what = `cannot write ${path}`): ApiError {
  if (error instanceof ApiError) return error;
  const code = errnoCode(error);
  if (isDiskFull(code)) {
    return new ApiError('DISK_FULL', `the disk holding ${path} is full (${code}); free some space and run again — any earlier output there is unchanged`, { path, errno: code });
  }
  return new ApiError('OUTPUT_NOT_WRITABLE', `${what} (${code})`, { path, errno: code });
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write to the output folder ${path} (${errnoCode(error)})`, { path });
  }
}

function readMark(dir: string): OutputMark | null {
  try {
    const mark = JSON.parse(readFileSync(join(dir, OUTPUT_MARKER), 'utf8')) as Partial<OutputMark>;
    if (mark.producer !== 'linguascope' || !Array.isArray(mark.files) || typeof mark.kind !== 'string') return null;
    return mark as OutputMark;
  } catch {
    return null;
  }
}

/** Recognises an output of ours written before the marker existed (e.g. a demo folder by its
 * manifest); only consulted when a folder has no marker. */
export type LegacyOutput = (dir: string) => boolean;

/** Ours: empty, or marked by LinguaScope with exactly the entries it holds (a file a person put in
 * there since would be lost by replacing the folder, so its presence makes the folder not ours). */
function folderIsOurs(dir: string, legacy?: LegacyOutput): { ours: boolean; why: string } {
  const entries = readdirSync(dir);
  if (entries.length === 0) return { ours: true, why: '' };
  const mark = readMark(dir);
  if (!mark && legacy?.(dir)) return { ours: true, why: '' };
  if (!mark) return { ours: false, why: `holds ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'} and no ${OUTPUT_MARKER} from LinguaScope` };
  const listed = new Set(mark.files);
  const foreign = entries.filter((e) => e !== OUTPUT_MARKER && !listed.has(e));
  if (foreign.length) return { ours: false, why: `holds ${foreign.slice(0, 3).map((f) => JSON.stringify(f)).join(', ')}${foreign.length > 3 ? ` and ${foreign.length - 3} more` : ''}, which LinguaScope did not write` };
  return { ours: true, why: '' };
}

function refuse(path: string, why: string, kind: 'folder' | 'file'): ApiError {
  return new ApiError('OUTPUT_EXISTS', `${path} ${why}; LinguaScope only replaces ${kind === 'folder' ? 'empty folders and folders' : 'files'} it wrote itself — choose another path or remove it`, { path });
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === 'EPERM';
  }
}

/** A staging folder of process `pid`: empty (killed right after mkdir), holding only its marker
 * (killed while writing it), or marked as staging or as complete output. */
function isOurStaging(path: string, pid: number): boolean {
  const entries = readdirSync(path);
  if (entries.length === 0 || (entries.length === 1 && entries[0] === STAGING_MARKER)) return true;
  if (readMark(path)) return true;
  try {
    const marker = JSON.parse(readFileSync(join(path, STAGING_MARKER), 'utf8')) as { pid?: number; host?: string };
    return marker.pid === pid && marker.host === hostname();
  } catch {
    return false;
  }
}

/** Removes an output folder of ours with its marker last: a process killed mid-way leaves a folder
 * that still carries the marker and a subset of what it lists (or an empty one), which folderIsOurs
 * still recognises, so the next write finishes the removal instead of leaving litter. */
function removeOutputFolder(dir: string): void {
  if (lstatOrNull(dir) === null) return;
  for (const e of readdirSync(dir)) if (e !== OUTPUT_MARKER) rmSync(join(dir, e), { recursive: true, force: true });
  rmSync(join(dir, OUTPUT_MARKER), { force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** Leftovers of killed writes beside `target`: staging folders (removed) and a set-aside previous
 * output (put back if the target is missing, else removed). Only folders whose writer is dead on
 * this host and that carry our markers are touched. */
export function cleanLeftovers(target: string): void {
  const parent = dirname(target);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const m = LEFTOVER.exec(name);
    if (!m || m[1] !== basename(target) || processAlive(Number(m[3]))) continue;
    const path = join(parent, name);
    try {
      if (!lstatSync(path).isDirectory()) continue;
      if (m[2] === 'staging') {
        if (isOurStaging(path, Number(m[3]))) rmSync(path, { recursive: true, force: true });
      } else if (folderIsOurs(path).ours) {
        if (lstatOrNull(target) === null) renameSync(path, target);
        else removeOutputFolder(path);
      }
    } catch {
      // Not ours after all, or vanished meanwhile: leave it.
    }
  }
}

/** Checks, before any work, that `dir` may become an output folder: missing, empty, or ours; never
 * a link or a file. Creates its parent folders and proves the parent is writable. */
export function checkOutputFolder(dir: string, legacy?: LegacyOutput): string {
  const target = resolve(dir);
  const parent = dirname(target);
  try {
    makeDirs(parent);
  } catch (error) {
    throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write to the output folder ${target} (${errnoCode(error)})`, { path: target });
  }
  cleanLeftovers(target);
  const stats = lstatOrNull(target);
  if (stats?.isSymbolicLink()) throw refuse(target, 'is a symbolic link', 'folder');
  if (stats && !stats.isDirectory()) throw refuse(target, 'is a file, not a folder', 'folder');
  if (stats) {
    const { ours, why } = folderIsOurs(target, legacy);
    if (!ours) throw refuse(target, why, 'folder');
  }
  const probe = join(parent, `.${basename(target)}.linguascope-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmSync(probe, { recursive: true });
  } catch (error) {
    throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write to the output folder ${target} (${errnoCode(error)})`, { path: target });
  }
  return target;
}

function syncPath(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Windows cannot open a folder to sync it; NTFS orders the metadata itself.
    if (process.platform !== 'win32') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Syncs a file, or a folder's files and the folder itself, depth first. */
function syncTree(path: string): void {
  const stats = lstatSync(path);
  if (stats.isDirectory()) for (const e of readdirSync(path)) syncTree(join(path, e));
  if (stats.isDirectory() || stats.isFile()) syncPath(path);
}

/** Writes a whole file, synced; never follows or replaces an existing entry (flag 'wx'). */
export function writeFileSynced(path: string, content: string | Uint8Array): void {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const fd = openSync(path, 'wx');
  try {
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(fd, bytes, done, bytes.byteLength - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface StagedFolder {
  /** Where to write the new contents. */
  readonly dir: string;
  /** The final folder. */
  readonly target: string;
  /** Marks, syncs and swaps the staging folder into place; returns the final files' paths. */
  commit(): string[];
  /** Removes the staging folder (the target is untouched). */
  discard(): void;
}

/** Starts writing a new version of the output folder `dir` (checked as in checkOutputFolder). */
export function stageOutputFolder(dir: string, kind: string, legacy?: LegacyOutput): StagedFolder {
  const target = checkOutputFolder(dir, legacy);
  const parent = dirname(target);
  const staging = join(parent, `.${basename(target)}.linguascope-staging-${process.pid}`);
  const aside = join(parent, `.${basename(target)}.linguascope-old-${process.pid}`);
  const discard = () => rmSync(staging, { recursive: true, force: true });
  try {
    discard();
    mkdirSync(staging);
    writeFileSynced(join(staging, STAGING_MARKER), JSON.stringify({ pid: process.pid, host: hostname(), target }));
  } catch (error) {
    discard();
    throw writeError(target, error, `cannot write to the output folder ${target}`);
  }
  return {
    dir: staging,
    target,
    discard,
    commit: () => {
      try {
        const files = readdirSync(staging).filter((f) => f !== STAGING_MARKER).sort();
        for (const f of files) syncTree(join(staging, f));
        // The output mark is complete before the staging mark goes, so a killed commit always
        // leaves a folder cleanLeftovers recognises.
        writeFileSynced(join(staging, OUTPUT_MARKER), `${JSON.stringify({ producer: 'linguascope', kind, files } satisfies OutputMark, null, 2)}\n`);
        rmSync(join(staging, STAGING_MARKER));
        syncPath(staging);
        // The target may have changed while the work ran: check it again right before the swap.
        const stats = lstatOrNull(target);
        if (stats?.isSymbolicLink() || (stats && !stats.isDirectory())) throw refuse(target, stats.isSymbolicLink() ? 'is a symbolic link' : 'is a file, not a folder', 'folder');
        if (stats) {
          const { ours, why } = folderIsOurs(target, legacy);
          if (!ours) throw refuse(target, why, 'folder');
          removeOutputFolder(aside);
          renameSync(target, aside);
        }
        // Between these two renames the previous output sits complete at `aside`; a process killed
        // here has it put back by cleanLeftovers on the next write.
        renameSync(staging, target);
        syncPath(parent);
        removeOutputFolder(aside);
        return files.map((f) => join(target, f));
      } catch (error) {
        discard();
        if (existsSync(aside) && lstatOrNull(target) === null) renameSync(aside, target);
        throw writeError(target, error, `cannot write to the output folder ${target}`);
      }
    },
  };
}

/** Writes `files` as the new contents of the folder `dir`, replacing its previous version whole. */
export function writeOutputFolder(dir: string, kind: string, files: readonly { name: string; content: string | Uint8Array }[]): string[] {
  const staged = stageOutputFolder(dir, kind);
  try {
    for (const { name, content } of files) writeFileSynced(join(staged.dir, name), content);
  } catch (error) {
    staged.discard();
    throw writeError(staged.target, error, `cannot write to the output folder ${staged.target}`);
  }
  return staged.commit();
}

/** A single file is written to `<file>.tmp-<pid>` and renamed (writeSafetensors); a process killed
 * before the rename leaves that temporary, which the next write of the same file removes. */
function removeDeadTemporaries(path: string): void {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? name.slice(prefix.length) : '';
    if (!/^\d+$/.test(pid) || processAlive(Number(pid))) continue;
    try {
      if (lstatSync(join(dirname(path), name)).isFile()) rmSync(join(dirname(path), name));
    } catch {
      // vanished meanwhile
    }
  }
}

/** Checks that the file `file` may be written: missing, or a regular file `isOurs` recognises
 * (e.g. our safetensors metadata key). Creates the parent folders. */
export function checkOutputFile(file: string, isOurs: (path: string) => boolean): string {
  const path = resolve(file);
  try {
    makeDirs(dirname(path));
  } catch (error) {
    throw new ApiError('OUTPUT_NOT_WRITABLE', `cannot write ${path} (${errnoCode(error)})`, { path });
  }
  removeDeadTemporaries(path);
  const stats = lstatOrNull(path);
  if (stats?.isSymbolicLink()) throw refuse(path, 'is a symbolic link', 'file');
  if (stats && !stats.isFile()) throw refuse(path, stats.isDirectory() ? 'is a folder' : 'is not a regular file', 'file');
  if (stats && !isOurs(path)) throw refuse(path, 'exists and was not written by LinguaScope', 'file');
  return path;
}

/** Writes a whole file output (e.g. a phrases JSONL) where `checkOutputFile(file, isOurs)` allows:
 * into `<file>.tmp-<pid>`, synced, then renamed over the target, so a reader never sees half a
 * file and a killed write leaves only a temporary the next write removes. */
export function writeOutputFile(file: string, content: string | Uint8Array, isOurs: (path: string) => boolean): string {
  const path = checkOutputFile(file, isOurs);
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    rmSync(temporary, { force: true });
    writeFileSynced(temporary, content);
    // Checked again right before the rename: the target may have appeared while the work ran.
    checkOutputFile(path, isOurs);
    renameSync(temporary, path);
    syncPath(dirname(path));
    return path;
  } catch (error) {
    rmSync(temporary, { force: true });
    throw writeError(path, error);
  }
}

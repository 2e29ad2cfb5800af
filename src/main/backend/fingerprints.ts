// Content fingerprints that cache keys are made of: a model folder's (config.json, tokenizer.json
// and every weight file, by whole-file sha256 remembered per file identity) and, with an adapter,
// the adapter's files' sha256 on top (adapted and base results never share a key).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { PeftAdapter } from '../io/peft-adapter';
import type { ModelFolder } from '../models/model';
import type { FileHashRepo } from '../store/file-hash-repo';
import type { JobContext } from './handler';

export const digest = (parts: readonly string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');

/** The files a model's fingerprint covers. */
export const modelFingerprintFiles = (folder: ModelFolder) => [join(folder.path, 'config.json'), ...(existsSync(join(folder.path, 'tokenizer.json')) ? [join(folder.path, 'tokenizer.json')] : []), ...folder.index.files];

/** Hashes `files` (the model's first) with progress in MiB; returns sha256 by path. */
export async function hashFiles(fileHashes: FileHashRepo, files: readonly string[], ctx: JobContext): Promise<Map<string, string>> {
  const mib = (n: number) => Math.round(n / 2 ** 20);
  const hashes = await fileHashes.hashes([...files], (done, total) => ctx.progress('fingerprinting weight files (MiB)', mib(done), mib(total)), ctx.signal);
  return new Map(files.map((f, i) => [f, hashes[i]]));
}

export function modelFingerprint(folder: ModelFolder, of: Map<string, string>, adapter?: PeftAdapter): string {
  const base = digest(modelFingerprintFiles(folder).map((f) => `${basename(f)}:${of.get(f)}`));
  return adapter ? createHash('sha256').update(`${base}\nadapter:${adapter.sha256}`).digest('hex') : base;
}

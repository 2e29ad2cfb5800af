// Content hashes of weight files, remembered by file identity (real path, size, modification and
// status-change times in nanoseconds, inode; the change time cannot be set back, so a rewrite
// that restores the modification time is still seen): a file rewritten in place — a fine-tuned model saved over the old one, an
// SAE with new thresholds — gets a new identity and is hashed again; an unchanged file never is.
import { createHash } from 'node:crypto';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { ApiError } from '../../shared/errors';
import { storeCall, type Db } from './db';

export class FileHashRepo {
  constructor(private readonly db: Db) {}

  /** sha256 (hex) of each file's bytes; `progress` gets bytes hashed so far and the total to hash. */
  async hashes(files: readonly string[], progress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<string[]> {
    const ids = files.map((file) => {
      let path: string;
      let st;
      try {
        path = realpathSync(file);
        st = statSync(path, { bigint: true });
      } catch (error) {
        throw new ApiError('WEIGHTS_NOT_FOUND', `${file} cannot be read: ${(error as Error).message}`, { file });
      }
      return { path, size: Number(st.size), mtime: `${st.mtimeNs}/${st.ctimeNs}`, ino: st.ino.toString() };
    });
    const known = storeCall('read the file hashes', () => {
      const lookup = this.db.prepare('SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ? AND ino = ?').pluck();
      return ids.map((id) => lookup.get(id.path, id.size, id.mtime, id.ino) as string | undefined);
    });
    const total = ids.reduce((s, id, i) => s + (known[i] ? 0 : id.size), 0);
    let done = 0;
    const out: string[] = [];
    for (const [i, id] of ids.entries()) {
      if (known[i]) {
        out.push(known[i]!);
        continue;
      }
      const h = createHash('sha256');
      try {
        for await (const chunk of createReadStream(id.path, { highWaterMark: 8 << 20, signal })) {
          h.update(chunk as Buffer);
          done += (chunk as Buffer).length;
          progress?.(done, total);
        }
      } catch (error) {
        if (signal?.aborted) throw new ApiError('CANCELLED', 'the job was cancelled');
        throw new ApiError('WEIGHTS_INVALID', `${id.path} could not be read: ${(error as Error).message}`, { file: id.path });
      }
      const sha = h.digest('hex');
      storeCall('remember a file hash', () =>
        this.db
          .prepare('INSERT OR REPLACE INTO file_hashes (path, size, mtime_ns, ino, sha256, hashed_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(id.path, id.size, id.mtime, id.ino, sha, new Date().toISOString()),
      );
      out.push(sha);
    }
    return out;
  }
}

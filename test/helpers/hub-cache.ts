// Hugging Face hub-cache layouts, the way most users hold Gemma-2 and Gemma Scope: every file of
// `models--org--name/snapshots/<commit>/` is a relative symbolic link to `../../blobs/<sha256>`
// (deeper files get more `../`), and `refs/main` names the commit.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p, join(prefix, n)) : [join(prefix, n)];
  });
}

/** Copies every file of `source` into `<hub>/models--<repo with / as -->/` as a hub cache does;
 * returns the snapshot folder (what a user passes). */
export function toHubCache(source: string, hub: string, repo: string): string {
  const root = join(hub, `models--${repo.replace('/', '--')}`);
  const snapshot = join(root, 'snapshots', COMMIT);
  mkdirSync(join(root, 'blobs'), { recursive: true });
  mkdirSync(join(root, 'refs'), { recursive: true });
  writeFileSync(join(root, 'refs', 'main'), COMMIT);
  for (const rel of filesUnder(source)) {
    const sha = createHash('sha256').update(readFileSync(join(source, rel))).digest('hex');
    const blob = join(root, 'blobs', sha);
    if (!existsSync(blob)) copyFileSync(join(source, rel), blob);
    const link = join(snapshot, rel);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), blob), link);
  }
  return snapshot;
}

import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** mkdir -p, one level at a time: Node's recursive mkdir can spin forever on pseudo file
 * systems such as /proc, where it keeps getting ENOENT. */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
}

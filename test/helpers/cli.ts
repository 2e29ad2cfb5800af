// The built CLI as a user runs it (bin/linguascope.js, a fresh process), against the SQLite file
// `db`. stderr comes back as its lines, without the rebuild notice bin/linguascope.js prints when
// the sources are newer than the build (not an error line).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'linguascope.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string[];
}

export function runCli(db: string, args: readonly string[], timeoutMs = 300_000): CliRun {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db }, timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.split('\n').filter((l) => l && !l.startsWith('linguascope: building the app')) };
}

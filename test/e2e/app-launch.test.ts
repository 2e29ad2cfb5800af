// `npm run app` where Electron cannot be had (this machine: Node 20, no internet): it must stop
// with one line saying what is missing, never a stack trace, and change nothing in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

it('npm run app fails with one line naming what is missing when Electron cannot be fetched', () => {
  const electronDir = join(ROOT, 'node_modules', 'electron');
  if (existsSync(join(electronDir, 'path.txt'))) return; // a machine that has Electron's binary launches it instead
  const sqliteBefore = readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'));
  const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'app', 'launch.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  expect(run.status).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trim().split('\n');
  const last = lines.at(-1)!;
  expect(last).toMatch(/^npm run app: /);
  expect(last).toMatch(/Node >= \d+\.\d+\.\d+ \(this is v[\d.]+\)|could not be downloaded|could neither be downloaded nor compiled/);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  // Progress lines only ("downloading … once …") before the one line that says why.
  for (const line of lines.slice(0, -1)) expect(line).toMatch(/^npm run app: .* once …$/);
  expect(readFileSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node')).equals(sqliteBefore)).toBe(true);
});

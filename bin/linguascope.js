#!/usr/bin/env node
// The CLI runs from the build (out/main/cli.js). A fresh clone has no build and npm runs no build
// step of ours on install (a root `prepare` script would make every `npx linguascope` fail under
// strict-allow-scripts), so the first run builds it, and a run after the sources changed rebuilds
// it. A package installed without sources (no src/) runs its build as shipped.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'out', 'main', 'cli.js');
const BUILD_INPUTS = ['src', 'electron.vite.config.ts', 'package.json'];

function newestMtime(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function needsBuild() {
  const built = statSync(cli, { throwIfNoEntry: false });
  if (!built) return true;
  if (!existsSync(join(root, 'src'))) return false;
  return BUILD_INPUTS.some((p) => newestMtime(join(root, p)) > built.mtimeMs);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// One build at a time: concurrent first runs wait for the one that builds (mkdir is atomic).
function build() {
  const lock = join(root, 'out', '.build-lock');
  mkdirSync(dirname(lock), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > 10 * 60_000) rmSync(lock, { recursive: true, force: true }); // left by a killed build
      else if (Date.now() - started > 10 * 60_000) return fail('another build has held out/.build-lock for 10 minutes; remove it if no build is running');
      sleep(250);
      if (!needsBuild()) return;
    }
  }
  try {
    if (!needsBuild()) return;
    let viteBin;
    try {
      viteBin = join(dirname(createRequire(import.meta.url).resolve('electron-vite/package.json')), 'bin', 'electron-vite.js');
    } catch {
      return fail('the app is not built and electron-vite is not installed; run `npm ci` first');
    }
    process.stderr.write('linguascope: building the app (first run, or the sources changed) …\n');
    const run = spawnSync(process.execPath, [viteBin, 'build', '--logLevel', 'error'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) fail('the build failed (see above); `npm run build` shows the whole output');
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function fail(message) {
  process.stderr.write(`linguascope: ${message}\n`);
  process.exit(2);
}

if (needsBuild()) build();
await import(cli);

#!/usr/bin/env node
// `npm run app`: the desktop app from a source checkout, in four steps, each said in one line when
// it cannot be done:
//   1. Electron's binary, downloaded once by Electron's own installer (npm does not run it: its
//      install script is denied in package.json allowScripts, since it needs the internet);
//   2. better-sqlite3 built for Electron's Node ABI into native/electron-v<ABI>-<platform>-<arch>/,
//      apart from node_modules/better-sqlite3 (built for the system Node that the CLI and the
//      tests use); the backend loads it through better-sqlite3's `nativeBinding` option
//      (src/main/native-paths.ts);
//   3. the app build (electron-vite build);
//   4. Electron on this folder.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(join(root, 'package.json'));

function fail(message) {
  process.stderr.write(`npm run app: ${message}\n`);
  process.exit(1);
}

function packageDir(name) {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return fail(`${name} is not installed; run \`npm ci\` first`);
  }
}

/** The last non-empty line a failed child printed: the reason, without its stack trace. */
function reason(run) {
  const text = `${run.error?.message ?? ''}\n${run.stderr ?? ''}\n${run.stdout ?? ''}`;
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at '));
  return (lines.find((l) => /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|network/i.test(l)) ?? lines[0] ?? `exit ${run.status}`).slice(0, 200);
}

function versionAtLeast(version, minimum) {
  const a = version.replace(/^v/, '').split('.').map(Number);
  const b = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

// 1. Electron's binary.
const electronDir = packageDir('electron');
const electronPkg = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8'));
function electronBinary() {
  const pathTxt = join(electronDir, 'path.txt');
  if (!existsSync(pathTxt)) return null;
  const binary = join(electronDir, 'dist', readFileSync(pathTxt, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}
if (!electronBinary()) {
  const minNode = (electronPkg.engines?.node ?? '').match(/(\d+\.\d+\.\d+)/)?.[1];
  if (minNode && !versionAtLeast(process.version, minNode)) {
    fail(`Electron ${electronPkg.version}'s installer needs Node >= ${minNode} (this is ${process.version}); the CLI and \`npm run harness\` work on this Node`);
  }
  process.stderr.write(`npm run app: downloading Electron ${electronPkg.version} once …\n`);
  const run = spawnSync(process.execPath, [join(electronDir, 'install.js')], { encoding: 'utf8' });
  if (run.status !== 0 || !electronBinary()) {
    fail(`Electron ${electronPkg.version}'s binary is not installed and could not be downloaded (${reason(run)}); it needs the internet once — the CLI and \`npm run harness\` work without it`);
  }
}

// 2. better-sqlite3 for Electron's ABI.
const abi = readFileSync(join(electronDir, 'abi_version'), 'utf8').trim();
const binding = join(root, 'native', `electron-v${abi}-${process.platform}-${process.arch}`, 'better_sqlite3.node');
if (!existsSync(binding)) {
  const sqliteDir = packageDir('better-sqlite3');
  const staging = mkdtempSync(join(tmpdir(), 'linguascope-sqlite-electron-'));
  try {
    // A copy, so that the system-Node build in node_modules is never replaced.
    cpSync(sqliteDir, staging, { recursive: true, filter: (src) => !src.startsWith(join(sqliteDir, 'build')) });
    const target = ['--runtime', 'electron', '--target', electronPkg.version, '--arch', process.arch];
    process.stderr.write(`npm run app: fetching better-sqlite3 for Electron ${electronPkg.version} (ABI ${abi}) once …\n`);
    let run = spawnSync(process.execPath, [join(packageDir('prebuild-install'), 'bin.js'), ...target], { cwd: staging, encoding: 'utf8' });
    if (run.status !== 0) {
      // No prebuilt binary for this platform: compile against Electron's headers (also online).
      const gyp = join(dirname(dirname(process.env.npm_execpath ?? '')), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
      run = existsSync(gyp)
        ? spawnSync(process.execPath, [gyp, 'rebuild', '--release', `--target=${electronPkg.version}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'], { cwd: staging, encoding: 'utf8' })
        : run;
    }
    const built = join(staging, 'build', 'Release', 'better_sqlite3.node');
    if (run.status !== 0 || !existsSync(built)) {
      fail(`better-sqlite3 for Electron ${electronPkg.version} could neither be downloaded nor compiled (${reason(run)}); it needs the internet once`);
    }
    mkdirSync(dirname(binding), { recursive: true });
    copyFileSync(built, binding);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

// 3. The build.
const vite = spawnSync(process.execPath, [join(packageDir('electron-vite'), 'bin', 'electron-vite.js'), 'build', '--logLevel', 'error'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (vite.status !== 0) fail('the build failed (see above)');

// 4. The app.
const app = spawnSync(electronBinary(), [root, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(app.status ?? 1);

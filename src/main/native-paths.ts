// Paths that native code (better-sqlite3's binding, onnxruntime's external data, worker scripts)
// opens itself. Electron's fs reads inside app.asar; native code and worker threads cannot, so a
// packaged app keeps those files in app.asar.unpacked (electron-builder.json: asarUnpack).
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';

/** The same path outside the asar archive: `…/app.asar/x` → `…/app.asar.unpacked/x`. */
export function unpackedPath(path: string): string {
  const marker = `${sep}app.asar${sep}`;
  return path.includes(marker) ? path.replace(marker, `${sep}app.asar.unpacked${sep}`) : path;
}

/**
 * Where `npm run app` puts the better-sqlite3 build for Electron's Node ABI, apart from the build
 * for the system Node that the CLI and the tests load (the two ABIs differ, and one file cannot
 * serve both). Named by ABI (process.versions.modules), platform and arch.
 */
export function electronSqliteBindingPath(root: string, abi: string, platform: string = process.platform, arch: string = process.arch): string {
  return join(root, 'native', `electron-v${abi}-${platform}-${arch}`, 'better_sqlite3.node');
}

/**
 * The better-sqlite3 binding this process must load: under Electron from a source checkout, the
 * Electron build made by `npm run app`; otherwise (plain Node, or a packaged app whose
 * better-sqlite3 electron-builder rebuilt for Electron) the package's own.
 */
export function sqliteNativeBinding(root: string | undefined, versions: NodeJS.ProcessVersions = process.versions): string | undefined {
  if (!versions.electron || !root) return undefined;
  const path = electronSqliteBindingPath(root, versions.modules);
  return existsSync(path) ? path : undefined;
}

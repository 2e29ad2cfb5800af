import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const { findNodeHeaders, headerVersion } = createRequire(import.meta.url)('./node-headers.cjs') as {
  findNodeHeaders(o: { execPath: string; version: string; configPrefix?: string }): string | null;
  headerVersion(prefix: string): string | null;
};

const root = mkdtempSync(join(tmpdir(), 'ls-headers-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Node install: <prefix>/bin/node and, when `headers` is given, include/node of that version. */
function install(prefix: string, headers?: string): string {
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  writeFileSync(join(prefix, 'bin', 'node'), '');
  if (headers) {
    const [major, minor, patch] = headers.split('.');
    mkdirSync(join(prefix, 'include', 'node'), { recursive: true });
    writeFileSync(join(prefix, 'include', 'node', 'node_version.h'), `#define NODE_MAJOR_VERSION ${major}\n#define NODE_MINOR_VERSION ${minor}\n#define NODE_PATCH_VERSION ${patch}\n`);
    writeFileSync(join(prefix, 'include', 'node', 'common.gypi'), '{}');
  }
  return join(prefix, 'bin', 'node');
}

describe('findNodeHeaders: the running Node’s own headers, for every install layout', () => {
  it('finds a distribution or nvm/tarball layout (<prefix>/bin/node + <prefix>/include/node)', () => {
    const node = install(join(root, 'nvm', 'v20.20.2'), '20.20.2');
    expect(findNodeHeaders({ execPath: node, version: 'v20.20.2' })).toBe(join(root, 'nvm', 'v20.20.2'));
  });

  it('follows a Homebrew-style symlink to the keg that holds the headers', () => {
    const keg = join(root, 'Cellar', 'node', '20.20.2');
    const real = install(keg, '20.20.2');
    mkdirSync(join(root, 'brew', 'bin'), { recursive: true });
    symlinkSync(real, join(root, 'brew', 'bin', 'node'));
    expect(findNodeHeaders({ execPath: join(root, 'brew', 'bin', 'node'), version: 'v20.20.2' })).toBe(keg);
  });

  it('returns null when the install ships no headers (Windows installer): node-gyp downloads them', () => {
    const node = install(join(root, 'win'));
    expect(findNodeHeaders({ execPath: node, version: 'v20.20.2' })).toBeNull();
  });

  it('never uses headers of another Node version', () => {
    const node = install(join(root, 'stale'), '20.19.0');
    expect(findNodeHeaders({ execPath: node, version: 'v20.20.2' })).toBeNull();
    expect(headerVersion(join(root, 'stale'))).toBe('20.19.0');
  });

  it('falls back to the configured prefix when the executable was moved', () => {
    install(join(root, 'configured'), '22.1.0');
    const moved = install(join(root, 'moved'));
    expect(findNodeHeaders({ execPath: moved, version: 'v22.1.0', configPrefix: join(root, 'configured') })).toBe(join(root, 'configured'));
  });

  it('survives an executable path that does not exist and garbage headers', () => {
    mkdirSync(join(root, 'garbage', 'include', 'node'), { recursive: true });
    writeFileSync(join(root, 'garbage', 'include', 'node', 'node_version.h'), '#define NODE_MAJOR_VERSION x');
    expect(findNodeHeaders({ execPath: join(root, 'nowhere', 'bin', 'node'), version: 'v20.20.2', configPrefix: join(root, 'garbage') })).toBeNull();
  });

  it('finds this machine’s Node headers when it ships them', () => {
    const found = findNodeHeaders({ execPath: process.execPath, version: process.version, configPrefix: (process.config.variables as { node_prefix?: string }).node_prefix });
    if (found) expect(headerVersion(found)).toBe(process.version.slice(1));
  });
});

// The packaged app's hardening and layout, as electron-builder will read them (packaging itself
// needs Node >= 22.12 and the internet, so it cannot run here: this pins what it is given).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unpackedPath, electronSqliteBindingPath, sqliteNativeBinding } from '../../src/main/native-paths';

const root = process.cwd();
const config = JSON.parse(readFileSync(join(root, 'electron-builder.json'), 'utf8')) as {
  asar: boolean;
  asarUnpack: string[];
  files: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  mac: { target: string[] };
  win: { target: string[] };
};

describe('electron-builder.json', () => {
  it('turns every fuse of the security checklist to the safe side', () => {
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      grantFileProtocolExtraPrivileges: false,
    });
    expect(config.asar).toBe(true);
  });

  it('builds AppImage and deb, dmg, nsis', () => {
    expect(config.linux.target).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(config.mac.target).toContain('dmg');
    expect(config.win.target).toContain('nsis');
  });

  it('unpacks what native code opens: better-sqlite3, onnxruntime binaries, worker bundles, the demo model', () => {
    for (const needed of ['node_modules/better-sqlite3/**', 'node_modules/onnxruntime-node/**', 'out/main/**', 'resources/demo/**']) expect(config.asarUnpack).toContain(needed);
    // …and those folders are where this checkout has them.
    for (const dir of ['node_modules/better-sqlite3', 'node_modules/onnxruntime-node/bin', 'resources/demo']) expect(existsSync(join(root, dir)), dir).toBe(true);
    expect(config.files).toEqual(expect.arrayContaining(['package.json', 'out/**', 'resources/demo/**']));
  });
});

describe('native paths', () => {
  it('maps a path inside app.asar to app.asar.unpacked, and leaves others alone', () => {
    const inAsar = join('/', 'opt', 'LinguaScope', 'resources', 'app.asar', 'resources', 'demo', 'model.safetensors');
    expect(unpackedPath(inAsar)).toBe(join('/', 'opt', 'LinguaScope', 'resources', 'app.asar.unpacked', 'resources', 'demo', 'model.safetensors'));
    expect(unpackedPath(join(root, 'resources', 'demo'))).toBe(join(root, 'resources', 'demo'));
    expect(unpackedPath(join('/', 'x', 'app.asarx', 'y'))).toBe(join('/', 'x', 'app.asarx', 'y'));
  });

  it('loads the Electron build of better-sqlite3 only under Electron, and only when npm run app made it', () => {
    expect(electronSqliteBindingPath('/r', '150', 'linux', 'x64')).toBe(join('/r', 'native', 'electron-v150-linux-x64', 'better_sqlite3.node'));
    expect(sqliteNativeBinding(root, { ...process.versions })).toBeUndefined(); // plain Node: the package's own build
    expect(sqliteNativeBinding(root, { ...process.versions, electron: '45.4.1', modules: '999' })).toBeUndefined(); // not built: default
  });
});

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

// package.json installs the packed copy (a tarball dependency is built with the regular ones, so
// its bin is linked before better-sqlite3's install script runs; a `file:` folder link is built
// after them). `npm run pack:node-gyp` remakes it; this test fails when the two drift apart.
it('the committed tarball holds exactly the wrapper sources', () => {
  const here = join(process.cwd(), 'scripts', 'install');
  const out = mkdtempSync(join(tmpdir(), 'ls-gyp-pack-'));
  try {
    const untar = spawnSync('tar', ['-xzf', join(here, 'linguascope-node-gyp-1.0.0.tgz'), '-C', out]);
    expect(untar.status).toBe(0);
    for (const file of ['node-gyp.cjs', 'node-headers.cjs', 'package.json']) {
      expect(readFileSync(join(out, 'package', file), 'utf8'), file).toBe(readFileSync(join(here, 'node-gyp-local', file), 'utf8'));
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

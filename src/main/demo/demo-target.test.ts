// build-demo's output folder: the bundled demo (built before output markers existed) is recognised
// as ours and may be rebuilt in place; any other non-empty folder, file or link is refused before
// hours of training start, and nothing in it is touched.
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { checkOutputFolder } from '../io/output';
import { packageRoot } from '../package-root';
import { buildDemo, isDemoFolder } from './build';

const tmp = tempDir();
const BUNDLED = join(packageRoot(), 'resources', 'demo');
afterAll(() => tmp.cleanup());

describe('the demo output folder', () => {
  it('recognises a demo folder by its manifest, and nothing with a file the manifest does not list', () => {
    expect(isDemoFolder(BUNDLED)).toBe(true);
    const copy = join(tmp.dir, 'demo-copy');
    cpSync(BUNDLED, copy, { recursive: true });
    expect(checkOutputFolder(copy, isDemoFolder)).toBe(copy);
    writeFileSync(join(copy, 'notes.txt'), 'mine');
    expect(isDemoFolder(copy)).toBe(false);
    expect(() => checkOutputFolder(copy, isDemoFolder)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
  });

  it('refuses a foreign folder, a file and a link before any training', async () => {
    const runtime = new RuntimeHost();
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, '.bashrc'), 'export PATH=$PATH:~/bin\n');
    symlinkSync(home, join(tmp.dir, 'link'));
    for (const [out, why] of [[home, /holds 1 entry/], [join(home, '.bashrc'), /is a file/], [join(tmp.dir, 'link'), /is a symbolic link/]] as const) {
      await expect(buildDemo(out, runtime)).rejects.toMatchObject({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(why) });
    }
    expect(readdirSync(home)).toEqual(['.bashrc']);
    // No work folder was made beside any of them: the refusal came before the build started.
    expect(readdirSync(tmp.dir).filter((e) => e.endsWith('.build'))).toEqual([]);
    await runtime.close();
  });
});

// build-demo's output folder: the bundled demo carries LinguaScope's output marker and may be rebuilt
// in place; a demo built before output markers existed is recognised as ours by its manifest; any
// other non-empty folder, file or link is refused before hours of training start, and nothing in it
// is touched.
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { RuntimeHost } from '../engine/runtime-host';
import { checkOutputFolder, OUTPUT_MARKER } from '../io/output';
import { packageRoot } from '../package-root';
import { buildDemo, isDemoFolder } from './build';

const tmp = tempDir();
const BUNDLED = join(packageRoot(), 'resources', 'demo');
afterAll(() => tmp.cleanup());

describe('the demo output folder', () => {
  it('accepts the bundled demo by its marker, a marker-less demo by its manifest, and neither with a file they do not list', () => {
    expect(checkOutputFolder(BUNDLED, isDemoFolder)).toBe(BUNDLED);
    const marked = join(tmp.dir, 'demo-marked');
    cpSync(BUNDLED, marked, { recursive: true });
    writeFileSync(join(marked, 'notes.txt'), 'mine');
    expect(() => checkOutputFolder(marked, isDemoFolder)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(/"notes\.txt"/) }));
    // A demo from before output markers: only its manifest says it is ours.
    const legacy = join(tmp.dir, 'demo-legacy');
    cpSync(BUNDLED, legacy, { recursive: true });
    rmSync(join(legacy, OUTPUT_MARKER));
    expect(isDemoFolder(legacy)).toBe(true);
    expect(checkOutputFolder(legacy, isDemoFolder)).toBe(legacy);
    writeFileSync(join(legacy, 'notes.txt'), 'mine');
    expect(isDemoFolder(legacy)).toBe(false);
    expect(() => checkOutputFolder(legacy, isDemoFolder)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
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

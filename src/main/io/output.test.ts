// Output folders and files: replaced whole or not at all, never over something LinguaScope did not
// write, leftovers of killed writes removed (or the previous output put back), a full disk typed.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/helpers/temp';
import { checkOutputFile, checkOutputFolder, OUTPUT_MARKER, stageOutputFolder, writeOutputFolder } from './output';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = (name = 'out') => {
  const dir = join(tmp.dir, `case-${++n}`);
  mkdirSync(dir);
  return join(dir, name);
};
const files = (tag: string) => [
  { name: 'summary.json', content: JSON.stringify({ tag }) },
  { name: 'report.html', content: `<p>${tag}</p>` },
  { name: 'chart.png', content: Buffer.from([0x89, 0x50, 0x4e, 0x47, tag.length]) },
];
/** A pid that is certainly dead: a child that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
const siblings = (target: string) => readdirSync(join(target, '..')).filter((e) => e !== 'out').sort();

describe('writeOutputFolder', () => {
  it('writes every file plus a marker listing them, and replaces its own output whole', () => {
    const out = fresh();
    const written = writeOutputFolder(out, 'test report', files('one'));
    expect(written.map((f) => f.slice(out.length + 1))).toEqual(['chart.png', 'report.html', 'summary.json']);
    expect(JSON.parse(readFileSync(join(out, OUTPUT_MARKER), 'utf8'))).toEqual({ producer: 'linguascope', kind: 'test report', files: ['chart.png', 'report.html', 'summary.json'] });
    writeOutputFolder(out, 'test report', files('two').slice(0, 2));
    // The file the new version does not have is gone: no mix of two runs.
    expect(readdirSync(out).sort()).toEqual([OUTPUT_MARKER, 'report.html', 'summary.json']);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"tag":"two"}');
    expect(siblings(out)).toEqual([]);
  });

  it('accepts a missing or empty folder, creating the parents', () => {
    const out = join(fresh('a'), 'b', 'c');
    writeOutputFolder(out, 'k', files('x'));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    const empty = fresh();
    mkdirSync(empty);
    writeOutputFolder(empty, 'k', files('x'));
    expect(readdirSync(empty)).toHaveLength(4);
  });

  it.each([
    ['a non-empty folder with no marker', (p: string) => (mkdirSync(p), writeFileSync(join(p, 'notes.txt'), 'mine')), /holds 1 entry and no \.linguascope-output\.json/],
    ['our folder with a file a person added', (p: string) => (writeOutputFolder(p, 'k', files('x')), writeFileSync(join(p, 'notes.txt'), 'mine')), /holds "notes\.txt", which LinguaScope did not write/],
    ['a marker that is not ours', (p: string) => (mkdirSync(p), writeFileSync(join(p, OUTPUT_MARKER), '{"producer":"someone","kind":"k","files":[]}')), /no \.linguascope-output\.json/],
    ['a file', (p: string) => writeFileSync(p, 'export PATH=...'), /is a file, not a folder/],
    ['a link to a folder', (p: string) => (mkdirSync(`${p}-real`), writeFileSync(`${p}-real/x`, 'x'), symlinkSync(`${p}-real`, p)), /is a symbolic link/],
    ['a link to an empty folder', (p: string) => (mkdirSync(`${p}-real`), symlinkSync(`${p}-real`, p)), /is a symbolic link/],
    ['a dangling link', (p: string) => symlinkSync(`${p}-nowhere`, p), /is a symbolic link/],
  ])('refuses %s with OUTPUT_EXISTS naming the path, and touches nothing', (_, make, message) => {
    const out = fresh();
    make(out);
    const before = JSON.stringify(readdirSync(join(out, '..')).map((e) => [e, existsSync(join(out, '..', e))]));
    for (const attempt of [() => checkOutputFolder(out), () => writeOutputFolder(out, 'k', files('new'))]) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(message), details: { path: out } }));
    }
    expect(JSON.stringify(readdirSync(join(out, '..')).map((e) => [e, existsSync(join(out, '..', e))]))).toBe(before);
  });

  it('re-checks the target at commit: a foreign file put there during the work is not replaced', () => {
    const out = fresh();
    const staged = stageOutputFolder(out, 'k');
    writeFileSync(join(staged.dir, 'report.html'), 'new');
    mkdirSync(out);
    writeFileSync(join(out, 'theirs.txt'), 'theirs');
    expect(() => staged.commit()).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS' }));
    expect(readdirSync(out)).toEqual(['theirs.txt']);
    expect(siblings(out)).toEqual([]);
  });

  it('an unwritable parent is OUTPUT_NOT_WRITABLE', () => {
    const file = fresh('plain-file');
    writeFileSync(file, 'x');
    expect(() => checkOutputFolder(join(file, 'out'))).toThrow(expect.objectContaining({ code: 'OUTPUT_NOT_WRITABLE', message: expect.stringContaining('cannot write to the output folder') }));
  });
});

describe('leftovers of a killed write', () => {
  it('removes staging folders of dead processes, and puts a set-aside output back when the target is missing', () => {
    const out = fresh();
    const pid = deadPid();
    // Killed while staging: a marked staging folder, an empty one, one with only a half-written marker.
    const staging = join(out, '..', `.out.linguascope-staging-${pid}`);
    mkdirSync(staging);
    writeFileSync(join(staging, '.linguascope-staging.json'), JSON.stringify({ pid, host: hostname(), target: out }));
    writeFileSync(join(staging, 'report.html'), 'half');
    const other = deadPid();
    mkdirSync(join(out, '..', `.out.linguascope-staging-${other}`));
    // Killed between the two renames of the swap: the previous output sits aside, the target is gone.
    const aside = join(out, '..', `.out.linguascope-old-${pid}`);
    writeOutputFolder(join(out, '..', 'prev'), 'k', files('old'));
    execFileSync('mv', [join(out, '..', 'prev'), aside]);
    checkOutputFolder(out);
    expect(siblings(out)).toEqual([]);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"tag":"old"}');
  });

  it.each([
    ['before the first file went', [OUTPUT_MARKER, 'chart.png', 'report.html', 'summary.json']],
    ['after some files went', [OUTPUT_MARKER, 'summary.json']],
    ['after every file but the marker went', [OUTPUT_MARKER]],
    ['after the marker went, before the folder', []],
  ])('finishes removing a set-aside output whose removal was killed %s, and keeps the target', (_, left) => {
    const out = fresh();
    writeOutputFolder(out, 'k', files('new'));
    const aside = join(out, '..', `.out.linguascope-old-${deadPid()}`);
    writeOutputFolder(join(out, '..', 'prev'), 'k', files('old'));
    execFileSync('mv', [join(out, '..', 'prev'), aside]);
    for (const e of readdirSync(aside)) if (!left.includes(e)) rmSync(join(aside, e));
    checkOutputFolder(out);
    expect(siblings(out)).toEqual([]);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"tag":"new"}');
  });

  it('leaves alone what is not recognisably ours: a live writer, an unmarked folder, another target', () => {
    const out = fresh();
    const dead = deadPid();
    const names = [
      `.out.linguascope-staging-${process.ppid}`, // a live process
      `.out.linguascope-staging-${dead}`, // not marked as staging
      `.other.linguascope-staging-${dead}`, // beside another target
    ];
    for (const name of names) {
      mkdirSync(join(out, '..', name));
      writeFileSync(join(out, '..', name, 'data.bin'), 'keep');
    }
    writeOutputFolder(out, 'k', files('x'));
    expect(siblings(out)).toEqual(names.sort());
  });
});

describe('checkOutputFile', () => {
  const ours = (p: string) => readFileSync(p, 'utf8').startsWith('OURS');
  it('allows a new path or a file the kind recognises; refuses anything else', () => {
    const dir = fresh('d');
    mkdirSync(dir);
    expect(checkOutputFile(join(dir, 'new', 'a.safetensors'), ours)).toBe(join(dir, 'new', 'a.safetensors'));
    writeFileSync(join(dir, 'mine'), 'OURS 1');
    expect(checkOutputFile(join(dir, 'mine'), ours)).toBe(join(dir, 'mine'));
    writeFileSync(join(dir, '.bashrc'), 'export PATH=$PATH:~/bin\n');
    symlinkSync(join(dir, 'mine'), join(dir, 'link-to-ours'));
    mkdirSync(join(dir, 'folder'));
    for (const [name, message] of [['.bashrc', /exists and was not written by LinguaScope/], ['link-to-ours', /is a symbolic link/], ['folder', /is a folder/]] as const) {
      expect(() => checkOutputFile(join(dir, name), ours)).toThrow(expect.objectContaining({ code: 'OUTPUT_EXISTS', message: expect.stringMatching(message) }));
    }
    expect(readFileSync(join(dir, '.bashrc'), 'utf8')).toBe('export PATH=$PATH:~/bin\n');
  });

  it("removes a dead writer's temporary of the same file, and nothing else", () => {
    const dir = fresh('t');
    mkdirSync(dir);
    const dead = deadPid();
    const names = [`a.safetensors.tmp-${dead}`, `a.safetensors.tmp-${process.ppid}`, `b.safetensors.tmp-${dead}`, `a.safetensors.tmp-x${dead}`];
    for (const n of names) writeFileSync(join(dir, n), 'partial');
    checkOutputFile(join(dir, 'a.safetensors'), () => true);
    expect(readdirSync(dir).sort()).toEqual(names.slice(1).sort());
  });
});

/** A 2 MiB tmpfs: needs root (mount). Where it cannot be mounted the test says so and is skipped. */
function smallDisk(): { dir: string; unmount(): void } | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = fresh('disk');
  mkdirSync(dir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]);
  if (mounted.status !== 0) return null;
  return { dir, unmount: () => void spawnSync('umount', [dir]) };
}

describe('a full disk', () => {
  const disk = smallDisk();
  afterAll(() => disk?.unmount());
  it.skipIf(!disk)('fails with DISK_FULL, keeps the previous output whole and leaves no staging folder', () => {
    const out = join(disk!.dir, 'report');
    writeOutputFolder(out, 'k', files('old'));
    // Fill the disk but for a little.
    const free = () => Number(execFileSync('df', ['--output=avail', '-B1', disk!.dir], { encoding: 'utf8' }).split('\n')[1]);
    writeFileSync(join(disk!.dir, 'filler'), Buffer.alloc(Math.max(0, free() - 64 * 1024)));
    const big = [...files('new'), { name: 'big.bin', content: Buffer.alloc(512 * 1024, 7) }];
    expect(() => writeOutputFolder(out, 'k', big)).toThrow(expect.objectContaining({ code: 'DISK_FULL', message: expect.stringContaining(out) }));
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"tag":"old"}');
    expect(readdirSync(disk!.dir).sort()).toEqual(['filler', 'report']);
  });
});

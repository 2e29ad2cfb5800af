// Output folders and files as a user meets them through the CLI: a report folder killed mid-write
// (SIGKILL at several points of the swap) holds the old complete report or the new one, never a
// mix, and the next run leaves no litter; a full disk keeps the old report and says so; no output
// kind writes over a file, folder or link LinguaScope did not write, and each re-runs over its own.
// Needs `npm run build` (npm test runs it first).
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'linguascope.js');
const tmp = tempDir();
const DB = join(tmp.dir, 'cli.db');
const MODEL = join(tmp.dir, 'model');
const SAES = join(tmp.dir, 'saes');
const MARKER = '.linguascope-output.json';

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: DB }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectRefused(run: ReturnType<typeof cli>, path: string, why: RegExp) {
  expect(run.code, run.stderr).toBe(2);
  // bin/linguascope.js announces a rebuild when the sources are newer than the build; not an error line.
  const lines = run.stderr.trim().split('\n').filter((l) => !l.startsWith('linguascope: building the app'));
  expect(lines, run.stderr).toHaveLength(1);
  expect(run.stderr).toContain(path);
  expect(run.stderr).toMatch(why);
}

const analyze = (limit: number, out: string) => ['analyze', '--model', MODEL, '--saes', SAES, '--languages', 'en,hi', '--limit', String(limit), '--bootstrap', '0', '--out', out];

/** A report folder is whole when it holds exactly the files its marker lists, and every file is
 * from one run: the segment count in summary.json is the one report.html states. */
function reportSegments(dir: string): number {
  const mark = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as { files: string[] };
  expect(readdirSync(dir).sort()).toEqual([MARKER, ...mark.files].sort());
  expect(mark.files).toHaveLength(14);
  const segments = (JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) as { segments: number }).segments;
  expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain(`${segments} aligned segments`);
  for (const png of mark.files.filter((f) => f.endsWith('.png'))) expect(readFileSync(join(dir, png)).subarray(1, 4).toString()).toBe('PNG');
  return segments;
}

const litter = (parent: string) => readdirSync(parent).filter((e) => e.includes('.linguascope-') || e.includes('.tmp-'));

beforeAll(() => {
  expect(cli('make-random-model', '--arch', 'gemma2', '--preset', 'tiny', '--dtype', 'f32', '--out', MODEL, '--seed', '3').code).toBe(0);
  expect(cli('make-random-saes', '--model', MODEL, '--width', '64', '--layers', '1,2', '--out', SAES, '--seed', '5').code).toBe(0);
}, 240_000);
afterAll(() => tmp.cleanup());

describe('a report folder killed mid-write', () => {
  it('holds the old complete report or the new one at every kill point, and the next run leaves no litter', async () => {
    const parent = join(tmp.dir, 'kills');
    mkdirSync(parent);
    const out = join(parent, 'report');
    expect(cli(...analyze(3, out)).code).toBe(0);
    let before = reportSegments(out);
    expect(before).toBe(3);
    // Kill right when the staging folder appears, and then later each time: while files are
    // written, while they are synced, around the two renames of the swap, and after it.
    const delaysMs = [0, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 250, 500];
    const seen = { old: 0, new: 0, aside: 0 };
    for (const [i, delay] of delaysMs.entries()) {
      const limit = i % 2 === 0 ? 5 : 3;
      const child = spawn(process.execPath, [BIN, ...analyze(limit, out)], { env: { ...process.env, LINGUASCOPE_DB: DB }, stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const staging = `.report.linguascope-staging-${child.pid}`;
      let finished = false;
      void exited.then(() => (finished = true));
      // Busy-watch the folder (this thread only watches; the CLI runs in its own process).
      for (;;) {
        await new Promise((r) => setImmediate(r));
        if (finished) break;
        if (readdirSync(parent).includes(staging)) {
          const until = performance.now() + delay;
          while (performance.now() < until);
          child.kill('SIGKILL');
          break;
        }
      }
      await exited;
      if (existsSync(out)) {
        const now = reportSegments(out);
        expect([before, limit]).toContain(now);
        seen[now === before ? 'old' : 'new']++;
        before = now;
      } else {
        // Killed between the two renames: the old report sits whole beside the target, under the
        // dead process's name, and the next run puts it back before anything else.
        const aside = join(parent, `.report.linguascope-old-${child.pid}`);
        expect(reportSegments(aside)).toBe(before);
        seen.aside++;
      }
    }
    // Kills landed on both sides of the swap.
    expect(seen.old).toBeGreaterThan(0);
    expect(seen.new + seen.aside).toBeGreaterThan(0);
    expect(cli(...analyze(4, out)).code).toBe(0);
    expect(reportSegments(out)).toBe(4);
    expect(litter(parent)).toEqual([]);
  }, 600_000);
});

/** A 2 MiB tmpfs (needs root for mount); null where it cannot be mounted. */
function smallDisk(): { dir: string; unmount(): void } | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = join(tmp.dir, 'disk');
  mkdirSync(dir);
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir]).status !== 0) return null;
  return { dir, unmount: () => void spawnSync('umount', [dir]) };
}

describe('a full disk', () => {
  // Mounted here so the test is skipped, visibly, where tmpfs cannot be mounted (not root, no
  // CAP_SYS_ADMIN, not Linux); unmounted whatever happens.
  const disk = smallDisk();
  afterAll(() => disk?.unmount());
  it.skipIf(!disk)('fails the export with one DISK_FULL line and keeps the previous report whole', () => {
    const out = join(disk!.dir, 'fertility');
    expect(cli('fertility', '--languages', 'en,hi', '--out', out).code).toBe(0);
    const before = readFileSync(join(out, 'fertility.csv'), 'utf8');
    const avail = Number(execFileSync('df', ['--output=avail', '-B1', disk!.dir], { encoding: 'utf8' }).split('\n')[1]);
    writeFileSync(join(disk!.dir, 'filler'), Buffer.alloc(Math.max(0, avail - 16 * 1024)));
    const run = cli('fertility', '--languages', 'en,hi,ml', '--out', out);
    expectRefused(run, out, /is full \(ENOSPC\); free some space and run again — any earlier output there is unchanged/);
    expect(readFileSync(join(out, 'fertility.csv'), 'utf8')).toBe(before);
    expect(readdirSync(disk!.dir).sort()).toEqual(['fertility', 'filler']);
  });
});

describe('nothing LinguaScope did not write is written over', () => {
  const kinds = (root: string) => {
    const commands: [string, (out: string) => string[]][] = [
      ['fertility', (out) => ['fertility', '--languages', 'en,hi', '--out', out]],
      ['analyze', (out) => analyze(2, out)],
      ['make-random-model', (out) => ['make-random-model', '--arch', 'llama', '--preset', 'tiny', '--dtype', 'f32', '--out', out]],
      ['make-random-saes', (out) => ['make-random-saes', '--model', MODEL, '--width', '32', '--layers', '1', '--out', out]],
    ];
    return commands.map(([name, args]) => [name, args, join(root, name)] as const);
  };

  it.each(kinds(join(tmp.dir, 'folders')))('%s: refuses a foreign non-empty folder, a file, a link; re-runs over its own output', (_, args, base) => {
    mkdirSync(base, { recursive: true });
    const foreign = join(base, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'thesis.tex'), 'years of work');
    const file = join(base, 'a-file');
    writeFileSync(file, 'export PATH=$PATH:~/bin\n');
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(elsewhere);
    const link = join(base, 'link');
    symlinkSync(elsewhere, link);
    expectRefused(cli(...args(foreign)), foreign, /holds 1 entry and no \.linguascope-output\.json from LinguaScope/);
    expectRefused(cli(...args(file)), file, /is a file, not a folder/);
    expectRefused(cli(...args(link)), link, /is a symbolic link/);
    expect(readdirSync(foreign)).toEqual(['thesis.tex']);
    expect(readFileSync(file, 'utf8')).toBe('export PATH=$PATH:~/bin\n');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(elsewhere)).toEqual([]);
    // Our own output, twice: the second run replaces the first.
    const own = join(base, 'own');
    expect(cli(...args(own)).code).toBe(0);
    const first = JSON.parse(readFileSync(join(own, MARKER), 'utf8')) as { files: string[] };
    expect(cli(...args(own)).code).toBe(0);
    expect(JSON.parse(readFileSync(join(own, MARKER), 'utf8'))).toEqual(first);
    // A file a person put into our folder makes it theirs too.
    writeFileSync(join(own, 'notes.txt'), 'mine');
    expectRefused(cli(...args(own)), own, /holds "notes\.txt", which LinguaScope did not write/);
    expect(readFileSync(join(own, 'notes.txt'), 'utf8')).toBe('mine');
    expect(litter(base)).toEqual([]);
  });

  it('activations: refuses a foreign file (a shell profile), a folder and a link; re-runs over its own file', () => {
    const dir = join(tmp.dir, 'activations');
    mkdirSync(dir);
    const run = (out: string) => cli('activations', '--model', MODEL, '--text', 'All human beings', '--layers', '1', '--out', out);
    const bashrc = join(dir, '.bashrc');
    writeFileSync(bashrc, 'export PATH=$PATH:~/bin\n');
    expectRefused(run(bashrc), bashrc, /exists and was not written by LinguaScope/);
    expect(readFileSync(bashrc, 'utf8')).toBe('export PATH=$PATH:~/bin\n');
    // Another program's safetensors file is not ours either (the SAE file is, but not an activation file of ours).
    const foreignTensors = join(dir, 'weights.safetensors');
    const header = Buffer.from(JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(foreignTensors, Buffer.concat([len, header, Buffer.alloc(4)]));
    expectRefused(run(foreignTensors), foreignTensors, /exists and was not written by LinguaScope/);
    const folder = join(dir, 'folder.safetensors');
    mkdirSync(folder);
    expectRefused(run(folder), folder, /is a folder/);
    const own = join(dir, 'acts.safetensors');
    expect(run(own).code).toBe(0);
    const link = join(dir, 'link.safetensors');
    symlinkSync(own, link);
    expectRefused(run(link), link, /is a symbolic link/);
    const again = cli('activations', '--model', MODEL, '--text', 'All human beings are born free', '--layers', '1', '--out', own);
    expect(again.code, again.stderr).toBe(0);
    expect(litter(dir)).toEqual([]);
  });
});

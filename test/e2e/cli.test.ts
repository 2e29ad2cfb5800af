// The built CLI as a user runs it: a child process, the backend in a worker thread, a real
// SQLite file. Needs `npm run build` (npm test runs it first).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'linguascope.js');
const tmp = tempDir();
const dbPath = join(tmp.dir, 'cli.db');

function cli(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, LINGUASCOPE_DB: dbPath },
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function snapshot(): string {
  if (!existsSync(dbPath)) return 'no database';
  const db = new Database(dbPath, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    return JSON.stringify(tables.map(({ name }) => [name, db.prepare(`SELECT * FROM "${name}"`).all()]));
  } finally {
    db.close();
  }
}

describe('linguascope CLI', () => {
  afterAll(() => tmp.cleanup());

  it('writes fertility.csv, .svg and .png and says where', () => {
    const out = join(tmp.dir, 'out');
    const run = cli('fertility', '--languages', 'en,hi,ml', '--out', out);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const name of ['fertility.csv', 'fertility.svg', 'fertility.png', 'report.html']) {
      expect(run.stdout).toContain(join(out, name));
      expect(statSync(join(out, name)).size).toBeGreaterThan(100);
    }
    const [header, ...rows] = readFileSync(join(out, 'fertility.csv'), 'utf8').trim().split('\n');
    const columns = header.split(',');
    expect(columns).toEqual(expect.arrayContaining(['language', 'tier', 'tokens_per_word', 'ratio_to_en']));
    const parsed = rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i], v])));
    expect(parsed.map((r) => [r.language, r.tier])).toEqual([['en', 'reference'], ['hi', 'medium-low'], ['ml', 'medium-low']]);
    expect(Number(parsed[0].ratio_to_en)).toBe(1);
    expect(Number(parsed[2].ratio_to_en)).toBeGreaterThan(Number(parsed[1].ratio_to_en));
    expect(readFileSync(join(out, 'fertility.svg'), 'utf8')).toMatch(/^<svg[\s\S]*data-label="ml"[\s\S]*<\/svg>$/);
    expect(readFileSync(join(out, 'fertility.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('serves a repeated request from the SQLite cache', () => {
    const run = cli('fertility', '--languages', 'en,hi,ml', '--out', join(tmp.dir, 'again'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('served from the cache: en, hi, ml');
  });

  it.each([
    [['fertility', '--languages', 'en,xx', '--out', 'OUT'], /unknown language "xx"/],
    [['fertility', '--languages', 'en,hi', '--out', 'OUT', '--tokenizer', 'EMPTY'], /has no tokenizer\.json/],
    [['fertility', '--languages', 'en,hi', '--out', 'OUT', '--tokenizer', 'BADUTF8'], /not valid UTF-8/],
    [['fertility', '--languages', 'en,hi', '--out', 'FILE/sub'], /cannot write to the output folder/],
    [['fertility', '--languages', 'en,hi'], /needs --out/],
    [['fertility', '--out', 'OUT'], /needs --languages/],
    [['fertility', '--languages', 'en', '--out', 'OUT', '--bogus'], /Unknown option/],
    [['languages', 'add', 'de', '--tier', 'huge'], /--tier must be one of/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('exits 2 with one line naming the problem: %j', (args, message) => {
    const empty = join(tmp.dir, 'empty-tokenizer');
    const bad = join(tmp.dir, 'bad-tokenizer');
    const file = join(tmp.dir, 'plain-file');
    spawnSync('mkdir', ['-p', empty, bad]);
    writeFileSync(join(bad, 'tokenizer.json'), Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    writeFileSync(file, 'not a folder');
    const substituted = args.map((a) =>
      a.replace('OUT', join(tmp.dir, 'bad-out')).replace('EMPTY', empty).replace('BADUTF8', bad).replace('FILE', file),
    );
    const before = snapshot();
    const run = cli(...substituted);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(snapshot()).toBe(before);
    expect(existsSync(join(tmp.dir, 'bad-out', 'fertility.csv'))).toBe(false);
  });

  it('manages the language registry', () => {
    expect(cli('languages', 'add', 'de', '--tier', 'high').stdout).toContain('added de (German, Standard (1996), Latin, high)');
    expect(cli('languages', 'set-tier', 'de', 'medium-low').stdout).toContain('de: medium-low');
    const list = cli('languages', '--json');
    expect((JSON.parse(list.stdout) as { code: string }[]).map((l) => l.code)).toContain('de');
    const run = cli('fertility', '--languages', 'de', '--out', join(tmp.dir, 'de'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/\nde\s+medium-low/);
  });
});

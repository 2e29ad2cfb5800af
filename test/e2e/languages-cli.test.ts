// The language registry and the fertility tokenizer choice through the built CLI: a child
// process, the backend in a worker thread, a real SQLite file. Needs `npx electron-vite build`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/main/store/db';
import { tempDir } from '../helpers/temp';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'linguascope.js');
const DEMO_MODEL = join(ROOT, 'resources', 'demo', 'model');
const tmp = tempDir();

function cli(db: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, LINGUASCOPE_DB: db }, timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every user table's rows, to prove a refused command changed nothing. */
function snapshot(db: string): string {
  const conn = new Database(db, { readonly: true });
  try {
    const tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_migrations' ORDER BY name").all() as { name: string }[];
    return JSON.stringify(tables.map(({ name }) => [name, conn.prepare(`SELECT * FROM "${name}"`).all()]));
  } finally {
    conn.close();
  }
}

const codes = (db: string) => (JSON.parse(cli(db, 'languages', '--json').stdout) as { code: string; tier: string }[]).map((l) => `${l.code}:${l.tier}`);

describe('linguascope languages / fertility --model', () => {
  const db = join(tmp.dir, 'cli.db');
  afterAll(() => tmp.cleanup());

  it('adds a language under any spelling once, and removes it', () => {
    const added = cli(db, 'languages', 'add', 'DE', '--tier', 'high');
    expect(added.stderr).toBe('');
    expect(added.stdout).toBe('added de (German, Standard (1996), Latin, high)\n');
    expect(cli(db, 'languages', 'add', 'pt_br').stdout).toBe('added pt-BR (Portuguese (Brazil), Latin, medium-low)\n');
    expect(cli(db, 'languages').stdout).toMatch(/\npt-BR\s+medium-low\s+Latin\s+Portuguese \(Brazil\)\s+\(added\)\n/);
    expect(cli(db, 'languages', 'remove', 'PT-BR').stdout).toBe('removed pt-BR\n');
    expect(codes(db)).toContain('de:high');
    expect(codes(db)).not.toContain('pt-BR:medium-low');
  });

  it.each([
    [['languages', 'add', 'EN'], /"EN" is English, already in the registry as "en"/],
    [['languages', 'add', 'zh_Hans'], /already in the registry as "zh"/],
    [['languages', 'add', 'deu_1996'], /already in the registry as "de"/],
    [['languages', 'add', 'fr', '--tier', 'reference'], /cannot be the reference/],
    [['languages', 'set-tier', 'zh', 'reference'], /cannot be the reference: English is the one reference/],
    [['languages', 'set-tier', 'EN', 'high'], /English is the reference language and stays "reference"/],
    [['languages', 'remove', 'en'], /preset languages and cannot be removed; deselect it instead/],
    [['languages', 'remove', 'fr'], /unknown language "fr"/],
    [['languages', 'remove'], /languages remove needs a language code/],
    [['languages', 'add', 'en us'], /language code/],
    [['languages', 'add', 'english'], /"english" is not a language subtag/],
    [['languages', 'add', 'zh-TW'], /unknown language "zh-TW"/],
    [['fertility', '--languages', 'ru', '--out', 'OUT', '--model', DEMO_MODEL, '--tokenizer', DEMO_MODEL], /give --model or --tokenizer, not both/],
    [['fertility', '--languages', 'ru', '--out', 'OUT', '--model', 'NOTOKENIZER'], /model folder .* has no tokenizer\.json/],
  ])('exits 2 with one line and changes nothing: %j', (args, message) => {
    const noTokenizer = join(tmp.dir, 'no-tokenizer');
    mkdirSync(noTokenizer, { recursive: true });
    const before = snapshot(db);
    const run = cli(db, ...args.map((a) => a.replace('OUT', join(tmp.dir, 'refused')).replace('NOTOKENIZER', noTokenizer)));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
    expect(snapshot(db)).toBe(before);
    expect(existsSync(join(tmp.dir, 'refused'))).toBe(false);
  });

  it("measures the model's own tokenizer with --model and says which tokenizer every figure is for", () => {
    const out = join(tmp.dir, 'model');
    const run = cli(db, 'fertility', '--languages', 'RU,de', '--model', DEMO_MODEL, '--out', out);
    expect(run.code).toBe(0);
    const sha = (JSON.parse(readFileSync(join(out, 'fertility.json'), 'utf8')) as { tokenizer: { sha256: string } }).tokenizer.sha256;
    expect(run.stdout).toContain(`tokenizer: the model's own tokenizer, ${join(DEMO_MODEL, 'tokenizer.json')} (sha256 ${sha.slice(0, 12)})`);
    expect(run.stdout).toMatch(/\nru\s+high/);
    expect(run.stdout).toMatch(/\nde\s+high/);
    const csv = readFileSync(join(out, 'fertility.csv'), 'utf8').trim().split('\n');
    expect(csv.slice(1).every((row) => row.endsWith(`,model,${join(DEMO_MODEL, 'tokenizer.json')},${sha}`))).toBe(true);

    const bundled = cli(db, 'fertility', '--languages', 'ru', '--out', join(tmp.dir, 'bundled'));
    expect(bundled.code).toBe(0);
    expect(bundled.stdout).toMatch(/tokenizer: the bundled Gemma tokenizer, no model or tokenizer named \(sha256 [0-9a-f]{12}\)\n {2}\(give --model DIR/);
  });

  it('repairs a database in which the old code stored a second English and a second reference', () => {
    const old = join(tmp.dir, 'old.db');
    const conn = new Database(old);
    // The schema as the migrations before the repair left it.
    conn.exec('CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((m) => m.id < '20261130T0300')) {
      conn.exec(m.sql);
      conn.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.id, '2026-11-01T00:00:00Z');
    }
    const add = conn.prepare('INSERT INTO custom_languages VALUES (?, ?, ?, ?, ?, ?)');
    add.run('EN', 'English', 'Latin', 'eng', 'medium-low', '2026-11-02T00:00:00Z');
    add.run('Fr', 'French', 'Latin', 'fra', 'high', '2026-11-03T00:00:00Z');
    add.run('FR', 'French', 'Latin', 'fra', 'medium-low', '2026-11-04T00:00:00Z');
    conn.prepare('INSERT INTO language_tiers VALUES (?, ?, ?)').run('zh', 'reference', '2026-11-05T00:00:00Z');
    conn.close();
    expect(codes(old)).toEqual([
      'en:reference', 'zh:high', 'ru:high', 'es:high', 'it:high',
      'id:medium-low', 'ca:medium-low', 'mr:medium-low', 'ml:medium-low', 'hi:medium-low', 'fr:high',
    ]);
    expect(cli(old, 'languages', 'remove', 'FR').stdout).toBe('removed fr\n');
  });
});

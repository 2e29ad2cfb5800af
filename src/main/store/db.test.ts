import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../../../test/helpers/temp';
import { MIGRATIONS, migrate, openDatabase, type Db } from './db';
import { FertilityRepo } from './fertility-repo';
import { resolveDbPath, defaultDataDir } from './paths';

describe('SQLite store', () => {
  const tmp = tempDir();
  const opened: Db[] = [];
  const open = (name = 'store.db') => {
    const db = openDatabase(join(tmp.dir, name));
    opened.push(db);
    return db;
  };
  afterEach(() => opened.splice(0).forEach((db) => db.open && db.close()));
  afterAll(() => tmp.cleanup());

  it('has timestamp-named migrations in order and applies each once, in WAL mode', () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(MIGRATIONS.every((m) => /^\d{8}T\d{4}_[a-z0-9_]+$/.test(m.id))).toBe(true);
    expect([...MIGRATIONS].map((m) => m.id).sort()).toEqual(MIGRATIONS.map((m) => m.id));
    const db = open();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(migrate(db, MIGRATIONS)).toEqual([]);
    const applied = db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[];
    expect(applied.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
  });

  it('rolls a failing migration back completely', () => {
    const db = open('migration.db');
    const bad = { id: '29990101T0000_bad', sql: 'CREATE TABLE t_ok (x INTEGER); CREATE TABLE t_ok (x INTEGER);' };
    expect(() => migrate(db, [...MIGRATIONS, bad])).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't_ok'").get()).toBeUndefined();
    expect(db.prepare('SELECT id FROM schema_migrations WHERE id = ?').get(bad.id)).toBeUndefined();
  });

  it('stores a fertility set atomically: all rows and the marker, or nothing', () => {
    const db = open('cache.db');
    const repo = new FertilityRepo(db);
    const key = { tokenizerSha256: 't', corpusCode: 'eng', textSha256: 'h' };
    expect(repo.load(key)).toBeNull();
    const good = { section_key: 'article.1', paragraph: 1, tokens: 3, words: 2, characters: 9 };
    const broken = { section_key: 'article.2', paragraph: 1, tokens: null as unknown as number, words: 1, characters: 1 };
    expect(() => repo.save(key, [good, broken])).toThrow();
    expect(repo.load(key)).toBeNull();
    expect(db.prepare('SELECT COUNT(*) AS n FROM fertility_counts').get()).toEqual({ n: 0 });
    repo.save(key, [good]);
    expect(repo.load(key)).toEqual([good]);
  });

  it('finds the database in the app-data folder unless a flag or LINGUASCOPE_DB says otherwise', () => {
    expect(resolveDbPath('/x/flag.db', { LINGUASCOPE_DB: '/x/env.db' })).toBe('/x/flag.db');
    expect(resolveDbPath(undefined, { LINGUASCOPE_DB: '/x/env.db' })).toBe('/x/env.db');
    expect(resolveDbPath(undefined, { XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/LinguaScope/linguascope.db');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32')).toContain('LinguaScope');
  });

  it('reports a database it cannot create as a store error', () => {
    expect(() => openDatabase('/proc/linguascope/x.db')).toThrowError(/cannot (create|open)/);
  });

});

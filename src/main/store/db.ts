// The SQLite store: one better-sqlite3 connection per backend, WAL journal, timestamp-named
// migrations applied in order, each in its own transaction.
import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ApiError } from '../../shared/errors';
import { makeDirs } from '../io/fs';
import { sqliteNativeBinding } from '../native-paths';
import { packageRoot } from '../package-root';

export type Db = Database.Database;

export interface Migration {
  /** File name without extension, e.g. `20261124T2200_init`; sorts in application order. */
  id: string;
  sql: string;
}

const files = import.meta.glob('./migrations/*.sql', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

export const MIGRATIONS: Migration[] = Object.entries(files)
  .map(([path, sql]) => ({ id: path.replace(/^.*\//, '').replace(/\.sql$/, ''), sql }))
  .sort((a, b) => a.id.localeCompare(b.id));

export function openDatabase(path: string, migrations: Migration[] = MIGRATIONS): Db {
  if (path !== ':memory:') {
    try {
      makeDirs(dirname(path));
    } catch (error) {
      throw new ApiError('STORE_ERROR', `cannot create the folder for the database ${path}: ${(error as Error).message}`);
    }
  }
  let db: Db;
  try {
    const nativeBinding = process.versions.electron ? sqliteNativeBinding(packageRoot()) : undefined;
    db = new Database(path, nativeBinding ? { nativeBinding } : {});
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    throw new ApiError('STORE_ERROR', `cannot open the database ${path}: ${(error as Error).message}`);
  }
  try {
    storeCall('prepare the database', () => migrate(db, migrations));
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** A SQLite failure as a typed STORE_ERROR saying what it means for the user's data (extended
 * result codes such as SQLITE_BUSY_SNAPSHOT or SQLITE_IOERR_WRITE included). */
export function storeError(error: unknown, action: string): ApiError {
  const e = error as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code.startsWith('SQLITE_FULL')) return new ApiError('STORE_ERROR', `the disk is full: could not ${action}; free space and run again (nothing stored so far is lost)`);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new ApiError('STORE_ERROR', `the database is locked by another program: could not ${action}; close it and run again (nothing stored so far is lost)`);
  }
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN')) {
    return new ApiError('STORE_ERROR', `the database file cannot be read or written (${code}): could not ${action}; check the disk and its permissions (nothing stored so far is lost)`);
  }
  if (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB')) return new ApiError('STORE_ERROR', `the database file is damaged (${code}): could not ${action}`);
  return new ApiError('STORE_ERROR', `could not ${action}: ${e.message ?? String(error)}`);
}

/** Runs a database call, turning SQLite failures into `storeError` (anything else, such as a
 * programming error, passes through unchanged). */
export function storeCall<T>(action: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (String((error as { code?: unknown }).code ?? '').startsWith('SQLITE_')) throw storeError(error, action);
    throw error;
  }
}

export function migrate(db: Db, migrations: Migration[]): string[] {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id),
  );
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  const ran: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.id, new Date().toISOString());
    })();
    ran.push(migration.id);
  }
  return ran;
}

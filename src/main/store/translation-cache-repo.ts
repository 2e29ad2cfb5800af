// Cached translations (migration 20261130T1000_translations).
import type { Db } from './db';

export class TranslationCacheRepo {
  constructor(private readonly db: Db) {}

  getMany(keys: readonly string[]): Map<string, number[]> {
    const out = new Map<string, number[]>();
    const select = this.db.prepare('SELECT ids_json FROM translations WHERE key = ?');
    for (const key of new Set(keys)) {
      const row = select.get(key) as { ids_json: string } | undefined;
      if (!row) continue;
      try {
        const ids = JSON.parse(row.ids_json) as unknown;
        if (Array.isArray(ids) && ids.every((v) => Number.isSafeInteger(v) && v >= 0)) out.set(key, ids as number[]);
      } catch {
        // a damaged row is translated again
      }
    }
    return out;
  }

  /** One transaction per batch: a killed run keeps every finished batch. */
  putMany(rows: readonly { key: string; ids: readonly number[] }[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO translations (key, ids_json, created_at) VALUES (?, ?, ?)');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.key, JSON.stringify(r.ids), now);
    })();
  }
}

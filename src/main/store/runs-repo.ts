import { storeCall, type Db } from './db';

export class RunsRepo {
  constructor(private readonly db: Db) {}

  record(kind: string, settings: unknown, result: unknown): number {
    const info = storeCall('record the run', () =>
      this.db
        .prepare('INSERT INTO analysis_runs (kind, created_at, settings_json, result_json) VALUES (?, ?, ?, ?)')
        .run(kind, new Date().toISOString(), JSON.stringify(settings), JSON.stringify(result)),
    );
    return Number(info.lastInsertRowid);
  }

  count(kind?: string): number {
    const row = (kind
      ? this.db.prepare('SELECT COUNT(*) AS n FROM analysis_runs WHERE kind = ?').get(kind)
      : this.db.prepare('SELECT COUNT(*) AS n FROM analysis_runs').get()) as { n: number };
    return row.n;
  }
}

// Cached per-item multiple-choice log-likelihoods (migration 20261130T0700_eval_items).
import type { Db } from './db';

export interface CachedChoice {
  loglikelihood: number;
  isGreedy: boolean;
}

export class EvalCacheRepo {
  constructor(private readonly db: Db) {}

  /** The cached items among `keys`. */
  getMany(keys: readonly string[]): Map<string, CachedChoice[]> {
    const out = new Map<string, CachedChoice[]>();
    const select = this.db.prepare('SELECT key, loglik_json FROM eval_items WHERE key = ?');
    for (const key of keys) {
      const row = select.get(key) as { key: string; loglik_json: string } | undefined;
      if (!row) continue;
      try {
        const parsed = JSON.parse(row.loglik_json) as [number, number][];
        if (Array.isArray(parsed) && parsed.every((c) => Array.isArray(c) && typeof c[0] === 'number' && Number.isFinite(c[0]))) {
          out.set(key, parsed.map(([ll, g]) => ({ loglikelihood: ll, isGreedy: g === 1 })));
        }
      } catch {
        // a damaged row is scored again
      }
    }
    return out;
  }

  /** Stores a batch of items in one transaction (a killed run keeps every finished batch). */
  putMany(rows: readonly { key: string; choices: CachedChoice[] }[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO eval_items (key, loglik_json, created_at) VALUES (?, ?, ?)');
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.key, JSON.stringify(r.choices.map((c) => [c.loglikelihood, c.isGreedy ? 1 : 0])), now);
    })();
  }
}

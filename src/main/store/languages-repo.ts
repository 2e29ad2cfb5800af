import type { Tier } from '../../shared/dto';
import type { Db } from './db';

export interface CustomLanguageRow {
  code: string;
  name: string;
  script: string;
  corpus_code: string;
  tier: Tier;
}

export class LanguagesRepo {
  constructor(private readonly db: Db) {}

  tierOverrides(): Map<string, Tier> {
    const rows = this.db.prepare('SELECT code, tier FROM language_tiers').all() as { code: string; tier: Tier }[];
    return new Map(rows.map((r) => [r.code, r.tier]));
  }

  setTierOverride(code: string, tier: Tier): void {
    this.db
      .prepare(
        `INSERT INTO language_tiers (code, tier, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (code) DO UPDATE SET tier = excluded.tier, updated_at = excluded.updated_at`,
      )
      .run(code, tier, new Date().toISOString());
  }

  clearTierOverride(code: string): void {
    this.db.prepare('DELETE FROM language_tiers WHERE code = ?').run(code);
  }

  customLanguages(): CustomLanguageRow[] {
    return this.db
      .prepare('SELECT code, name, script, corpus_code, tier FROM custom_languages ORDER BY added_at, code')
      .all() as CustomLanguageRow[];
  }

  addCustom(row: CustomLanguageRow): void {
    this.db
      .prepare(
        'INSERT INTO custom_languages (code, name, script, corpus_code, tier, added_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(row.code, row.name, row.script, row.corpus_code, row.tier, new Date().toISOString());
  }

  setCustomTier(code: string, tier: Tier): void {
    this.db.prepare('UPDATE custom_languages SET tier = ? WHERE code = ?').run(tier, code);
  }

  removeCustom(code: string): boolean {
    return this.db.prepare('DELETE FROM custom_languages WHERE code = ?').run(code).changes > 0;
  }
}

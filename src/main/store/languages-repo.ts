import type { Tier } from '../../shared/dto';
import { storeCall, type Db } from './db';

/** A language the user added, keyed by its corpus entry: its registry code is derived from that
 * entry (registry-codes.ts), so one language cannot be stored twice under two spellings. */
export interface CustomLanguageRow {
  corpus_code: string;
  name: string;
  script: string;
  tier: Exclude<Tier, 'reference'>;
}

export class LanguagesRepo {
  constructor(private readonly db: Db) {}

  tierOverrides(): Map<string, Tier> {
    const rows = storeCall('read the language tiers', () => this.db.prepare('SELECT code, tier FROM language_tiers').all()) as { code: string; tier: Tier }[];
    return new Map(rows.map((r) => [r.code, r.tier]));
  }

  setTierOverride(code: string, tier: Tier): void {
    storeCall('save the tier', () =>
      this.db
        .prepare(
          `INSERT INTO language_tiers (code, tier, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (code) DO UPDATE SET tier = excluded.tier, updated_at = excluded.updated_at`,
        )
        .run(code, tier, new Date().toISOString()),
    );
  }

  clearTierOverride(code: string): void {
    storeCall('reset the tier', () => this.db.prepare('DELETE FROM language_tiers WHERE code = ?').run(code));
  }

  customLanguages(): CustomLanguageRow[] {
    return storeCall('read the added languages', () =>
      this.db.prepare('SELECT corpus_code, name, script, tier FROM custom_languages ORDER BY added_at, corpus_code').all(),
    ) as CustomLanguageRow[];
  }

  addCustom(row: CustomLanguageRow): void {
    storeCall('add the language', () =>
      this.db
        .prepare('INSERT INTO custom_languages (corpus_code, name, script, tier, added_at) VALUES (?, ?, ?, ?, ?)')
        .run(row.corpus_code, row.name, row.script, row.tier, new Date().toISOString()),
    );
  }

  setCustomTier(corpusCode: string, tier: Exclude<Tier, 'reference'>): void {
    storeCall('save the tier', () => this.db.prepare('UPDATE custom_languages SET tier = ? WHERE corpus_code = ?').run(tier, corpusCode));
  }

  removeCustom(corpusCode: string): boolean {
    return storeCall('remove the language', () => this.db.prepare('DELETE FROM custom_languages WHERE corpus_code = ?').run(corpusCode)).changes > 0;
  }
}

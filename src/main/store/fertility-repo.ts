import type { Db } from './db';

export interface ParagraphCounts {
  section_key: string;
  /** 1-based paragraph index within the section. */
  paragraph: number;
  tokens: number;
  words: number;
  characters: number;
}

export interface FertilitySetKey {
  tokenizerSha256: string;
  corpusCode: string;
  textSha256: string;
}

export class FertilityRepo {
  constructor(private readonly db: Db) {}

  /** The cached paragraph counts of one language, or null if that set was never completed. */
  load(key: FertilitySetKey): ParagraphCounts[] | null {
    const set = this.db
      .prepare('SELECT paragraphs FROM fertility_sets WHERE tokenizer_sha256 = ? AND corpus_code = ? AND text_sha256 = ?')
      .get(key.tokenizerSha256, key.corpusCode, key.textSha256) as { paragraphs: number } | undefined;
    if (!set) return null;
    const rows = this.db
      .prepare(
        `SELECT section_key, paragraph, tokens, words, characters FROM fertility_counts
         WHERE tokenizer_sha256 = ? AND corpus_code = ? AND text_sha256 = ?`,
      )
      .all(key.tokenizerSha256, key.corpusCode, key.textSha256) as ParagraphCounts[];
    return rows.length === set.paragraphs ? rows : null;
  }

  /** Stores one language's counts atomically: all rows and the completion marker, or nothing. */
  save(key: FertilitySetKey, counts: ParagraphCounts[]): void {
    const insertSet = this.db.prepare(
      `INSERT OR REPLACE INTO fertility_sets (tokenizer_sha256, corpus_code, text_sha256, paragraphs, computed_at)
       VALUES (?, ?, ?, ?, ?)`,
    );
    const insertRow = this.db.prepare(
      `INSERT OR REPLACE INTO fertility_counts
       (tokenizer_sha256, corpus_code, text_sha256, section_key, paragraph, tokens, words, characters)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      insertSet.run(key.tokenizerSha256, key.corpusCode, key.textSha256, counts.length, new Date().toISOString());
      for (const c of counts) {
        insertRow.run(key.tokenizerSha256, key.corpusCode, key.textSha256, c.section_key, c.paragraph, c.tokens, c.words, c.characters);
      }
    })();
  }
}

-- Repairs the language registry written by versions that compared codes case-sensitively:
-- "EN" was added as a second English, "DE" beside "de", and any language could be made a second
-- "reference". From now on a user-added language is keyed by its corpus entry (its registry code
-- is derived from it, so two spellings cannot make two rows), the reference is English alone, and
-- user-added languages are never the reference.
CREATE TABLE custom_languages_v2 (
  corpus_code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  script TEXT NOT NULL,
  tier TEXT NOT NULL CHECK (tier IN ('high', 'medium-low')),
  added_at TEXT NOT NULL
) WITHOUT ROWID;

-- Per corpus entry the first row added is kept (its tier is the one the user chose first);
-- entries of the paper's ten preset languages (as of this migration) are dropped: the preset is
-- that language. A row that claimed the reference tier becomes medium-low, the tier of an add.
INSERT INTO custom_languages_v2 (corpus_code, name, script, tier, added_at)
SELECT c.corpus_code, c.name, c.script, CASE WHEN c.tier = 'reference' THEN 'medium-low' ELSE c.tier END, c.added_at
FROM custom_languages c
WHERE c.corpus_code NOT IN ('eng', 'cmn_hans', 'rus', 'spa', 'ita', 'ind', 'cat', 'mar', 'mal', 'hin')
  AND NOT EXISTS (
    SELECT 1 FROM custom_languages d
    WHERE d.corpus_code = c.corpus_code AND (d.added_at < c.added_at OR (d.added_at = c.added_at AND d.code < c.code))
  );

DROP TABLE custom_languages;
ALTER TABLE custom_languages_v2 RENAME TO custom_languages;

-- Tier edits of the presets: English stays the reference, no other language claims it.
DELETE FROM language_tiers WHERE code = 'en' OR tier = 'reference';

-- Languages: tier edits of the built-in languages, and languages the user added from the corpus.
CREATE TABLE language_tiers (
  code TEXT PRIMARY KEY,
  tier TEXT NOT NULL CHECK (tier IN ('reference', 'high', 'medium-low')),
  updated_at TEXT NOT NULL
);

CREATE TABLE custom_languages (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  script TEXT NOT NULL,
  corpus_code TEXT NOT NULL,
  tier TEXT NOT NULL CHECK (tier IN ('reference', 'high', 'medium-low')),
  added_at TEXT NOT NULL
);

-- Tokenizer fertility cache: per-paragraph counts, keyed by the tokenizer's content hash and the
-- hash of the language's corpus text. A language's counts are complete when its row in
-- fertility_sets exists (written in the same transaction as the counts).
CREATE TABLE fertility_sets (
  tokenizer_sha256 TEXT NOT NULL,
  corpus_code TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  paragraphs INTEGER NOT NULL,
  computed_at TEXT NOT NULL,
  PRIMARY KEY (tokenizer_sha256, corpus_code, text_sha256)
) WITHOUT ROWID;

CREATE TABLE fertility_counts (
  tokenizer_sha256 TEXT NOT NULL,
  corpus_code TEXT NOT NULL,
  text_sha256 TEXT NOT NULL,
  section_key TEXT NOT NULL,
  paragraph INTEGER NOT NULL,
  tokens INTEGER NOT NULL,
  words INTEGER NOT NULL,
  characters INTEGER NOT NULL,
  PRIMARY KEY (tokenizer_sha256, corpus_code, text_sha256, section_key, paragraph),
  FOREIGN KEY (tokenizer_sha256, corpus_code, text_sha256)
    REFERENCES fertility_sets (tokenizer_sha256, corpus_code, text_sha256) ON DELETE CASCADE
) WITHOUT ROWID;

-- Every analysis result, with its settings and formulas, for reproducibility.
CREATE TABLE analysis_runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  created_at TEXT NOT NULL,
  settings_json TEXT NOT NULL,
  result_json TEXT NOT NULL
);

-- Translations by a local opus-mt folder, so a killed translate run resumes and a repeated one is
-- instant. `key` = sha256 of the folder's fingerprint (config, generation config, tokenizer files
-- and weights, by sha256), the generation settings with the target-language token, and the text.
-- `ids_json`: the generated ids (decoder start and padding excluded, EOS included when generated).
CREATE TABLE translations (
  key TEXT PRIMARY KEY,
  ids_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);

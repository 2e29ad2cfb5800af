-- Per phrase and SAE: the sparse feature summary and fidelity sums of one extraction.
-- key = sha256(model fingerprint, SAE fingerprint, extraction settings, token ids): content
-- addressed, so any run over the same inputs reuses it, whatever the language or corpus.
CREATE TABLE sae_phrase_cache (
  key TEXT PRIMARY KEY,
  -- zlib(deflate) of: u32 count | varint feature-index deltas | f16 means | f16 maxima
  features BLOB NOT NULL,
  -- sse, sum_sq, cos, l0, sum_norm_sq, count as 6 x f64 (little-endian)
  fidelity BLOB NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;

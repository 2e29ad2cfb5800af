-- The activation cache, format 2 (see sae-cache-repo.ts): exact feature sums (all features and
-- the reference phrase's active set), the strongest features as a float16 list, the reference
-- rows' active-set bitmaps. Format-1 rows (whole sparse codes) are keyed by extraction settings
-- that no version reads any more, so the old table is dropped rather than left to take space.
DROP TABLE IF EXISTS sae_phrase_cache;
CREATE TABLE sae_cache (
  key TEXT PRIMARY KEY,
  -- deflate(u8 format | f64 total mean, max | u32 active | f64 reference mean, max | u32 |F_en| |
  --         f32 cut mean, max | u32 kept | varint index deltas | f16 means | f16 maxima)
  summary BLOB NOT NULL,
  -- deflate(active-set bitmap, d_sae bits); reference (English) rows only
  active BLOB,
  -- sse, sum_sq, cos, l0, sum_norm_sq, count as 6 x f64 (little-endian)
  fidelity BLOB NOT NULL,
  created_at TEXT NOT NULL
) WITHOUT ROWID;

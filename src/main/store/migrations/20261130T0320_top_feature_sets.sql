-- The top features of one ranking (per layer): the features with the largest English minus
-- medium/low-resource mean, found from exact sums over every feature of every phrase. Keyed by
-- sha256 of the reduction, the number listed and the cache keys of the English and medium/low rows
-- in order, so an identical analysis needs no second pass over the model.
CREATE TABLE top_feature_sets (
  key TEXT PRIMARY KEY,
  features TEXT NOT NULL,          -- JSON array of feature indices, ascending
  created_at TEXT NOT NULL
) WITHOUT ROWID;

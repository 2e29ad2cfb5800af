-- sha256 of whole weight files (models, SAEs), remembered per file identity so the content hash
-- that keys the activation cache is computed once per file version, not on every run.
CREATE TABLE file_hashes (
  path TEXT PRIMARY KEY,           -- real path
  size INTEGER NOT NULL,
  mtime_ns TEXT NOT NULL,          -- 'mtime/ctime' in nanoseconds (as text: beyond 2^53)
  ino TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  hashed_at TEXT NOT NULL
) WITHOUT ROWID;

-- Run history for every kind of finished job: evaluations (eval.run), fine-tunes (finetune.run)
-- and sweeps (sweep.run) beside analyses. SQLite cannot change a CHECK constraint in place, so the
-- table is rebuilt with the wider one and every stored row copied as it is (ids kept, so a
-- project's runId still finds its run). For the new kinds `summary_json` holds the result as the
-- method returned it, `digest_json` that kind's list fields, `fingerprints_json` the input hashes
-- the result names. The method must belong to the kind. AUTOINCREMENT: a deleted run's id is never
-- given to a later run, so a project's runId cannot come to name another run (of another kind).
CREATE TABLE runs_all_kinds (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL CHECK (kind IN ('analysis', 'evaluation', 'finetune', 'sweep')),
  method TEXT NOT NULL,
  name TEXT NOT NULL,
  job_id TEXT,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  seconds REAL NOT NULL,
  out_dir TEXT,
  request_json TEXT NOT NULL,
  fingerprints_json TEXT NOT NULL,
  digest_json TEXT NOT NULL,
  summary_json TEXT NOT NULL,
  summary_sha256 TEXT NOT NULL,
  CHECK (
    (kind = 'analysis' AND method IN ('analysis.run', 'analysis.export'))
    OR (kind = 'evaluation' AND method = 'eval.run')
    OR (kind = 'finetune' AND method = 'finetune.run')
    OR (kind = 'sweep' AND method = 'sweep.run')
  )
);
INSERT INTO runs_all_kinds (id, kind, method, name, job_id, started_at, finished_at, seconds, out_dir, request_json, fingerprints_json, digest_json, summary_json, summary_sha256)
  SELECT id, kind, method, name, job_id, started_at, finished_at, seconds, out_dir, request_json, fingerprints_json, digest_json, summary_json, summary_sha256 FROM runs;
DROP TABLE runs;
ALTER TABLE runs_all_kinds RENAME TO runs;
CREATE INDEX runs_by_time ON runs (finished_at);
CREATE INDEX runs_by_summary ON runs (summary_sha256);
CREATE INDEX runs_by_kind ON runs (kind, finished_at);

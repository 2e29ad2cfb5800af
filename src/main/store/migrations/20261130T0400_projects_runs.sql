-- Projects: the user's choices (model, SAEs per layer, languages and tiers, corpus, settings, the
-- step they were on) as one JSON document per project, checked against the contract's
-- projectState schema when read (a row that fails is reported for that project alone).
-- `revision` grows by one on every save of the state: a save names the revision it was based on
-- and is refused (CONFLICT) when another window saved in between. `open_seq` finds the project
-- the app reopens. At most one row is the bundled demo.
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('user', 'demo')),
  revision INTEGER NOT NULL,
  state_json TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  opened_at TEXT,
  -- 1 + the largest open_seq when opened: orders opens made within one clock tick
  open_seq INTEGER
);
CREATE UNIQUE INDEX projects_one_demo ON projects (kind) WHERE kind = 'demo';

-- Run history: one row per finished analysis (later: fine-tunes, evaluations), written by the
-- handler that ran it. `summary_json` is the DisparitySummary as returned (opening a run reads it,
-- never recomputes); `digest_json` holds the few fields the list shows, so listing does not parse
-- whole summaries; `summary_sha256` = sha256 of summary_json, so a client holding a summary can
-- find its run.
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('analysis')),
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
  summary_sha256 TEXT NOT NULL
);
CREATE INDEX runs_by_time ON runs (finished_at);
CREATE INDEX runs_by_summary ON runs (summary_sha256);

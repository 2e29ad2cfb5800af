-- Multiple-choice evaluation: per item and model (with adapter, if any) the log-likelihood of each
-- choice, so a killed evaluation resumes and a repeated one is instant. `key` = sha256 of the
-- model's fingerprint (its files' sha256, the adapter's too), the task file's sha256, the preset,
-- the few-shot setting, the task, language and doc_id: any change to what was scored is a new key.
-- `loglik_json`: [[loglikelihood, is_greedy], ...] per choice in order.
CREATE TABLE eval_items (
  key TEXT PRIMARY KEY,
  loglik_json TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- The schema of a freshly migrated Squash database (every migration in src/migrations.ts applied).
-- Generated: run `npm run schema` in packages/store after adding a migration; schema.test.ts checks it.

CREATE TABLE _squash_migrations (
  name TEXT PRIMARY KEY,
  applied_at TEXT NOT NULL
);

CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  path TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  sha256 TEXT,
  PRIMARY KEY (run_id, kind)
);

CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);

CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value REAL NOT NULL,
  step INTEGER NOT NULL DEFAULT 0,
  time TEXT NOT NULL,
  PRIMARY KEY (run_id, key, step)
);

CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('number', 'string', 'boolean')),
  value_num REAL,
  value_text TEXT,
  PRIMARY KEY (run_id, key)
);

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  trial_id TEXT NOT NULL,
  sweep TEXT NOT NULL,
  label TEXT NOT NULL,
  is_baseline INTEGER NOT NULL DEFAULT 0 CHECK (is_baseline IN (0, 1)),
  status TEXT NOT NULL CHECK (status IN ('SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
  seed INTEGER NOT NULL,
  backend TEXT,
  config_json TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  error TEXT,
  sweep_id INTEGER REFERENCES sweeps(id),
  attempt INTEGER NOT NULL DEFAULT 1,
  host TEXT,
  pid INTEGER,
  invocation TEXT,
  squash_version TEXT,
  heartbeat_at TEXT,
  view_json TEXT
);

CREATE TABLE sweeps (
  id INTEGER PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  spec_hash TEXT NOT NULL,
  spec_text TEXT NOT NULL,
  file TEXT,
  squash_version TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (experiment_id, spec_hash)
);

CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
);

CREATE INDEX metrics_by_key_value ON metrics(key, step, value, run_id);

CREATE INDEX params_by_num ON params(key, type, value_num, run_id);

CREATE INDEX params_by_text ON params(key, type, value_text, run_id);

CREATE INDEX params_by_value ON params(key, value_num);

CREATE INDEX runs_by_experiment ON runs(experiment_id);

CREATE INDEX runs_by_trial ON runs(experiment_id, trial_id, status);

CREATE INDEX tags_by_key_value ON tags(key, value, run_id);

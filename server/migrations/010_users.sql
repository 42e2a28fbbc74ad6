-- 010_users: staff accounts for the web dashboard and verifier panel, failed
-- log-in attempts (rate limiting survives restarts), and site overrides made in
-- the administration pages (merged over the site file, validated by config.py).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL,          -- admin | supervisor | verifier
    counter       INTEGER,                   -- a verifier's usual counter (NULL: choose at log-in)
    password_hash TEXT    NOT NULL,          -- argon2id
    created_ms    INTEGER NOT NULL,
    disabled_ms   INTEGER
);

CREATE TABLE login_failures (
    id     INTEGER PRIMARY KEY,
    scope  TEXT    NOT NULL,                 -- user | ip
    key    TEXT    NOT NULL,
    at_ms  INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (scope, key, at_ms);

CREATE TABLE site_overrides (
    key        TEXT PRIMARY KEY,             -- services | counters | settings
    value      TEXT    NOT NULL,             -- JSON, same shape as the site file's table
    updated_ms INTEGER NOT NULL,
    user_id    INTEGER
);

-- 001_core: the queue core. Times are epoch milliseconds (UTC); service_day is the
-- local date (YYYY-MM-DD) in the site timezone. Plain SQL: no SQLite-only syntax,
-- so the same file can be ported to PostgreSQL (INTEGER PRIMARY KEY -> identity).

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE days (
    service_day TEXT PRIMARY KEY,
    opened_ms   INTEGER NOT NULL
);

CREATE TABLE tickets (
    id            INTEGER PRIMARY KEY,
    service_day   TEXT    NOT NULL,
    prefix        TEXT    NOT NULL,          -- the service the number was issued for
    seq           INTEGER NOT NULL,          -- daily number within the prefix
    number        TEXT    NOT NULL,          -- "A-023"
    service       TEXT    NOT NULL,          -- the queue it waits in now (transfers change it)
    issue_order   INTEGER NOT NULL,          -- per-day monotonic issue sequence
    queue_order   INTEGER NOT NULL,          -- FIFO key; go_last transfers move it back
    priority      TEXT,
    status        TEXT    NOT NULL,
    token         TEXT    NOT NULL UNIQUE,
    device        TEXT,
    issued_ms     INTEGER NOT NULL,
    first_called_ms INTEGER,
    last_called_ms  INTEGER,
    started_ms    INTEGER,
    finished_ms   INTEGER,
    counter       INTEGER,
    user_id       INTEGER,
    recall_count  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (service_day, prefix, seq),
    UNIQUE (service_day, issue_order)
);
CREATE INDEX tickets_queue ON tickets (service_day, service, status, queue_order);
CREATE INDEX tickets_counter ON tickets (service_day, counter, status);

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    service_day TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    ticket_id   INTEGER REFERENCES tickets (id),
    service     TEXT,
    counter     INTEGER,
    device      TEXT,
    user_id     INTEGER,
    at_ms       INTEGER NOT NULL,
    at_utc      TEXT    NOT NULL,
    detail      TEXT
);
CREATE INDEX events_day ON events (service_day, kind);
CREATE INDEX events_day_counter ON events (service_day, counter, at_ms);
CREATE INDEX events_ticket ON events (ticket_id);

CREATE TABLE calls (
    seq         INTEGER PRIMARY KEY,        -- persistent, strictly increasing call number
    service_day TEXT    NOT NULL,
    kind        TEXT    NOT NULL,            -- call | recall
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    counter     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    payload     TEXT    NOT NULL             -- the call dict as JSON
);
CREATE INDEX calls_day ON calls (service_day, seq);

CREATE TABLE counter_state (
    counter      INTEGER PRIMARY KEY,
    status       TEXT    NOT NULL,           -- open | paused | closed
    pause_reason TEXT,
    since_ms     INTEGER NOT NULL,
    service_day  TEXT    NOT NULL
);

CREATE TABLE counter_sessions (
    id          INTEGER PRIMARY KEY,
    service_day TEXT    NOT NULL,
    counter     INTEGER NOT NULL,
    opened_ms   INTEGER NOT NULL,
    closed_ms   INTEGER,
    user_id     INTEGER
);
CREATE INDEX counter_sessions_day ON counter_sessions (service_day, counter);

CREATE TABLE idempotency (
    device      TEXT    NOT NULL,
    request_key TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    response    TEXT    NOT NULL,
    created_ms  INTEGER NOT NULL,
    PRIMARY KEY (device, request_key)
);
CREATE INDEX idempotency_age ON idempotency (created_ms);

CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    role        TEXT    NOT NULL,
    token_hash  TEXT    NOT NULL UNIQUE,
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
);

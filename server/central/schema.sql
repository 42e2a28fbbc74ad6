-- The city store (PostgreSQL). Sites own their data; the centre keeps a copy of
-- each site's append-only event log, keyed by (site, seq), and what it derives.

CREATE TABLE IF NOT EXISTS sites (
    site         TEXT PRIMARY KEY,
    name         TEXT    NOT NULL,
    tz           TEXT    NOT NULL DEFAULT 'Asia/Jakarta',
    target_wait_s INTEGER NOT NULL DEFAULT 1800,
    added_ms     BIGINT  NOT NULL,
    stored_seq   BIGINT  NOT NULL DEFAULT 0,   -- every seq up to here is stored and applied
    head_seq     BIGINT  NOT NULL DEFAULT 0,   -- the newest seq the site said it has
    link         TEXT,                         -- 'online' | 'offline' (the bridge's own word)
    link_ms      BIGINT,
    last_batch_ms BIGINT,
    gap_since_ms BIGINT,                       -- a hole after stored_seq was first seen
    gap_requests INTEGER NOT NULL DEFAULT 0,
    duplicates   BIGINT  NOT NULL DEFAULT 0    -- events received again and ignored
);

CREATE TABLE IF NOT EXISTS site_services (
    site    TEXT NOT NULL REFERENCES sites (site),
    prefix  TEXT NOT NULL,
    cluster TEXT NOT NULL,
    PRIMARY KEY (site, prefix)
);

CREATE TABLE IF NOT EXISTS events (
    site       TEXT   NOT NULL,
    seq        BIGINT NOT NULL,
    day        DATE   NOT NULL,
    kind       TEXT   NOT NULL,
    at_ms      BIGINT NOT NULL,
    ticket     BIGINT,
    number     TEXT,
    prefix     TEXT,
    service    TEXT,
    counter    INTEGER,
    user_id    BIGINT,
    detail     JSONB,
    received_ms BIGINT NOT NULL,
    PRIMARY KEY (site, seq)
);

CREATE TABLE IF NOT EXISTS tickets (
    site            TEXT   NOT NULL,
    ticket          BIGINT NOT NULL,
    day             DATE   NOT NULL,
    number          TEXT,
    prefix          TEXT,
    service         TEXT,
    priority        TEXT,
    status          TEXT   NOT NULL,
    issued_ms       BIGINT,
    first_called_ms BIGINT,
    last_called_ms  BIGINT,
    served_from_ms  BIGINT,
    started_ms      BIGINT,
    finished_ms     BIGINT,
    counter         INTEGER,
    user_id         BIGINT,
    recall_count    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (site, ticket)
);
CREATE INDEX IF NOT EXISTS tickets_day ON tickets (site, day);
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets (site, issued_ms) WHERE status = 'waiting';

-- One row per site, day and service: the year report reads these, never tickets.
-- issued counts by the service the number was taken for; the rest by final service.
CREATE TABLE IF NOT EXISTS daily (
    site       TEXT    NOT NULL,
    day        DATE    NOT NULL,
    service    TEXT    NOT NULL,
    issued     INTEGER NOT NULL,
    served     INTEGER NOT NULL,
    no_show    INTEGER NOT NULL,
    cancelled  INTEGER NOT NULL,
    waiting    INTEGER NOT NULL,
    wait_n     INTEGER NOT NULL,
    wait_sum_ms BIGINT NOT NULL,     -- exact: means are computed from whole milliseconds
    within_target INTEGER NOT NULL,
    wait_15    INTEGER NOT NULL,   -- waited at most 15 min
    wait_30    INTEGER NOT NULL,   -- 15-30 min
    wait_60    INTEGER NOT NULL,   -- 30-60 min
    wait_more  INTEGER NOT NULL,   -- over an hour
    service_n  INTEGER NOT NULL,
    service_sum_ms BIGINT NOT NULL,
    PRIMARY KEY (site, day, service)
);
CREATE INDEX IF NOT EXISTS daily_day ON daily (day);

CREATE TABLE IF NOT EXISTS counters (
    site     TEXT    NOT NULL,
    counter  INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    since_ms BIGINT  NOT NULL,
    PRIMARY KEY (site, counter)
);

-- The site's retained live state as it crossed the bridge (summary, counter
-- states, presence, printers), one row per topic.
CREATE TABLE IF NOT EXISTS live (
    site    TEXT  NOT NULL,
    topic   TEXT  NOT NULL,
    payload JSONB NOT NULL,
    at_ms   BIGINT NOT NULL,
    PRIMARY KEY (site, topic)
);

-- Each site's survey figures (IKM) per day and service, as the site sends them:
-- a day's rows are replaced whole, so a repeat changes nothing.
CREATE TABLE IF NOT EXISTS ikm_daily (
    site    TEXT    NOT NULL,
    day     DATE    NOT NULL,
    service TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    sums    INTEGER[] NOT NULL,      -- U1..U9, each the sum of that element's answers
    PRIMARY KEY (site, day, service)
);

-- People who may open the city dashboard ('lalopa central add-viewer').
CREATE TABLE IF NOT EXISTS viewers (
    name          TEXT PRIMARY KEY,
    password_hash TEXT   NOT NULL,
    created_ms    BIGINT NOT NULL
);

-- Failed log-ins, kept so the limits survive a restart of the centre.
CREATE TABLE IF NOT EXISTS viewer_failures (
    name  TEXT   NOT NULL,
    ip    TEXT   NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS viewer_failures_at ON viewer_failures (at_ms);

-- 040_ikm: the community satisfaction survey (IKM, PermenPANRB 14/2017) and the
-- smiley pads. A response belongs to a served ticket (one each, UNIQUE) and so to
-- its service, counter and day; nothing in it names a person. submission_id is the
-- id the form or device sent: a repeat returns the stored answer and changes nothing.

CREATE TABLE ikm_responses (
    id            INTEGER PRIMARY KEY,
    submission_id TEXT    NOT NULL UNIQUE,
    fingerprint   TEXT    NOT NULL,
    ticket_id     INTEGER NOT NULL UNIQUE REFERENCES tickets (id),
    service_day   TEXT    NOT NULL,
    service       TEXT    NOT NULL,
    counter       INTEGER,
    channel       TEXT    NOT NULL,          -- phone (status page) | exit (tablet by the exit)
    u1 INTEGER NOT NULL CHECK (u1 BETWEEN 1 AND 4),
    u2 INTEGER NOT NULL CHECK (u2 BETWEEN 1 AND 4),
    u3 INTEGER NOT NULL CHECK (u3 BETWEEN 1 AND 4),
    u4 INTEGER NOT NULL CHECK (u4 BETWEEN 1 AND 4),
    u5 INTEGER NOT NULL CHECK (u5 BETWEEN 1 AND 4),
    u6 INTEGER NOT NULL CHECK (u6 BETWEEN 1 AND 4),
    u7 INTEGER NOT NULL CHECK (u7 BETWEEN 1 AND 4),
    u8 INTEGER NOT NULL CHECK (u8 BETWEEN 1 AND 4),
    u9 INTEGER NOT NULL CHECK (u9 BETWEEN 1 AND 4),
    comment       TEXT,
    received_ms   INTEGER NOT NULL
);
CREATE INDEX ikm_responses_day ON ikm_responses (service_day);

CREATE TABLE smiley_votes (
    id          INTEGER PRIMARY KEY,
    vote_id     TEXT    NOT NULL UNIQUE,
    service_day TEXT    NOT NULL,
    counter     INTEGER NOT NULL,
    service     TEXT,                        -- of the ticket the counter served last, if any
    score       INTEGER NOT NULL CHECK (score BETWEEN 1 AND 4),
    device      TEXT    NOT NULL,
    at_ms       INTEGER NOT NULL
);
CREATE INDEX smiley_votes_day ON smiley_votes (service_day, counter);

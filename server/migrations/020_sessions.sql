-- 020_sessions: server-side web sessions and known log-in devices.
-- The cookie carries only a random session id; its SHA-256 is the key here, so a
-- copy of the database does not hand out live sessions. Deleting a row ends that
-- session at once (log-out); deleting a user's rows ends all of them (password change).

CREATE TABLE web_sessions (
    id_hash    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    source     TEXT,                        -- client address at log-in (for the audit)
    created_ms INTEGER NOT NULL,            -- absolute expiry counts from here
    seen_ms    INTEGER NOT NULL             -- idle expiry counts from here
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);

-- A browser that logged in correctly gets a device cookie: a log-in from it is
-- exempt from the account-wide failure budget, so strangers guessing a password
-- from elsewhere cannot lock the owner out at her own desk.
CREATE TABLE login_devices (
    token_hash TEXT    PRIMARY KEY,
    username   TEXT    NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE INDEX login_devices_user ON login_devices (username);

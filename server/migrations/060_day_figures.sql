-- 060_day_figures: each closed service day's statistics summary, stored once, so a report
-- over a long range (a year) reads one row per day instead of every ticket of every day
-- (server/stats.py: day_summary, store_summary, stored_summaries). The body is JSON: the
-- day's figures, its counters' unrounded times, and per group (all, service, number
-- prefix, counter, verifier) the counts; the groups' sorted waits and service times are
-- one array of doubles in value_bytes, so pooled medians stay exact. site_key names what
-- the body was computed with (site settings, the machine's byte order): a row with another
-- key is recomputed.
-- Whatever changes a day's tickets or events (a late change, a replay, a repair by hand)
-- deletes that day's row in the same transaction: a stored summary is never stale.
-- SQLite trigger syntax; a PostgreSQL port writes them as PL/pgSQL functions.

CREATE TABLE day_figures (
    service_day TEXT PRIMARY KEY,
    site_key    TEXT NOT NULL,
    body        TEXT NOT NULL,             -- JSON; each group's values as (offset, count)
    value_bytes BLOB NOT NULL              -- the groups' sorted values, one array of doubles
);

CREATE TRIGGER day_figures_ticket_insert AFTER INSERT ON tickets
BEGIN
    DELETE FROM day_figures WHERE service_day = NEW.service_day;
END;

CREATE TRIGGER day_figures_ticket_update AFTER UPDATE ON tickets
BEGIN
    DELETE FROM day_figures WHERE service_day IN (OLD.service_day, NEW.service_day);
END;

CREATE TRIGGER day_figures_ticket_delete AFTER DELETE ON tickets
BEGIN
    DELETE FROM day_figures WHERE service_day = OLD.service_day;
END;

CREATE TRIGGER day_figures_event_insert AFTER INSERT ON events
BEGIN
    DELETE FROM day_figures WHERE service_day = NEW.service_day;
END;

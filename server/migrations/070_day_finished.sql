-- 070_day_finished: what the wait estimate reads of today's finished tickets (server/eta.py
-- read_desk), kept with every change so an estimate costs the same at 400 tickets a day
-- and at 15,000. One row per service day: the count of tickets done and no-show, the
-- no-shows' recall time (finished − last call) and the walk-up time (start − last call) of
-- finished tickets that were started. Each sum keeps, beside it, how many tickets added a
-- value: a SQL SUM over no value at all is NULL, and the estimate then uses its default.
-- The triggers run inside the transaction that changes the ticket (like 050_day_counts),
-- so the figures never disagree with the tickets table. SQLite trigger syntax.

CREATE TABLE day_finished (
    service_day TEXT PRIMARY KEY,
    done        INTEGER NOT NULL DEFAULT 0,
    no_show     INTEGER NOT NULL DEFAULT 0,
    ns_ms       INTEGER NOT NULL DEFAULT 0,   -- Σ finished_ms − last_called_ms of no-shows
    ns_ms_n     INTEGER NOT NULL DEFAULT 0,   -- how many no-shows had both times
    walk_ms     INTEGER NOT NULL DEFAULT 0,   -- Σ started_ms − last_called_ms of started ones
    walk_ms_n   INTEGER NOT NULL DEFAULT 0,   -- how many had both times
    walk_n      INTEGER NOT NULL DEFAULT 0    -- how many finished tickets were started
);

INSERT INTO day_finished (service_day, done, no_show, ns_ms, ns_ms_n, walk_ms, walk_ms_n, walk_n)
    SELECT service_day, SUM(status = 'done'), SUM(status = 'no_show'),
           IFNULL(SUM(CASE WHEN status = 'no_show' THEN finished_ms - last_called_ms END), 0),
           COUNT(CASE WHEN status = 'no_show' THEN finished_ms - last_called_ms END),
           IFNULL(SUM(CASE WHEN started_ms IS NOT NULL THEN started_ms - last_called_ms END), 0),
           COUNT(CASE WHEN started_ms IS NOT NULL THEN started_ms - last_called_ms END),
           SUM(started_ms IS NOT NULL)
    FROM tickets WHERE status IN ('done', 'no_show') GROUP BY service_day;

CREATE TRIGGER day_finished_insert AFTER INSERT ON tickets
WHEN NEW.status IN ('done', 'no_show')
BEGIN
    INSERT OR IGNORE INTO day_finished (service_day) VALUES (NEW.service_day);
    UPDATE day_finished SET
        done = done + (NEW.status = 'done'),
        no_show = no_show + (NEW.status = 'no_show'),
        ns_ms = ns_ms + IFNULL(CASE WHEN NEW.status = 'no_show' THEN NEW.finished_ms - NEW.last_called_ms END, 0),
        ns_ms_n = ns_ms_n + (CASE WHEN NEW.status = 'no_show' THEN NEW.finished_ms - NEW.last_called_ms END IS NOT NULL),
        walk_ms = walk_ms + IFNULL(CASE WHEN NEW.started_ms IS NOT NULL THEN NEW.started_ms - NEW.last_called_ms END, 0),
        walk_ms_n = walk_ms_n + (CASE WHEN NEW.started_ms IS NOT NULL THEN NEW.started_ms - NEW.last_called_ms END IS NOT NULL),
        walk_n = walk_n + (NEW.started_ms IS NOT NULL)
    WHERE service_day = NEW.service_day;
END;

CREATE TRIGGER day_finished_update AFTER UPDATE OF service_day, status, finished_ms, last_called_ms, started_ms ON tickets
WHEN OLD.status IN ('done', 'no_show') OR NEW.status IN ('done', 'no_show')
BEGIN
    UPDATE day_finished SET
        done = done - (OLD.status = 'done'),
        no_show = no_show - (OLD.status = 'no_show'),
        ns_ms = ns_ms - IFNULL(CASE WHEN OLD.status = 'no_show' THEN OLD.finished_ms - OLD.last_called_ms END, 0),
        ns_ms_n = ns_ms_n - (CASE WHEN OLD.status = 'no_show' THEN OLD.finished_ms - OLD.last_called_ms END IS NOT NULL),
        walk_ms = walk_ms - IFNULL(CASE WHEN OLD.status IN ('done', 'no_show') AND OLD.started_ms IS NOT NULL
                                        THEN OLD.started_ms - OLD.last_called_ms END, 0),
        walk_ms_n = walk_ms_n - (CASE WHEN OLD.status IN ('done', 'no_show') AND OLD.started_ms IS NOT NULL
                                      THEN OLD.started_ms - OLD.last_called_ms END IS NOT NULL),
        walk_n = walk_n - (OLD.status IN ('done', 'no_show') AND OLD.started_ms IS NOT NULL)
    WHERE service_day = OLD.service_day;
    INSERT OR IGNORE INTO day_finished (service_day) VALUES (NEW.service_day);
    UPDATE day_finished SET
        done = done + (NEW.status = 'done'),
        no_show = no_show + (NEW.status = 'no_show'),
        ns_ms = ns_ms + IFNULL(CASE WHEN NEW.status = 'no_show' THEN NEW.finished_ms - NEW.last_called_ms END, 0),
        ns_ms_n = ns_ms_n + (CASE WHEN NEW.status = 'no_show' THEN NEW.finished_ms - NEW.last_called_ms END IS NOT NULL),
        walk_ms = walk_ms + IFNULL(CASE WHEN NEW.status IN ('done', 'no_show') AND NEW.started_ms IS NOT NULL
                                        THEN NEW.started_ms - NEW.last_called_ms END, 0),
        walk_ms_n = walk_ms_n + (CASE WHEN NEW.status IN ('done', 'no_show') AND NEW.started_ms IS NOT NULL
                                      THEN NEW.started_ms - NEW.last_called_ms END IS NOT NULL),
        walk_n = walk_n + (NEW.status IN ('done', 'no_show') AND NEW.started_ms IS NOT NULL)
    WHERE service_day = NEW.service_day;
END;

CREATE TRIGGER day_finished_delete AFTER DELETE ON tickets
WHEN OLD.status IN ('done', 'no_show')
BEGIN
    UPDATE day_finished SET
        done = done - (OLD.status = 'done'),
        no_show = no_show - (OLD.status = 'no_show'),
        ns_ms = ns_ms - IFNULL(CASE WHEN OLD.status = 'no_show' THEN OLD.finished_ms - OLD.last_called_ms END, 0),
        ns_ms_n = ns_ms_n - (CASE WHEN OLD.status = 'no_show' THEN OLD.finished_ms - OLD.last_called_ms END IS NOT NULL),
        walk_ms = walk_ms - IFNULL(CASE WHEN OLD.started_ms IS NOT NULL THEN OLD.started_ms - OLD.last_called_ms END, 0),
        walk_ms_n = walk_ms_n - (CASE WHEN OLD.started_ms IS NOT NULL THEN OLD.started_ms - OLD.last_called_ms END IS NOT NULL),
        walk_n = walk_n - (OLD.started_ms IS NOT NULL)
    WHERE service_day = OLD.service_day;
END;

-- The last service times of a service (ORDER BY finished_ms DESC LIMIT 20) from an index
-- instead of sorting the day's finished tickets.
CREATE INDEX tickets_finished ON tickets (service_day, service, status, finished_ms);
-- The last half hour's arrivals: a range of the day's issue times, not the whole day, read
-- from the index alone (it carries the columns the count groups by).
CREATE INDEX tickets_day_issued ON tickets (service_day, issued_ms, prefix, priority);
-- The waiting tickets and the counters' current tickets of every service: a range of
-- one status, not the whole day.
CREATE INDEX tickets_day_status ON tickets (service_day, status, queue_order);

-- 050_day_counts: today's per-service counts kept with every change, so the board,
-- the counters' states, the queue summary and the issue path read a few rows instead
-- of counting every ticket of the day (the cost of a change stays flat however busy
-- the day is). The triggers run inside the transaction that changes the ticket, so the
-- counts can never disagree with the tickets table (whoever writes it: the queue core,
-- a replay of the event log, a repair by hand). SQLite trigger syntax; a PostgreSQL
-- port writes the same three triggers as PL/pgSQL functions.
--   kind = a ticket status (service = the queue it is in now, tickets.service), or
--   kind = 'issued'        (service = the service its number was issued for, tickets.prefix).

CREATE TABLE day_counts (
    service_day TEXT    NOT NULL,
    service     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    n           INTEGER NOT NULL,
    PRIMARY KEY (service_day, service, kind)
);

INSERT INTO day_counts (service_day, service, kind, n)
    SELECT service_day, service, status, COUNT(*) FROM tickets GROUP BY service_day, service, status;

INSERT INTO day_counts (service_day, service, kind, n)
    SELECT service_day, prefix, 'issued', COUNT(*) FROM tickets GROUP BY service_day, prefix;

CREATE TRIGGER day_counts_insert AFTER INSERT ON tickets
BEGIN
    INSERT OR IGNORE INTO day_counts (service_day, service, kind, n) VALUES (NEW.service_day, NEW.service, NEW.status, 0);
    UPDATE day_counts SET n = n + 1 WHERE service_day = NEW.service_day AND service = NEW.service AND kind = NEW.status;
    INSERT OR IGNORE INTO day_counts (service_day, service, kind, n) VALUES (NEW.service_day, NEW.prefix, 'issued', 0);
    UPDATE day_counts SET n = n + 1 WHERE service_day = NEW.service_day AND service = NEW.prefix AND kind = 'issued';
END;

CREATE TRIGGER day_counts_update AFTER UPDATE OF service_day, service, status, prefix ON tickets
WHEN OLD.service_day IS NOT NEW.service_day OR OLD.service IS NOT NEW.service
     OR OLD.status IS NOT NEW.status OR OLD.prefix IS NOT NEW.prefix
BEGIN
    UPDATE day_counts SET n = n - 1 WHERE service_day = OLD.service_day AND service = OLD.service AND kind = OLD.status;
    INSERT OR IGNORE INTO day_counts (service_day, service, kind, n) VALUES (NEW.service_day, NEW.service, NEW.status, 0);
    UPDATE day_counts SET n = n + 1 WHERE service_day = NEW.service_day AND service = NEW.service AND kind = NEW.status;
    UPDATE day_counts SET n = n - 1 WHERE service_day = OLD.service_day AND service = OLD.prefix AND kind = 'issued';
    INSERT OR IGNORE INTO day_counts (service_day, service, kind, n) VALUES (NEW.service_day, NEW.prefix, 'issued', 0);
    UPDATE day_counts SET n = n + 1 WHERE service_day = NEW.service_day AND service = NEW.prefix AND kind = 'issued';
END;

CREATE TRIGGER day_counts_delete AFTER DELETE ON tickets
BEGIN
    UPDATE day_counts SET n = n - 1 WHERE service_day = OLD.service_day AND service = OLD.service AND kind = OLD.status;
    UPDATE day_counts SET n = n - 1 WHERE service_day = OLD.service_day AND service = OLD.prefix AND kind = 'issued';
END;

-- The day's highest queue order (every new ticket and a go_last transfer take the next
-- one) from an index instead of a scan of the day.
CREATE INDEX tickets_day_queue_order ON tickets (service_day, queue_order);

-- 011_device_counter: a button box or panel token may be bound to one counter, so a
-- stolen or misconfigured device cannot call for another counter. NULL: unbound (a
-- supervisor's tablet, an admin tool), allowed for every counter.

ALTER TABLE devices ADD COLUMN counter INTEGER;

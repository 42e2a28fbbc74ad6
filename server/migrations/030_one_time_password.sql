-- 030_one_time_password: a password that works for one log-in only (the demo's admin).
-- The first correct log-in replaces it with a random hash nobody knows; the user then
-- sets a password of their own under Administration. 1 = not used yet.
ALTER TABLE users ADD COLUMN password_once INTEGER NOT NULL DEFAULT 0;

-- Throttles shared by every process over this database (see `store::throttles`): per key
-- (the first 16 bytes of the SHA-256 of "kind:value"), the failures in the window, the
-- last one (Unix ms, for the window and pruning) and the end of the block, if any.
CREATE TABLE throttles (
    key BLOB PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    blocked_until INTEGER
) WITHOUT ROWID;
CREATE INDEX throttles_last_failure ON throttles (last_failure);
CREATE INDEX throttles_blocked_until ON throttles (blocked_until) WHERE blocked_until IS NOT NULL;

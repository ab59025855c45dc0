-- Throttles shared by the replicas (see `store::throttles`): per key (the first 16 bytes
-- of the SHA-256 of "kind:value"), the failures in the window, the last one (Unix ms, for
-- the window and pruning) and the end of the block, if any. UNLOGGED: a crash of the
-- server forgets them, as a restart of one replica forgets its memory; they are no
-- record of anything, and skipping the WAL keeps a flood of failures cheap.
CREATE UNLOGGED TABLE throttles (
    key BYTEA PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    blocked_until BIGINT
);
CREATE INDEX throttles_last_failure ON throttles (last_failure);
CREATE INDEX throttles_blocked_until ON throttles (blocked_until) WHERE blocked_until IS NOT NULL;

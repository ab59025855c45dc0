-- Values used once are keyed by when they expire first, then by their digest. Every
-- `until` comes from what the client signed (an assertion's exp, a DPoP proof's iat, a
-- Hawk request's ts), so a replay carries the same one and meets its row. New rows go to
-- the part of the key of their second, where the last ones went, instead of anywhere.
-- Expired rows are the start of the key, so pruning needs no index of its own.
CREATE TABLE used_once_by_time (
    until BIGINT NOT NULL,
    digest BYTEA NOT NULL,
    PRIMARY KEY (until, digest)
);
INSERT INTO used_once_by_time (until, digest) SELECT until, digest FROM used_once;
DROP TABLE used_once;
ALTER TABLE used_once_by_time RENAME TO used_once;
ALTER TABLE used_once RENAME CONSTRAINT used_once_by_time_pkey TO used_once_pkey;

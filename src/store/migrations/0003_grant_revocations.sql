-- A third kind of revocation: every access token issued under a grant that ended early
-- (kind 'grant', id = the refresh-token family): a replayed code or refresh token, or a
-- refresh token revoked by its client (RFC 6749 §4.1.2 and §10.4, RFC 7009 §2.1).
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE revocations_new (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'client', 'grant')),
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
INSERT INTO revocations_new (kind, id, client_id, at, expires_at)
    SELECT kind, id, client_id, at, expires_at FROM revocations;
DROP TABLE revocations;
ALTER TABLE revocations_new RENAME TO revocations;
CREATE INDEX revocations_expires ON revocations (expires_at);

-- OAuth: authorization codes and refresh tokens (digests only, never the token), and the
-- revocations that must survive a restart. Times are Unix milliseconds (UTC).

CREATE TABLE authorization_codes (
    digest BLOB PRIMARY KEY,
    consumer_id TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    -- The refresh-token family the exchange starts; a reused code revokes it.
    family_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);

CREATE TABLE refresh_tokens (
    digest BLOB PRIMARY KEY,
    family_id TEXT NOT NULL,
    consumer_id TEXT NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- Set when the token was exchanged for the next one of its family.
    used_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Access tokens revoked before they expire (kind 'token', id = jti) and consumers deleted
-- while their tokens may still be alive (kind 'client', id = client_id).
CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'client')),
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX revocations_expires ON revocations (expires_at);

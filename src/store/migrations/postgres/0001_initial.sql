-- The PostgreSQL schema: the tables of the SQLite migrations (one folder up) as they stand
-- after all of them, in one step. Times are Unix milliseconds (UTC), as on SQLite; ids are
-- UUIDv7, so they sort by creation. Unique constraints are named: the store maps a
-- violation to the key it names (see `backend` in store/postgres.rs).

CREATE TABLE account (
    id INTEGER CONSTRAINT account_pkey PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    api_key TEXT NOT NULL,
    -- nonce || ciphertext of the legacy API secret (XChaCha20-Poly1305)
    api_secret_sealed BYTEA NOT NULL,
    api_key_created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL CONSTRAINT users_username_key_key UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'read_only')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
-- Exactly one Súper Administrador at most, whatever the code above does.
CREATE UNIQUE INDEX users_one_super_admin ON users (role) WHERE role = 'super_admin';

CREATE TABLE sessions (
    digest BYTEA PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE permission_groups (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL CONSTRAINT permission_groups_name_key_key UNIQUE,
    description TEXT NOT NULL,
    read_only BOOLEAN NOT NULL,
    -- JSON as on SQLite ([{"module": "...", "actions": ["view", ...]}]); no query looks inside.
    permissions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE consumers (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL CONSTRAINT consumers_name_key_key UNIQUE,
    description TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    permission_group_id UUID NOT NULL REFERENCES permission_groups (id),
    hub_enabled BOOLEAN NOT NULL,
    enabled BOOLEAN NOT NULL,
    token_format TEXT NOT NULL,
    access_token_alg TEXT NOT NULL DEFAULT 'EdDSA'
        CHECK (access_token_alg IN ('EdDSA', 'ES256', 'RS256')),
    redirect_uris TEXT NOT NULL, -- JSON array of strings
    client_id TEXT NOT NULL CONSTRAINT consumers_client_id_key UNIQUE,
    secret_digest BYTEA NOT NULL,
    secret_last_four TEXT NOT NULL,
    previous_secret_digest BYTEA,
    previous_secret_valid_until BIGINT,
    -- Access tokens issued before this instant are no longer valid ("revocar tokens existentes").
    tokens_not_before BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX consumers_group ON consumers (permission_group_id);

-- Keeps the consumer total without a full count on every page.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('consumers', 0);
CREATE FUNCTION consumers_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE counters SET value = value + 1 WHERE name = 'consumers';
    ELSE
        UPDATE counters SET value = value - 1 WHERE name = 'consumers';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER consumers_count AFTER INSERT OR DELETE ON consumers
    FOR EACH ROW EXECUTE FUNCTION consumers_count();

CREATE TABLE audit_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    ip TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    module TEXT NOT NULL,
    target TEXT NOT NULL,
    description TEXT NOT NULL,
    -- Refusals of a throttled key are counted in one row per key and minute (summary_key).
    refusals BIGINT NOT NULL DEFAULT 1,
    summary_key TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE UNIQUE INDEX audit_events_summary ON audit_events (summary_key)
    WHERE summary_key IS NOT NULL;

-- Token endpoint figures, aggregated per hour and flushed in batches by every replica.
CREATE TABLE token_stats (
    hour BIGINT PRIMARY KEY, -- Unix hour
    issued BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0
);

-- OAuth: authorization codes and refresh tokens (digests only, never the token).
CREATE TABLE authorization_codes (
    digest BYTEA PRIMARY KEY,
    consumer_id UUID NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    -- The refresh-token family the exchange starts; a reused code revokes it.
    family_id UUID NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id);

CREATE TABLE refresh_tokens (
    digest BYTEA PRIMARY KEY,
    family_id UUID NOT NULL,
    consumer_id UUID NOT NULL REFERENCES consumers (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    user_id UUID REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when the token was exchanged for the next one of its family.
    used_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_client ON refresh_tokens (client_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_consumer ON refresh_tokens (consumer_id);

-- Access tokens revoked before they expire: one token (kind 'token', id = jti), every
-- token of a deleted consumer ('client', id = client_id), or every token issued under a
-- grant that ended early ('grant', id = the refresh-token family).
CREATE TABLE revocations (
    kind TEXT NOT NULL CHECK (kind IN ('token', 'client', 'grant')),
    id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX revocations_expires ON revocations (expires_at);

-- The Hawk nonces seen inside the clock-skew window, so that a signed request replayed on
-- another replica or after a restart is refused. Losing them in a crash only reopens the
-- window of a few minutes that the clock check bounds, so the table skips the WAL.
CREATE UNLOGGED TABLE hawk_nonces (
    digest BYTEA PRIMARY KEY,
    ts BIGINT NOT NULL
);
CREATE INDEX hawk_nonces_ts ON hawk_nonces (ts);

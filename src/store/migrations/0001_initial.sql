-- The account, its users and sessions, permission groups, consumers, audit and token counts.
-- Times are Unix milliseconds (UTC). Ids are UUIDv7 text, so they sort by creation.

CREATE TABLE account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    api_key TEXT NOT NULL,
    -- nonce || ciphertext of the legacy API secret (XChaCha20-Poly1305, key file in the data dir)
    api_secret_sealed BLOB NOT NULL,
    api_key_created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    username_key TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('super_admin', 'admin', 'read_only')),
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
-- Exactly one Súper Administrador at most, whatever the code above does.
CREATE UNIQUE INDEX users_one_super_admin ON users (role) WHERE role = 'super_admin';

CREATE TABLE sessions (
    digest BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE permission_groups (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    read_only INTEGER NOT NULL,
    permissions TEXT NOT NULL, -- JSON: [{"module": "...", "actions": ["view", ...]}]
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE consumers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    grant_type TEXT NOT NULL,
    permission_group_id TEXT NOT NULL REFERENCES permission_groups (id),
    hub_enabled INTEGER NOT NULL,
    enabled INTEGER NOT NULL,
    token_format TEXT NOT NULL,
    redirect_uris TEXT NOT NULL, -- JSON array of strings
    client_id TEXT NOT NULL UNIQUE,
    secret_digest BLOB NOT NULL,
    secret_last_four TEXT NOT NULL,
    previous_secret_digest BLOB,
    previous_secret_valid_until INTEGER,
    -- Access tokens issued before this instant are no longer valid ("revocar tokens existentes").
    tokens_not_before INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX consumers_group ON consumers (permission_group_id);

-- Keeps the consumer total without a full count on every page.
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('consumers', 0);
CREATE TRIGGER consumers_count_insert AFTER INSERT ON consumers
BEGIN
    UPDATE counters SET value = value + 1 WHERE name = 'consumers';
END;
CREATE TRIGGER consumers_count_delete AFTER DELETE ON consumers
BEGIN
    UPDATE counters SET value = value - 1 WHERE name = 'consumers';
END;

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    ip TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    module TEXT NOT NULL,
    target TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);

-- Token endpoint figures, aggregated per hour and flushed in batches.
CREATE TABLE token_stats (
    hour INTEGER PRIMARY KEY, -- Unix hour
    issued INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0
);

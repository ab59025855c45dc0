-- Users' SSH public keys: `ssh host` with one of them opens the console as its user. A key
-- belongs to one user only (its fingerprint is unique), and goes with its user.
CREATE TABLE ssh_keys (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL CONSTRAINT ssh_keys_fingerprint_key UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX ssh_keys_user ON ssh_keys (user_id);

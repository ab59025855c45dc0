-- Keys kept in the database, sealed under the system secret (XChaCha20-Poly1305; the key's
-- name is the associated data), so that every server over one database uses the same:
-- token_hmac, vault, jwt_signing_keys, ssh_host_key. Never a key in clear.
CREATE TABLE sealed_keys (
    name TEXT PRIMARY KEY,
    sealed BLOB NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

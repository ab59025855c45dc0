-- Keys kept in the database, sealed under the system secret (XChaCha20-Poly1305; the key's
-- name is the associated data), so that every replica uses the same: token_hmac, vault,
-- jwt_signing_keys, ssh_host_key. Never a key in clear.
CREATE TABLE sealed_keys (
    name TEXT PRIMARY KEY,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A consumer authenticates with its Secreto or, for `private_key_jwt`, with a JWT signed by
-- one of its registered public keys: `jwks`, a JWKS of public keys only (NULL for a
-- secret's consumer, whose secret columns are then unused).
ALTER TABLE consumers ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'secret'
    CHECK (auth_method IN ('secret', 'private_key_jwt'));
ALTER TABLE consumers ADD COLUMN jwks TEXT;
-- Gets only DPoP-bound tokens (RFC 9449 §5.2 `dpop_bound_access_tokens`).
ALTER TABLE consumers ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;

-- Values each replica may accept only once, until they expire: Hawk nonces and the `jti`
-- of client assertions. The key is the SHA-256 of the value with its kind, bounded in size
-- whatever the client sent; `until` (Unix seconds) is when it can no longer pass its own
-- time check, and is pruned. A Hawk nonce was kept by its request's timestamp: an hour
-- later is past any clock-skew window.
ALTER TABLE hawk_nonces RENAME TO used_once;
ALTER TABLE used_once RENAME COLUMN ts TO until;
UPDATE used_once SET until = until + 3600;
DROP INDEX hawk_nonces_ts;
CREATE INDEX used_once_until ON used_once (until);

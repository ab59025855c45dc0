-- The Hawk nonces seen inside the clock-skew window, so that a signed request replayed
-- after a restart (or on another replica) is refused. The key is the SHA-256 of
-- "key id:nonce", bounded in size whatever the client sent; `ts` is the request's Hawk
-- timestamp in seconds, for pruning.
CREATE TABLE hawk_nonces (
    digest BLOB PRIMARY KEY,
    ts INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX hawk_nonces_ts ON hawk_nonces (ts);

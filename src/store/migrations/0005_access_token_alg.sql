-- How each consumer's `jwt` access tokens are signed: EdDSA (the default and the only
-- algorithm before this migration), ES256 or RS256 (RFC 9068 §2.1 asks for RS256).
ALTER TABLE consumers ADD COLUMN access_token_alg TEXT NOT NULL DEFAULT 'EdDSA'
    CHECK (access_token_alg IN ('EdDSA', 'ES256', 'RS256'));

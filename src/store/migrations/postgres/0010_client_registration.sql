-- Clients that register themselves (RFC 7591) or name a Client ID Metadata Document as their
-- client_id: a public client authenticates with nothing (`none`, PKCE instead).
ALTER TABLE consumers DROP CONSTRAINT consumers_auth_method_check;
ALTER TABLE consumers ADD CONSTRAINT consumers_auth_method_check
    CHECK (auth_method IN ('secret', 'private_key_jwt', 'none'));

-- Where a consumer came from: the console ("+"), a registration (RFC 7591), or its Client ID
-- Metadata Document (its client_id is the document's URL). A self-registered one waits as
-- 'pending' until the Súper Administrador approves it (or rejects it) when the policy asks.
ALTER TABLE consumers ADD COLUMN origin TEXT NOT NULL DEFAULT 'console'
    CHECK (origin IN ('console', 'registration', 'metadata_document'));
ALTER TABLE consumers ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved'
    CHECK (approval IN ('approved', 'pending', 'rejected'));
-- The SHA-256 of its registration access token (RFC 7592), never the token.
ALTER TABLE consumers ADD COLUMN registration_token_digest BYTEA;
CREATE INDEX consumers_pending ON consumers (approval) WHERE approval = 'pending';

-- The policy for such clients, one row: 'off' (neither mechanism is offered), 'approval' or
-- 'open', and the group a new client goes into (proposed, under 'approval').
CREATE TABLE client_registration (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    policy TEXT NOT NULL CHECK (policy IN ('off', 'approval', 'open')),
    group_id UUID REFERENCES permission_groups (id) ON DELETE SET NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
INSERT INTO client_registration (id, policy, group_id, updated_at, updated_by)
    VALUES (1, 'off', NULL, 0, '');

-- Initial access tokens (RFC 7591 §3): made by the Súper Administrador for automations that
-- must not wait for approval. Only their digest is kept.
CREATE TABLE initial_access_tokens (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    digest BYTEA NOT NULL UNIQUE,
    group_id UUID NOT NULL REFERENCES permission_groups (id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);

-- A public client's refresh token is bound to the DPoP key of the request that got it (RFC
-- 9449 §5): the thumbprint, kept along the token's family as it rotates.
ALTER TABLE refresh_tokens ADD COLUMN jkt TEXT;

-- The protected resource (RFC 8707) a grant was for: its tokens' audience. NULL: consola's
-- own API.
ALTER TABLE authorization_codes ADD COLUMN resource TEXT;
ALTER TABLE refresh_tokens ADD COLUMN resource TEXT;

-- Where a `private_key_jwt` consumer publishes its JWKS, instead of registering it (the
-- `jwks` column is then NULL): fetched as metadata documents are.
ALTER TABLE consumers ADD COLUMN jwks_uri TEXT;

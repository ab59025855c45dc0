//! OAuth authorization codes, refresh tokens and revocations.

use super::*;

#[async_trait]
pub trait GrantStore {
    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()>;
    /// Marks the code spent; `NotFound` when no such code exists.
    async fn consume_authorization_code(
        &self,
        digest: &[u8; 32],
        at: DateTime<Utc>,
    ) -> StoreResult<CodeUse>;
    async fn insert_refresh_token(&self, token: &RefreshTokenRecord) -> StoreResult<()>;
    /// Exchanges a refresh token of `client_id` for `replacement` in one transaction; the
    /// replacement keeps the family, consumer, user and scope of the token it replaces (only
    /// its digest and times are taken). `NotFound` when no such token of that client exists.
    async fn use_refresh_token(
        &self,
        digest: &[u8; 32],
        client_id: &str,
        replacement: &RefreshTokenRecord,
        at: DateTime<Utc>,
    ) -> StoreResult<RefreshUse>;
    /// A refresh token still usable (neither spent nor revoked).
    async fn live_refresh_token(&self, digest: &[u8; 32]) -> StoreResult<RefreshTokenRecord>;
    async fn revoke_refresh_family(&self, family_id: Uuid) -> StoreResult<()>;
    async fn insert_revocation(&self, revocation: &Revocation) -> StoreResult<()>;
    /// Revocations not yet moot at `now`.
    async fn revocations(&self, now: DateTime<Utc>) -> StoreResult<Vec<Revocation>>;
    /// Consumers that are disabled or whose tokens were cut after `since`.
    async fn consumer_token_states(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<ConsumerTokenState>>;
}

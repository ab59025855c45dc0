//! The audit log, Hawk nonces and the dashboard figures.

use super::*;

#[async_trait]
pub trait AuditStore {
    async fn record(&self, audit: &NewAuditEvent) -> StoreResult<()>;
    /// Remembers a Hawk nonce (its digest) with its timestamp; false when it was already
    /// seen. Nonces with a timestamp before `forget_before` can no longer pass the clock
    /// check, and are dropped.
    async fn remember_hawk_nonce(
        &self,
        digest: &[u8; 32],
        ts: i64,
        forget_before: i64,
    ) -> StoreResult<bool>;
    /// One page, newest first, and the total matching the filter.
    async fn audit_events(&self, filter: &AuditFilter) -> StoreResult<(Vec<AuditEvent>, u64)>;
    async fn counts(&self) -> StoreResult<Counts>;
    async fn add_token_stats(&self, stats: &[TokenStat]) -> StoreResult<()>;
    async fn token_stats(&self, from_hour: i64, to_hour: i64) -> StoreResult<Vec<TokenStat>>;
}

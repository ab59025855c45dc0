//! The store's part in holding the server under attack: refusals summarized instead of
//! logged one by one, audit retention, and ending the grants and tokens of a user or a
//! consumer at once.

use crate::domain::NewAuditEvent;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreResult;

#[async_trait]
pub trait SecurityStore {
    /// Counts one refusal in the audit row of `summary_key` (a key and a minute), creating
    /// it from `audit` on the first; its description then carries the count. Returns the
    /// count so far.
    async fn record_refusal(&self, audit: &NewAuditEvent, summary_key: &str) -> StoreResult<u64>;
    /// Deletes at most `batch` audit entries older than `before`, oldest first; returns how
    /// many went. Small batches keep the writer free for others between them.
    async fn prune_audit(&self, before: DateTime<Utc>, batch: u32) -> StoreResult<u64>;
    /// Revokes every refresh token of the user and deletes their unused authorization
    /// codes; returns the grants (refresh-token family, client_id) that had tokens.
    async fn end_user_grants(&self, user_id: Uuid) -> StoreResult<Vec<(Uuid, String)>>;
    /// Access tokens of the consumer issued before `at` are void (durably).
    async fn cut_consumer_tokens(&self, client_id: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// Revokes every refresh token of the consumer; returns their grants.
    async fn revoke_consumer_refresh_tokens(&self, client_id: &str) -> StoreResult<Vec<Uuid>>;
    /// The client an authorization code was issued to, without spending it.
    async fn authorization_code_client(&self, digest: &[u8; 32]) -> StoreResult<String>;
}

//! The account and its first-run setup.

use super::*;

#[async_trait]
pub trait AccountStore {
    async fn user_count(&self) -> StoreResult<u64>;
    /// Creates the account and its first user at once; `Duplicate("account")` when set up.
    async fn setup(
        &self,
        account: &AccountRecord,
        user: &UserRecord,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    async fn account(&self) -> StoreResult<AccountRecord>;
    async fn rename_account(&self, name: &str, audit: &NewAuditEvent) -> StoreResult<Account>;
    async fn replace_api_key(
        &self,
        key: &str,
        sealed_secret: &[u8],
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
}

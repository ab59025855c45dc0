//! Users and their sessions.

use super::*;

#[async_trait]
pub trait UserStore {
    async fn insert_user(&self, user: &UserRecord, audit: &NewAuditEvent) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<UserRecord>;
    async fn user_by_username(&self, username: &str) -> StoreResult<UserRecord>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// Writes the user's fields as given, if its version is still `expected_version`.
    async fn update_user(
        &self,
        user: &UserRecord,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<User>;
    /// Gives the Súper Administrador role to `to`; `from` becomes `admin`.
    async fn transfer_super_admin(
        &self,
        from: Uuid,
        to: Uuid,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    async fn delete_user(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
    async fn insert_session(
        &self,
        digest: &[u8; 32],
        user_id: Uuid,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<()>;
    /// The session's user and expiry.
    async fn session(&self, digest: &[u8; 32]) -> StoreResult<(UserRecord, DateTime<Utc>)>;
    async fn delete_session(&self, digest: &[u8; 32], audit: &NewAuditEvent) -> StoreResult<()>;
    /// Ends every session of a user but `keep`.
    async fn delete_sessions_of(&self, user_id: Uuid, keep: Option<&[u8; 32]>) -> StoreResult<()>;
}

//! Users' SSH public keys (DESIGN §7).

use super::*;
use crate::domain::ssh_key::SshKey;

/// A stored key: what the API shows, whose it is, and the key itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshKeyRecord {
    pub key: SshKey,
    pub user_id: Uuid,
    /// The OpenSSH line without its comment.
    pub public_key: String,
}

#[async_trait]
pub trait SshKeyStore {
    /// Adds a key; `Duplicate("fingerprint")` when any user has it already.
    async fn insert_ssh_key(&self, key: &SshKeyRecord, audit: &NewAuditEvent) -> StoreResult<()>;
    /// A user's keys, oldest first.
    async fn ssh_keys_of(&self, user_id: Uuid) -> StoreResult<Vec<SshKeyRecord>>;
    /// The key with this fingerprint and its user.
    async fn ssh_key_by_fingerprint(
        &self,
        fingerprint: &str,
    ) -> StoreResult<(SshKeyRecord, UserRecord)>;
    /// The user holding this key now; `NotFound` once the key is removed.
    async fn ssh_key_holder(&self, id: Uuid) -> StoreResult<UserRecord>;
    /// Removes one of a user's keys; `NotFound` when that user has no such key.
    async fn delete_ssh_key(
        &self,
        user_id: Uuid,
        id: Uuid,
        audit: &NewAuditEvent,
    ) -> StoreResult<SshKeyRecord>;
}

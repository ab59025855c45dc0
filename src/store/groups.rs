//! Permission groups.

use super::*;

#[async_trait]
pub trait GroupStore {
    async fn insert_group(&self, group: &PermissionGroup, audit: &NewAuditEvent)
    -> StoreResult<()>;
    async fn group(&self, id: Uuid) -> StoreResult<PermissionGroup>;
    async fn groups(&self) -> StoreResult<Vec<PermissionGroup>>;
    async fn update_group(
        &self,
        group: &PermissionGroup,
        expected_version: i64,
        audit: &NewAuditEvent,
    ) -> StoreResult<PermissionGroup>;
    /// `InUse` while a consumer uses the group.
    async fn delete_group(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
}

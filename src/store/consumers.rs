//! OAuth consumers and their secrets.

use super::*;

#[async_trait]
pub trait ConsumerStore {
    async fn insert_consumer(
        &self,
        consumer: &ConsumerInsert,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn consumer(&self, id: Uuid) -> StoreResult<Consumer>;
    async fn consumer_credentials(&self, client_id: &str) -> StoreResult<ConsumerCredentials>;
    /// One page in id order, and the total matching the filter.
    async fn consumers(&self, filter: &ConsumerFilter) -> StoreResult<(Vec<Consumer>, u64)>;
    async fn update_consumer(
        &self,
        id: Uuid,
        fields: &ValidConsumer,
        expected_version: i64,
        at: DateTime<Utc>,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn rotate_consumer_secret(
        &self,
        id: Uuid,
        rotation: &SecretRotation,
        audit: &NewAuditEvent,
    ) -> StoreResult<Consumer>;
    async fn delete_consumer(&self, id: Uuid, audit: &NewAuditEvent) -> StoreResult<()>;
}

//! Whether the database answers.

use super::*;

#[async_trait]
pub trait HealthStore {
    /// `Ok` when the database answers and, after a write failed, takes writes again.
    async fn ready(&self) -> StoreResult<()>;
    /// Closes the connections, after which every call fails as on a database that is gone.
    async fn close(&self);
}

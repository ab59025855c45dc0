//! Whether the database answers.

use super::*;

#[async_trait]
pub trait HealthStore {
    /// `Ok` when the database answers and, after a write failed, takes writes again.
    async fn ready(&self) -> StoreResult<()>;
}

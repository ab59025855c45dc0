//! PostgreSQL side of [`HealthStore`]: whether the database answers.

use super::*;
use crate::store::HealthStore;

/// `/readyz` answers within this even when the server hangs rather than refuses.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

#[async_trait]
impl HealthStore for PostgresStore {
    async fn ready(&self) -> StoreResult<()> {
        let ping = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(READY_TIMEOUT, ping).await {
            Ok(answer) => answer.map(|_| ()).map_err(backend),
            Err(_) => Err(StoreError::Unavailable(Fault::Unreachable)),
        }
    }

    async fn close(&self) {
        PostgresStore::close(self).await
    }
}

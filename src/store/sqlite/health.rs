//! SQLite side of [`HealthStore`]: whether the database answers and takes writes.

use super::*;
use crate::store::HealthStore;

#[async_trait]
impl HealthStore for SqliteStore {
    async fn ready(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(backend)?;
        if self.writer.fault().is_some() {
            self.writer.probe().await?;
        }
        Ok(())
    }

    async fn close(&self) {
        SqliteStore::close(self).await
    }
}

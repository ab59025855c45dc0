//! SQLite side of [`SealedKeyStore`].

use super::*;
use crate::store::SealedKeyStore;

#[async_trait]
impl SealedKeyStore for SqliteStore {
    async fn sealed_key(&self, name: &str) -> StoreResult<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT sealed FROM sealed_keys WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)
    }

    async fn create_sealed_key(
        &self,
        name: &str,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<u8>> {
        self.writer
            .transaction(async |tx| {
                sqlx::query(
                    "INSERT INTO sealed_keys (name, sealed, updated_at) VALUES (?, ?, ?)
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(sealed)
                .bind(ms(at))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                sqlx::query_scalar("SELECT sealed FROM sealed_keys WHERE name = ?")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)
            })
            .await
    }

    async fn replace_sealed_key(
        &self,
        name: &str,
        expected: &[u8],
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.writer
            .transaction(async |tx| {
                let done = sqlx::query(
                    "UPDATE sealed_keys SET sealed = ?, updated_at = ? WHERE name = ? AND sealed = ?",
                )
                .bind(sealed)
                .bind(ms(at))
                .bind(name)
                .bind(expected)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
                Ok(done.rows_affected() == 1)
            })
            .await
    }
}

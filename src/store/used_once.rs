//! Values that may be used once across every replica until they expire: Hawk nonces, the
//! `jti` of client assertions and of DPoP proofs. The database holds them, so a value
//! replayed on another replica, or after a restart, finds its row taken.

use super::sql::{SqlBackend, transaction};
use super::*;
use sqlx::AssertSqlSafe;

/// The most values one call takes: the statement binds two parameters for each.
pub const MAX_USED_ONCE_BATCH: usize = 256;

#[async_trait]
pub trait UsedOnceStore {
    /// Marks each value (its digest) used until its `until` (Unix seconds), all in one
    /// transaction; for each, in order, whether it was new: false when it was used before,
    /// or earlier in the same call. Values whose `until` is before `now` can no longer pass
    /// their own time check, and are dropped first. At most [`MAX_USED_ONCE_BATCH`] values.
    async fn use_once(&self, values: &[([u8; 32], i64)], now: i64) -> StoreResult<Vec<bool>>;
}

#[async_trait]
impl<B: SqlBackend> UsedOnceStore for B {
    async fn use_once(&self, values: &[([u8; 32], i64)], now: i64) -> StoreResult<Vec<bool>> {
        // Each digest once: a repeat in the same call is a replay of its first.
        let mut distinct: Vec<&([u8; 32], i64)> = Vec::with_capacity(values.len());
        for value in values.iter().take(MAX_USED_ONCE_BATCH) {
            if !distinct.iter().any(|seen| seen.0 == value.0) {
                distinct.push(value);
            }
        }
        if distinct.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<String> = (0..distinct.len())
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO used_once (digest, until) VALUES {} ON CONFLICT DO NOTHING
             RETURNING digest",
            rows.join(", ")
        );
        let inserted: Vec<Vec<u8>> = transaction(self, async |tx| {
            B::query("DELETE FROM used_once WHERE until < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // One row per value across every replica: a second insert finds it taken.
            let mut statement = B::query(AssertSqlSafe(sql));
            for (digest, until) in &distinct {
                statement = statement.bind(&digest[..]).bind(*until);
            }
            statement.scalars::<Vec<u8>>(&mut *tx).await
        })
        .await?;
        let mut answered: Vec<[u8; 32]> = Vec::with_capacity(values.len());
        Ok(values
            .iter()
            .map(|(digest, _)| {
                let new = !answered.contains(digest)
                    && inserted.iter().any(|row| row.as_slice() == digest);
                answered.push(*digest);
                new
            })
            .collect())
    }
}

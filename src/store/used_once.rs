//! Values that may be used once across every replica until they expire: Hawk nonces and the
//! `jti` of client assertions. The database holds them, so a value replayed on another
//! replica, or after a restart, finds its row taken.

use super::sql::{SqlBackend, transaction};
use super::*;

#[async_trait]
pub trait UsedOnceStore {
    /// Marks a value (its digest) used until `until` (Unix seconds); false when it already
    /// was. Values whose `until` is before `now` can no longer pass their own time check,
    /// and are dropped first.
    async fn use_once(&self, digest: &[u8; 32], until: i64, now: i64) -> StoreResult<bool>;
}

#[async_trait]
impl<B: SqlBackend> UsedOnceStore for B {
    async fn use_once(&self, digest: &[u8; 32], until: i64, now: i64) -> StoreResult<bool> {
        transaction(self, async |tx| {
            B::query("DELETE FROM used_once WHERE until < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            // One row per value across every replica: the second insert finds it taken.
            let inserted = B::query(
                "INSERT INTO used_once (digest, until) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(&digest[..])
            .bind(until)
            .execute(&mut *tx)
            .await?;
            Ok(inserted == 1)
        })
        .await
    }
}

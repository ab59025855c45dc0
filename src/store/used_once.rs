//! Values that may be used once across every replica until they expire: Hawk nonces, the
//! `jti` of client assertions and of DPoP proofs. The database holds them, so a value
//! replayed on another replica, or after a restart, finds its row taken.
//!
//! A value is its digest with its `until`, which comes from what the client signed: a
//! replay carries both, and the row is keyed by `until` first so that each group of new
//! rows is written in the part of the key of its second, not all over the table (see the
//! migration `used_once_by_time`).

use super::sql::{Columns, SqlBackend, alone, transaction};
use super::*;
use sqlx::AssertSqlSafe;

/// The most values one call takes: the statement binds two parameters for each.
pub const MAX_USED_ONCE_BATCH: usize = 256;

/// The most expired values one call drops. A flood leaves a great many behind (10 s of
/// 10,000 a second took SQLite about 80 ms to drop at once, with every value asked for
/// meanwhile waiting behind it); in steps of this many, between groups, each is short.
pub const MAX_FORGOTTEN_AT_ONCE: u64 = 2_000;

#[async_trait]
pub trait UsedOnceStore {
    /// Marks each value (its digest, used until its `until`, Unix seconds) used, all in
    /// one transaction; for each, in order, whether it was new: false when it was used
    /// before, or earlier in the same call. At most [`MAX_USED_ONCE_BATCH`] values; any
    /// past them are answered false.
    async fn use_once(&self, values: &[([u8; 32], i64)]) -> StoreResult<Vec<bool>>;

    /// Drops the values whose `until` is before `now`, the oldest first and at most
    /// [`MAX_FORGOTTEN_AT_ONCE`]: they can no longer pass their own time check, and no new
    /// value meets them, its `until` being later. The count dropped: the bound when more
    /// may be left.
    async fn forget_used_before(&self, now: i64) -> StoreResult<u64>;
}

#[async_trait]
impl<B: SqlBackend> UsedOnceStore for B {
    async fn use_once(&self, values: &[([u8; 32], i64)]) -> StoreResult<Vec<bool>> {
        let taken = &values[..values.len().min(MAX_USED_ONCE_BATCH)];
        // Each value once: a repeat in the same call is a replay of its first.
        let mut distinct: Vec<&([u8; 32], i64)> = Vec::with_capacity(taken.len());
        for value in taken {
            if !distinct.contains(&value) {
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
            "INSERT INTO used_once (until, digest) VALUES {} ON CONFLICT DO NOTHING
             RETURNING until, digest",
            rows.join(", ")
        );
        // One row per value across every replica: a second insert finds it taken. One
        // statement, its own transaction: the whole group is taken, or none of it.
        let mut statement = B::query(AssertSqlSafe(sql));
        for (digest, until) in &distinct {
            statement = statement.bind(*until).bind(&digest[..]);
        }
        let inserted: Vec<(i64, Vec<u8>)> = alone(self, statement)
            .await?
            .iter()
            .map(|row| Ok((row.col("until")?, row.col("digest")?)))
            .collect::<StoreResult<_>>()?;
        let mut answered: Vec<&([u8; 32], i64)> = Vec::with_capacity(taken.len());
        Ok(taken
            .iter()
            .map(|value| {
                let new = !answered.contains(&value)
                    && inserted
                        .iter()
                        .any(|(until, digest)| *until == value.1 && digest[..] == value.0);
                answered.push(value);
                new
            })
            .chain(std::iter::repeat(false))
            .take(values.len())
            .collect())
    }

    async fn forget_used_before(&self, now: i64) -> StoreResult<u64> {
        transaction(self, async |tx| {
            B::query(
                "DELETE FROM used_once WHERE (until, digest) IN
                   (SELECT until, digest FROM used_once WHERE until < $1
                    ORDER BY until LIMIT $2)",
            )
            .bind(now)
            .bind(MAX_FORGOTTEN_AT_ONCE as i64)
            .execute(&mut *tx)
            .await
        })
        .await
    }
}

//! SQLite side of [`ThrottleStore`]. Every write is a transaction on the one writer
//! connection (`BEGIN IMMEDIATE`), so a row read there stays as read until the commit.

use super::*;
use crate::store::throttles::{ThrottleRow, throttle_key_of};
use crate::store::{SharedThrottle, ThrottleKey, ThrottleRule, ThrottleStore};

#[async_trait]
impl ThrottleStore for SqliteStore {
    async fn count_throttle_failures(
        &self,
        failures: &[(ThrottleKey, ThrottleRule)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SharedThrottle>> {
        let now_ms = ms(now);
        self.writer
            .transaction(async |tx| {
                let mut states = Vec::with_capacity(failures.len());
                for (key, rule) in failures {
                    let old: Option<(i64, i64, Option<i64>)> = sqlx::query_as(
                        "SELECT failures, last_failure, blocked_until FROM throttles
                         WHERE key = ?",
                    )
                    .bind(&key[..])
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let old = old.map(|(failures, last_failure, blocked_until)| ThrottleRow {
                        failures,
                        last_failure,
                        blocked_until,
                    });
                    let (new, counted) = ThrottleRow::after_failure(old.as_ref(), rule, now_ms);
                    if !counted {
                        states.push(new.shared(now_ms, false));
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO throttles (key, failures, last_failure, blocked_until)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (key) DO UPDATE SET failures = ?2, last_failure = ?3,
                             blocked_until = ?4",
                    )
                    .bind(&key[..])
                    .bind(new.failures)
                    .bind(new.last_failure)
                    .bind(new.blocked_until)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    states.push(new.shared(now_ms, true));
                }
                Ok(states)
            })
            .await
    }

    async fn forget_throttle(&self, key: &ThrottleKey) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("DELETE FROM throttles WHERE key = ?")
                    .bind(&key[..])
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn throttle_block(
        &self,
        key: &ThrottleKey,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<i64> = sqlx::query_scalar(
            "SELECT blocked_until FROM throttles WHERE key = ? AND blocked_until > ?",
        )
        .bind(&key[..])
        .bind(ms(now))
        .fetch_optional(&self.reader)
        .await
        .map_err(backend)?;
        Ok(until.map(from_ms))
    }

    async fn active_throttle_blocks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(ThrottleKey, DateTime<Utc>)>> {
        let rows: Vec<(Vec<u8>, i64)> = sqlx::query_as(
            "SELECT key, blocked_until FROM throttles WHERE blocked_until > ?
             ORDER BY blocked_until DESC LIMIT ?",
        )
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.into_iter()
            .map(|(key, until)| Ok((throttle_key_of(&key)?, from_ms(until))))
            .collect()
    }

    async fn prune_throttles(
        &self,
        idle_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = self
            .writer
            .transaction(async |tx| {
                sqlx::query(
                    "DELETE FROM throttles WHERE last_failure < ?
                     AND (blocked_until IS NULL OR blocked_until <= ?)",
                )
                .bind(ms(idle_since))
                .bind(ms(now))
                .execute(&mut *tx)
                .await
                .map_err(backend)
            })
            .await?;
        Ok(done.rows_affected())
    }
}

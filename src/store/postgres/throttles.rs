//! PostgreSQL side of [`ThrottleStore`]. A failure takes the key's row lock (an upsert that
//! changes nothing but returns the row) before the rule is applied, so two replicas that
//! count the same key at once are served one after the other, each seeing the other's
//! failure.

use super::*;
use crate::store::throttles::{ThrottleRow, throttle_key_of};
use crate::store::{SharedThrottle, ThrottleKey, ThrottleRule, ThrottleStore};

#[async_trait]
impl ThrottleStore for PostgresStore {
    async fn count_throttle_failures(
        &self,
        failures: &[(ThrottleKey, ThrottleRule)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SharedThrottle>> {
        let now_ms = ms(now);
        // Rows are locked in the order of their keys, the same on every replica, so two
        // transactions over the same keys cannot wait for each other.
        let mut order: Vec<usize> = (0..failures.len()).collect();
        order.sort_by_key(|i| failures[*i].0);
        self.writer
            .transaction(async |tx| {
                let mut states = vec![None; failures.len()];
                for i in order {
                    let (key, rule) = &failures[i];
                    let (failures, last_failure, blocked_until): (i64, i64, Option<i64>) =
                        sqlx::query_as(
                            "INSERT INTO throttles (key, failures, last_failure, blocked_until)
                             VALUES ($1, 0, $2, NULL)
                             ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
                             RETURNING failures, last_failure, blocked_until",
                        )
                        .bind(&key[..])
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend)?;
                    let old = ThrottleRow {
                        failures,
                        last_failure,
                        blocked_until,
                    };
                    let (new, counted) = ThrottleRow::after_failure(Some(&old), rule, now_ms);
                    if counted {
                        sqlx::query(
                            "UPDATE throttles SET failures = $2, last_failure = $3,
                                 blocked_until = $4
                             WHERE key = $1",
                        )
                        .bind(&key[..])
                        .bind(new.failures)
                        .bind(new.last_failure)
                        .bind(new.blocked_until)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    }
                    states[i] = Some(new.shared(now_ms, counted));
                }
                Ok(states.into_iter().flatten().collect())
            })
            .await
    }

    async fn forget_throttle(&self, key: &ThrottleKey) -> StoreResult<()> {
        self.writer
            .transaction(async |tx| {
                sqlx::query("DELETE FROM throttles WHERE key = $1")
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
            "SELECT blocked_until FROM throttles WHERE key = $1 AND blocked_until > $2",
        )
        .bind(&key[..])
        .bind(ms(now))
        .fetch_optional(&self.pool)
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
            "SELECT key, blocked_until FROM throttles WHERE blocked_until > $1
             ORDER BY blocked_until DESC LIMIT $2",
        )
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
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
                    "DELETE FROM throttles WHERE last_failure < $1
                     AND (blocked_until IS NULL OR blocked_until <= $2)",
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

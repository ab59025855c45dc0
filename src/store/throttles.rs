//! Throttles shared by replicas: the failures of a key (a username, a client, an address)
//! and its block live in the database, so that a limit holds however the attempts are
//! spread over the replicas. Each replica keeps its own copy in memory (see
//! `service::throttle`); the database is what they agree on, and what survives a restart.

use super::columns::{from_ms, ms};
use super::sql::{Columns, SqlBackend, transaction};
use super::*;
use std::time::Duration;

/// A throttle key: the first 16 bytes of the SHA-256 of its text, so raw input of any
/// length costs the same few bytes.
pub type ThrottleKey = [u8; 16];

/// When a key is refused: from the `limit`-th failure inside `window`, for `first_block`,
/// doubling with each further failure up to `longest_block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    pub limit: u32,
    pub window: Duration,
    pub first_block: Duration,
    pub longest_block: Duration,
}

impl ThrottleRule {
    /// How long a key with this many failures in the window is refused; `None` below the
    /// limit. The one rule both the memory and the database throttles apply.
    pub fn block_for(&self, failures: u32) -> Option<Duration> {
        if failures < self.limit.max(1) {
            return None;
        }
        let extra = (failures - self.limit.max(1)).min(5);
        Some((self.first_block * 2u32.pow(extra)).min(self.longest_block))
    }
}

/// A key's shared state after a failure was counted (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedThrottle {
    /// Failures in the window, every replica's.
    pub failures: u32,
    /// Refused until then, when it is later than the `now` of the call.
    pub blocked_until: Option<DateTime<Utc>>,
    /// False when the key was already refused: a failure while blocked is not counted
    /// (the caller answers it as throttled), as on one replica.
    pub counted: bool,
}

#[async_trait]
pub trait ThrottleStore {
    /// Counts one failure of each key at `now`, each under its rule, in one transaction: a
    /// key's failures older than its window are forgotten first, and its block is set from
    /// the new count while the row is held, so concurrent replicas cannot both miss the
    /// limit. A key blocked at `now` is left as it is (`counted` false). One state per key,
    /// in order.
    async fn count_throttle_failures(
        &self,
        failures: &[(ThrottleKey, ThrottleRule)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<SharedThrottle>>;
    /// Forgets a key (its owner proved who they are).
    async fn forget_throttle(&self, key: &ThrottleKey) -> StoreResult<()>;
    /// The end of the key's block, when it is blocked at `now`.
    async fn throttle_block(
        &self,
        key: &ThrottleKey,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>>;
    /// The keys blocked at `now` and until when, latest end first, at most `limit`: what a
    /// replica that starts (or reconnects) copies into memory.
    async fn active_throttle_blocks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(ThrottleKey, DateTime<Utc>)>>;
    /// Deletes the keys with no failure since `idle_since` and no block after `now`;
    /// returns how many went.
    async fn prune_throttles(
        &self,
        idle_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
}

/// The row of a key before a failure, and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ThrottleRow {
    pub failures: i64,
    pub last_failure: i64,
    pub blocked_until: Option<i64>,
}

impl ThrottleRow {
    /// The row after one more failure at `now_ms` (Unix ms), and whether it was counted:
    /// a key blocked at `now_ms` stays as it is. Shared by both backends, so they apply the
    /// same rule; each runs it on a row it holds until the transaction ends.
    pub(crate) fn after_failure(
        old: Option<&ThrottleRow>,
        rule: &ThrottleRule,
        now_ms: i64,
    ) -> (ThrottleRow, bool) {
        if let Some(old) = old
            && old.blocked_until.is_some_and(|until| until > now_ms)
        {
            return (old.clone(), false);
        }
        let window_ms = i64::try_from(rule.window.as_millis()).unwrap_or(i64::MAX);
        let earlier = match old {
            Some(o) if now_ms.saturating_sub(o.last_failure) <= window_ms => o.failures.max(0),
            _ => 0,
        };
        let failures = earlier.saturating_add(1);
        let count = u32::try_from(failures).unwrap_or(u32::MAX);
        let blocked_until = match rule.block_for(count) {
            Some(block) => {
                Some(now_ms.saturating_add(i64::try_from(block.as_millis()).unwrap_or(i64::MAX)))
            }
            None => old.and_then(|o| o.blocked_until),
        };
        let row = ThrottleRow {
            failures,
            last_failure: now_ms.max(old.map_or(now_ms, |o| o.last_failure)),
            blocked_until,
        };
        (row, true)
    }

    /// What the caller is told about this row at `now_ms`.
    pub(crate) fn shared(&self, now_ms: i64, counted: bool) -> SharedThrottle {
        SharedThrottle {
            failures: u32::try_from(self.failures.max(0)).unwrap_or(u32::MAX),
            blocked_until: self
                .blocked_until
                .filter(|until| *until > now_ms)
                .and_then(DateTime::from_timestamp_millis),
            counted,
        }
    }
}

/// A key read back from the database.
pub(crate) fn throttle_key_of(bytes: &[u8]) -> StoreResult<ThrottleKey> {
    ThrottleKey::try_from(bytes).map_err(|_| StoreError::Corrupt("throttle key"))
}

/// A failure takes the key's row (an upsert that changes nothing but returns it) before the
/// rule is applied. On PostgreSQL that locks the row, so two replicas that count the same
/// key at once are served one after the other, each seeing the other's failure; on SQLite
/// the one writer holds the whole database until the commit anyway.
#[async_trait]
impl<B: SqlBackend> ThrottleStore for B {
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
        transaction(self, async |tx| {
            let mut states = vec![None; failures.len()];
            for i in order {
                let (key, rule) = &failures[i];
                let row = B::query(
                    "INSERT INTO throttles (key, failures, last_failure, blocked_until)
                             VALUES ($1, 0, $2, NULL)
                             ON CONFLICT (key) DO UPDATE SET key = EXCLUDED.key
                             RETURNING failures, last_failure, blocked_until",
                )
                .bind(&key[..])
                .bind(now_ms)
                .fetch_one(&mut *tx)
                .await?;
                let old = ThrottleRow {
                    failures: row.col("failures")?,
                    last_failure: row.col("last_failure")?,
                    blocked_until: row.col("blocked_until")?,
                };
                let (new, counted) = ThrottleRow::after_failure(Some(&old), rule, now_ms);
                if counted {
                    B::query(
                        "UPDATE throttles SET failures = $2, last_failure = $3,
                                 blocked_until = $4
                             WHERE key = $1",
                    )
                    .bind(&key[..])
                    .bind(new.failures)
                    .bind(new.last_failure)
                    .bind(new.blocked_until)
                    .execute(&mut *tx)
                    .await?;
                }
                states[i] = Some(new.shared(now_ms, counted));
            }
            Ok(states.into_iter().flatten().collect())
        })
        .await
    }

    async fn forget_throttle(&self, key: &ThrottleKey) -> StoreResult<()> {
        transaction(self, async |tx| {
            B::query("DELETE FROM throttles WHERE key = $1")
                .bind(&key[..])
                .execute(&mut *tx)
                .await?;
            Ok(())
        })
        .await
    }

    async fn throttle_block(
        &self,
        key: &ThrottleKey,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        let until: Option<i64> =
            B::query("SELECT blocked_until FROM throttles WHERE key = $1 AND blocked_until > $2")
                .bind(&key[..])
                .bind(ms(now))
                .scalar_optional(self.reader())
                .await?;
        Ok(until.map(from_ms))
    }

    async fn active_throttle_blocks(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<(ThrottleKey, DateTime<Utc>)>> {
        let rows = B::query(
            "SELECT key, blocked_until FROM throttles WHERE blocked_until > $1
             ORDER BY blocked_until DESC LIMIT $2",
        )
        .bind(ms(now))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| {
                let key: Vec<u8> = row.col("key")?;
                Ok((throttle_key_of(&key)?, from_ms(row.col("blocked_until")?)))
            })
            .collect()
    }

    async fn prune_throttles(
        &self,
        idle_since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = transaction(self, async |tx| {
            B::query(
                "DELETE FROM throttles WHERE last_failure < $1
                     AND (blocked_until IS NULL OR blocked_until <= $2)",
            )
            .bind(ms(idle_since))
            .bind(ms(now))
            .execute(&mut *tx)
            .await
        })
        .await?;
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ThrottleRule = ThrottleRule {
        limit: 3,
        window: Duration::from_secs(900),
        first_block: Duration::from_secs(30),
        longest_block: Duration::from_secs(900),
    };

    #[test]
    fn the_rule_blocks_from_the_limit_and_doubles_up_to_the_longest() {
        assert_eq!(RULE.block_for(2), None);
        assert_eq!(RULE.block_for(3), Some(Duration::from_secs(30)));
        assert_eq!(RULE.block_for(4), Some(Duration::from_secs(60)));
        assert_eq!(RULE.block_for(8), Some(Duration::from_secs(900)));
        assert_eq!(RULE.block_for(u32::MAX), Some(Duration::from_secs(900)));
    }

    #[test]
    fn a_row_counts_resets_after_its_window_and_stays_while_blocked() {
        let (first, counted) = ThrottleRow::after_failure(None, &RULE, 1_000);
        assert!(counted);
        assert_eq!((first.failures, first.blocked_until), (1, None));
        let (second, _) = ThrottleRow::after_failure(Some(&first), &RULE, 2_000);
        let (third, _) = ThrottleRow::after_failure(Some(&second), &RULE, 3_000);
        assert_eq!(third.failures, 3);
        assert_eq!(third.blocked_until, Some(33_000));
        // Blocked until its end, and not at it.
        assert!(third.shared(32_999, true).blocked_until.is_some());
        assert_eq!(third.shared(33_000, true).blocked_until, None);
        let (same, counted) = ThrottleRow::after_failure(Some(&third), &RULE, 32_999);
        assert!(!counted, "blocked: not counted");
        assert_eq!(same, third);
        let (fourth, _) = ThrottleRow::after_failure(Some(&third), &RULE, 33_000);
        assert_eq!(fourth.blocked_until, Some(93_000), "doubled");
        let (later, _) = ThrottleRow::after_failure(Some(&fourth), &RULE, 93_000 + 901_000);
        assert_eq!(later.failures, 1, "the window passed");
        assert!(later.shared(994_000, true).blocked_until.is_none());
    }
}

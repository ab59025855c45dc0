//! The throttles' shared half: failures are counted in the database as well as in this
//! replica's memory, so that a limit holds however the attempts are spread over the
//! replicas, and a block found there is mirrored in memory (where the hot paths look).
//!
//! The database only ever adds refusals: when it cannot be reached, this replica's own
//! throttle keeps deciding alone (logged once per episode), and every answer stays what
//! the credentials deserve.

use super::throttle::{self, KeyDigest};
use super::*;
use crate::store::StoreResult;
use std::sync::atomic::Ordering;

/// The shared throttle's time: the wall clock, which replicas share, never the service's
/// clock (a test's may stand still): the memory throttle's blocks end in real time too,
/// and both must end together.
fn wall_clock() -> DateTime<Utc> {
    Utc::now()
}

/// Old rows are pruned at most this often, on the back of a counted failure.
const PRUNE_EVERY: Duration = Duration::minutes(1);
/// Failures older than this no longer count (the throttle's window), nor blocks
/// (the longest is as long).
const IDLE: Duration = Duration::minutes(15);

impl Service {
    /// When another replica (or this one before a restart) refused `key`: the end of its
    /// block, from the database. Not mirrored yet: the caller first gives back what it
    /// reserved (see [`Service::mirror_shared`]).
    pub(crate) async fn shared_block(&self, key: &str) -> Option<DateTime<Utc>> {
        let answer = self
            .store
            .throttle_block(&throttle::key_digest(key), wall_clock())
            .await;
        self.shared_answer(answer).flatten()
    }

    /// Copies a block found in the database into memory.
    pub(crate) fn mirror_shared(&self, key: &str, until: DateTime<Utc>) {
        self.mirror_digest(&throttle::key_digest(key), until);
    }

    fn mirror_digest(&self, key: &KeyDigest, until: DateTime<Utc>) {
        let Ok(left) = (until - wall_clock()).to_std() else {
            return;
        };
        if let Some(until) = std::time::Instant::now().checked_add(left) {
            self.throttle.mirror(key, until);
        }
    }

    /// A block another replica set, told by the database's change feed: in force here at
    /// once, without waiting for a failure of this replica to find it.
    pub fn block_seen_elsewhere(&self, key: [u8; 16], until: DateTime<Utc>) {
        self.mirror_digest(&key, until);
    }

    /// Counts one failure of each `(key, limit)` in the database, in one transaction, and
    /// mirrors what it answers. `Some((i, seconds))` when the `i`-th key was already
    /// refused by the shared throttle (that failure was not counted there): the caller
    /// answers it as throttled, as it would a block of its own.
    pub(crate) async fn count_shared_failures(&self, keys: &[(&str, u32)]) -> Option<(usize, u64)> {
        let now = wall_clock();
        let failures: Vec<_> = keys
            .iter()
            .map(|(key, limit)| (throttle::key_digest(key), throttle::rule(*limit)))
            .collect();
        let answer = self.store.count_throttle_failures(&failures, now).await;
        let states = self.shared_answer(answer)?;
        let mut refused = None;
        for (i, ((digest, _), state)) in failures.iter().zip(&states).enumerate() {
            let Some(until) = state.blocked_until else {
                continue;
            };
            self.mirror_digest(digest, until);
            if !state.counted && refused.is_none() {
                refused = Some((i, retry_after(until, now)));
            }
        }
        self.prune_shared_throttles(now).await;
        refused
    }

    /// A success: the key's failures are forgotten on every replica that asks next.
    pub(crate) async fn forget_shared(&self, key: &str) {
        let answer = self.store.forget_throttle(&throttle::key_digest(key)).await;
        let _ = self.shared_answer(answer);
    }

    /// Copies every block in force in the database into memory: at start, and after the
    /// change feed reconnects (blocks set meanwhile were not told).
    pub(crate) async fn load_shared_blocks(&self) -> ServiceResult<()> {
        let limit = u32::try_from(throttle::MAX_KEYS).unwrap_or(u32::MAX);
        for (key, until) in self
            .store
            .active_throttle_blocks(wall_clock(), limit)
            .await?
        {
            self.mirror_digest(&key, until);
        }
        Ok(())
    }

    async fn prune_shared_throttles(&self, now: DateTime<Utc>) {
        let last = self.throttle.shared_pruned_at.load(Ordering::Relaxed);
        let due = now.timestamp_millis().saturating_sub(last) >= PRUNE_EVERY.num_milliseconds();
        // One replica's requests race for it; one wins, the others skip.
        if !due
            || self
                .throttle
                .shared_pruned_at
                .compare_exchange(
                    last,
                    now.timestamp_millis(),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let answer = self.store.prune_throttles(now - IDLE, now).await;
        let _ = self.shared_answer(answer);
    }

    /// The value of a call to the shared throttle, or `None` when the database failed:
    /// logged once per episode, and the memory throttle decides alone meanwhile.
    fn shared_answer<T>(&self, answer: StoreResult<T>) -> Option<T> {
        match answer {
            Ok(value) => {
                if self.throttle.shared_down.swap(false, Ordering::AcqRel) {
                    tracing::info!("shared throttles reachable again");
                }
                Some(value)
            }
            Err(err) => {
                if !self.throttle.shared_down.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        error = %err,
                        "shared throttles unavailable; this replica's own throttle decides alone"
                    );
                }
                None
            }
        }
    }
}

fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> u64 {
    u64::try_from((until - now).num_seconds())
        .unwrap_or(0)
        .max(1)
}

/// The seconds to wait for a shared block (the `Retry-After` of its refusal).
pub(crate) fn seconds_until(until: DateTime<Utc>) -> u64 {
    retry_after(until, wall_clock())
}

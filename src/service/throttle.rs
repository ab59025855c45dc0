//! Slows down guessing: after a number of failures for one key (a username, a client, an
//! address) the key is refused for a while, doubling with each further failure. Other keys
//! are not affected.
//!
//! An attempt that costs a slow check (argon2) is *reserved* before the check and counted
//! as a failure at once, so a burst of parallel guesses cannot all pass the limit before
//! the first of them fails; a success gives its reservation back. Keys are kept as
//! fixed-size digests, so raw input of any length costs the same few bytes, and a full table
//! forgets its oldest unblocked keys, never an active block.
//!
//! This is one replica's copy. The database holds the shared one (see `shared_throttles`):
//! failures are counted there too, and a block found there is mirrored here with
//! [`Throttle::mirror`], so that the checks on the hot path stay in memory.

use crate::store::ThrottleRule;
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
const FIRST_BLOCK: Duration = Duration::from_secs(30);
const LONGEST_BLOCK: Duration = Duration::from_secs(15 * 60);
/// Each further failure of a key is answered this much later…
const SLOW_DOWN_STEP: Duration = Duration::from_millis(100);
/// …up to this.
const LONGEST_SLOW_DOWN: Duration = Duration::from_secs(1);
/// Bound on remembered keys, so a flood of distinct names cannot grow memory without end.
pub const MAX_KEYS: usize = 100_000;
/// When the table is full, this share of it (the oldest unblocked keys) is forgotten at
/// once, so that eviction's scan is paid once per many new keys, not on each.
const EVICT_FRACTION: usize = 16;

/// A throttle key: the first 16 bytes of the SHA-256 of its text.
pub(crate) type KeyDigest = crate::store::ThrottleKey;

/// The rule of a key refused from its `limit`-th failure: the same in memory and in the
/// database.
pub(crate) fn rule(limit: u32) -> ThrottleRule {
    ThrottleRule {
        limit,
        window: WINDOW,
        first_block: FIRST_BLOCK,
        longest_block: LONGEST_BLOCK,
    }
}

pub(crate) fn key_digest(key: &str) -> KeyDigest {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// The throttle key of an address: IPv4 as is, IPv6 by its /64 (one subscriber usually
/// holds a whole /64, so keying single IPv6 addresses would give each attacker 2^64 keys).
pub fn address_key(kind: &str, ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{kind}:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("{kind}:{v4}"),
            None => {
                let s = v6.segments();
                format!("{kind}:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

struct Entry {
    /// Failures in the window, reserved attempts included.
    failures: u32,
    /// Reserved attempts whose outcome is not known yet.
    in_flight: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

impl Entry {
    fn blocked_at(&self, now: Instant) -> Option<Instant> {
        self.blocked_until.filter(|until| *until > now)
    }
}

pub struct Throttle {
    entries: Mutex<HashMap<KeyDigest, Entry>>,
    capacity: usize,
    /// The latest end of any block ever set, in nanoseconds since `origin`. Past it no key
    /// can be blocked, so a check needs neither the key's digest nor the lock: the token
    /// endpoint asks on every request.
    last_block_end: AtomicU64,
    origin: Instant,
    /// The shared throttle's database failed last time it was asked (logged once per
    /// episode; meanwhile this copy alone decides).
    pub(crate) shared_down: AtomicBool,
    /// When the shared throttle's old rows were last pruned, in Unix ms.
    pub(crate) shared_pruned_at: AtomicI64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::with_capacity(MAX_KEYS)
    }
}

fn retry_after(until: Instant, now: Instant) -> u64 {
    (until - now).as_secs().max(1)
}

impl Throttle {
    pub fn new() -> Self {
        Self::default()
    }

    /// A throttle that remembers at most `capacity` keys.
    pub fn with_capacity(capacity: usize) -> Self {
        Throttle {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            last_block_end: AtomicU64::new(0),
            origin: Instant::now(),
            shared_down: AtomicBool::new(false),
            shared_pruned_at: AtomicI64::new(0),
        }
    }

    fn since_origin(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// False when no key is blocked now; true when one may be.
    pub fn anything_blocked(&self) -> bool {
        self.since_origin(Instant::now()) < self.last_block_end.load(Ordering::Acquire)
    }

    fn lock(&self) -> parking_lot::MutexGuard<'_, HashMap<KeyDigest, Entry>> {
        self.entries.lock()
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Err(seconds)` while the key is refused.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        if !self.anything_blocked() {
            return Ok(());
        }
        let now = Instant::now();
        let entries = self.lock();
        match entries
            .get(&key_digest(key))
            .and_then(|e| e.blocked_at(now))
        {
            Some(until) => Err(retry_after(until, now)),
            None => Ok(()),
        }
    }

    /// Makes room for one more key: forgets keys whose window has passed, then the oldest
    /// unblocked ones. False when every remembered key is actively blocked.
    fn make_room(&self, entries: &mut HashMap<KeyDigest, Entry>, now: Instant) -> bool {
        if entries.len() < self.capacity {
            return true;
        }
        entries.retain(|_, e| {
            e.in_flight > 0 || e.blocked_at(now).is_some() || now - e.last_failure < WINDOW
        });
        if entries.len() < self.capacity {
            return true;
        }
        let mut unblocked: Vec<(Instant, KeyDigest)> = entries
            .iter()
            .filter(|(_, e)| e.blocked_at(now).is_none() && e.in_flight == 0)
            .map(|(k, e)| (e.last_failure, *k))
            .collect();
        if unblocked.is_empty() {
            return false;
        }
        let evict = (self.capacity / EVICT_FRACTION).clamp(1, unblocked.len());
        unblocked.select_nth_unstable_by_key(evict - 1, |(at, _)| *at);
        for (_, key) in &unblocked[..evict] {
            entries.remove(key);
        }
        true
    }

    /// Counts one failure of `key` (reserved or settled); the key is refused from the
    /// `limit`-th one on. Returns how long to hold the failed answer back.
    fn count_failure(&self, key: &str, limit: u32, in_flight: bool) -> Duration {
        let now = Instant::now();
        let digest = key_digest(key);
        let mut entries = self.lock();
        if !entries.contains_key(&digest) && !self.make_room(&mut entries, now) {
            // Every remembered key is an active block: this one cannot be remembered, but
            // none of those blocks is lifted to make room.
            tracing::warn!("throttle table full of active blocks; a new key goes uncounted");
            return Duration::ZERO;
        }
        let entry = entries.entry(digest).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            last_failure: now,
            blocked_until: None,
        });
        if now.duration_since(entry.last_failure) > WINDOW && entry.in_flight == 0 {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        if in_flight {
            entry.in_flight += 1;
        }
        entry.last_failure = now;
        if let Some(block) = rule(limit).block_for(entry.failures) {
            entry.blocked_until = Some(now + block);
            self.last_block_end
                .fetch_max(self.since_origin(now + block), Ordering::AcqRel);
        }
        (SLOW_DOWN_STEP * (entry.failures - 1).min(10)).min(LONGEST_SLOW_DOWN)
    }

    /// Adopts a block the shared throttle holds: `key` is refused at least until `until`.
    /// Only blocks are copied, not counts of failures: a success on another replica
    /// forgets the key's failures in the database but not here, and a copied count would
    /// then outlive it. Nothing here is lowered either.
    pub(crate) fn mirror(&self, key: &KeyDigest, until: Instant) {
        let now = Instant::now();
        if until <= now {
            return;
        }
        let mut entries = self.lock();
        if !entries.contains_key(key) && !self.make_room(&mut entries, now) {
            tracing::warn!("throttle table full of active blocks; a shared block goes unseen");
            return;
        }
        let entry = entries.entry(*key).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            last_failure: now,
            blocked_until: None,
        });
        entry.blocked_until = Some(entry.blocked_until.map_or(until, |b| b.max(until)));
        self.last_block_end
            .fetch_max(self.since_origin(until), Ordering::AcqRel);
    }

    /// Counts a failure; the key is refused from the `limit`-th one on. Returns how long to
    /// hold this failed answer back: failures of one key slow down before they are refused.
    pub fn fail(&self, key: &str, limit: u32) -> Duration {
        self.count_failure(key, limit, false)
    }

    /// Reserves one attempt of `key` before a slow check: `Err(seconds)` while the key is
    /// refused; otherwise the attempt already counts as a failure, so parallel attempts
    /// beyond the limit are refused before any of them is checked. Settle it with
    /// [`Attempt::failed`], [`Attempt::succeeded`] or [`Attempt::give_back`]; an attempt
    /// dropped unsettled stays a failure.
    pub fn reserve(&self, key: &str, limit: u32) -> Result<Attempt<'_>, u64> {
        {
            let now = Instant::now();
            let entries = self.lock();
            if let Some(until) = entries
                .get(&key_digest(key))
                .and_then(|e| e.blocked_at(now))
            {
                return Err(retry_after(until, now));
            }
        }
        let delay = self.count_failure(key, limit, true);
        Ok(Attempt {
            throttle: self,
            key: key_digest(key),
            limit,
            delay,
            settled: false,
        })
    }

    pub fn succeed(&self, key: &str) {
        self.lock().remove(&key_digest(key));
    }

    /// Ends one reserved attempt. `forget_failures`: the key's earlier failures go too
    /// (a right password proves the earlier typos were its owner's); otherwise only this
    /// attempt is given back.
    fn settle(&self, key: &KeyDigest, limit: u32, outcome: Outcome) {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(key) else {
            return;
        };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        match outcome {
            Outcome::Failed => return,
            Outcome::GivenBack => entry.failures = entry.failures.saturating_sub(1),
            // Other attempts still in flight keep counting.
            Outcome::Succeeded => entry.failures = entry.in_flight,
        }
        if entry.failures < limit {
            entry.blocked_until = None;
        }
        if entry.failures == 0 && entry.in_flight == 0 {
            entries.remove(key);
        }
    }
}

#[derive(Clone, Copy)]
enum Outcome {
    Failed,
    Succeeded,
    GivenBack,
}

/// An attempt reserved with [`Throttle::reserve`].
#[must_use = "an attempt is settled with failed, succeeded or give_back"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    key: KeyDigest,
    limit: u32,
    delay: Duration,
    settled: bool,
}

impl Attempt<'_> {
    /// The attempt failed (it was counted when reserved). Returns how long to hold the
    /// failed answer back.
    pub fn failed(mut self) -> Duration {
        self.settled = true;
        self.throttle.settle(&self.key, self.limit, Outcome::Failed);
        self.delay
    }

    /// The attempt succeeded: the key's failures are forgotten, but other attempts still
    /// in flight keep counting.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle
            .settle(&self.key, self.limit, Outcome::Succeeded);
    }

    /// The attempt proved nothing (its check never ran, or it was right): it no longer
    /// counts, and the key's other failures stay.
    pub fn give_back(mut self) {
        self.settled = true;
        self.throttle
            .settle(&self.key, self.limit, Outcome::GivenBack);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.settle(&self.key, self.limit, Outcome::Failed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_one_key_after_the_limit_only() {
        let t = Throttle::new();
        for i in 0..4u32 {
            let delay = t.fail("user:ana", 5);
            assert_eq!(
                delay,
                Duration::from_millis(100 * u64::from(i)),
                "slows down"
            );
            assert!(t.check("user:ana").is_ok());
        }
        let _ = t.fail("user:ana", 5);
        let retry = t.check("user:ana").unwrap_err();
        assert!((1..=30).contains(&retry));
        assert!(t.check("user:luis").is_ok());
        t.succeed("user:ana");
        assert!(t.check("user:ana").is_ok());
    }

    /// The check's fast path: nothing is reported blocked before a block is set, and a
    /// block shows until it ends, whatever the failures of other keys.
    #[test]
    fn anything_blocked_follows_the_latest_block() {
        let t = Throttle::new();
        assert!(!t.anything_blocked());
        for _ in 0..4 {
            let _ = t.fail("client:x", 5);
        }
        assert!(
            !t.anything_blocked(),
            "failures below the limit block nothing"
        );
        let _ = t.fail("client:x", 5);
        assert!(t.anything_blocked());
        assert!(t.check("client:x").is_err());
        // Failures of another key below its limit do not hide the block.
        let _ = t.fail("client:y", 5);
        assert!(t.anything_blocked());
        assert!(t.check("client:x").is_err());
    }

    #[test]
    fn blocks_double_up_to_the_longest() {
        let t = Throttle::new();
        for _ in 0..5 {
            let _ = t.fail("k", 5);
        }
        assert!((16..=30).contains(&t.check("k").unwrap_err()));
        let _ = t.fail("k", 5);
        assert!((31..=60).contains(&t.check("k").unwrap_err()));
        for _ in 0..20 {
            let _ = t.fail("k", 5);
        }
        assert!((600..=900).contains(&t.check("k").unwrap_err()));
        assert_eq!(t.fail("k", 5), LONGEST_SLOW_DOWN);
    }

    #[test]
    fn parallel_reservations_beyond_the_limit_are_refused() {
        let t = Throttle::new();
        let held: Vec<_> = (0..5).map(|_| t.reserve("u", 5).expect("room")).collect();
        assert!(t.reserve("u", 5).is_err(), "the sixth waits for none");
        assert!(t.check("u").is_err());
        drop(held);
        assert!(t.check("u").is_err(), "unsettled attempts stay failures");
    }

    #[test]
    fn a_success_forgets_earlier_failures_but_not_those_in_flight() {
        let t = Throttle::new();
        for _ in 0..3 {
            let _ = t.reserve("u", 5).unwrap().failed();
        }
        let others: Vec<_> = (0..2).map(|_| t.reserve("u", 5).unwrap()).collect();
        let right = t.reserve("u", 5);
        assert!(right.is_err(), "five reserved: blocked");
        for a in others {
            a.give_back();
        }
        let right = t.reserve("u", 5).expect("room again");
        let pending = t.reserve("u", 5).expect("room");
        right.succeeded();
        // The pending one still counts; the three typos are forgotten.
        assert!(t.check("u").is_ok());
        let delay = pending.failed();
        assert_eq!(delay, Duration::from_millis(400));
        for _ in 0..3 {
            let _ = t.reserve("u", 5).unwrap().failed();
        }
        assert!(t.check("u").is_ok(), "four failures, under the limit");
        let _ = t.reserve("u", 5).unwrap().failed();
        assert!(t.check("u").is_err());
    }

    #[test]
    fn giving_back_keeps_the_other_failures() {
        let t = Throttle::new();
        for _ in 0..4 {
            let _ = t.fail("u", 5);
        }
        let a = t.reserve("u", 5).unwrap();
        assert!(t.check("u").is_err());
        a.give_back();
        assert!(
            t.check("u").is_ok(),
            "the block came from the given-back one"
        );
        let _ = t.fail("u", 5);
        assert!(t.check("u").is_err(), "the four others stayed");
        assert!(!t.is_empty());
        let t = Throttle::new();
        t.reserve("v", 5).unwrap().give_back();
        assert!(t.is_empty(), "nothing left to remember");
    }

    #[test]
    fn a_full_table_keeps_every_active_block() {
        let t = Throttle::new();
        for _ in 0..5 {
            let _ = t.fail("login-user:superadmin", 5);
        }
        assert!(t.check("login-user:superadmin").is_err());
        for i in 0..(MAX_KEYS + 5_000) {
            let _ = t.fail(&format!("login-user:nadie{i}"), 5);
        }
        assert!(t.len() <= MAX_KEYS, "bounded: {}", t.len());
        assert!(
            t.check("login-user:superadmin").is_err(),
            "the block survives a flood of new keys"
        );
        // The newest keys are remembered; the oldest went first.
        let _ = t.fail(&format!("login-user:nadie{}", MAX_KEYS + 4_999), 2);
        assert!(
            t.check(&format!("login-user:nadie{}", MAX_KEYS + 4_999))
                .is_err()
        );
        let _ = t.fail("login-user:nadie0", 2);
        assert!(
            t.check("login-user:nadie0").is_ok(),
            "the oldest was forgotten"
        );
    }

    #[test]
    fn a_table_of_blocks_only_refuses_to_forget_them() {
        let t = Throttle::with_capacity(3);
        for key in ["a", "b", "c"] {
            let _ = t.fail(key, 1);
        }
        assert_eq!(t.fail("d", 1), Duration::ZERO);
        for key in ["a", "b", "c"] {
            assert!(t.check(key).is_err(), "{key} still blocked");
        }
        assert!(t.check("d").is_ok());
        assert_eq!(t.len(), 3);
    }

    /// A block copied from the shared throttle is refused like one of this replica's
    /// own, shows on the lock-free check, and never shortens a longer one.
    #[test]
    fn a_mirrored_block_is_refused_and_never_shortened() {
        let t = Throttle::new();
        let now = Instant::now();
        t.mirror(&key_digest("client:x"), now + Duration::from_secs(60));
        assert!(t.anything_blocked());
        assert!((31..=60).contains(&t.check("client:x").unwrap_err()));
        assert!(t.reserve("client:x", 5).is_err());
        assert!(t.check("client:y").is_ok());
        t.mirror(&key_digest("client:x"), now + Duration::from_secs(10));
        assert!((31..=60).contains(&t.check("client:x").unwrap_err()));
        // A block already over, from a replica whose clock runs behind, changes nothing.
        t.mirror(&key_digest("client:z"), now);
        assert!(t.check("client:z").is_ok());
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn long_keys_cost_a_fixed_size() {
        let t = Throttle::new();
        let long = "x".repeat(64 * 1024);
        let _ = t.fail(&long, 1);
        assert!(t.check(&long).is_err());
        assert!(t.check(&"x".repeat(64 * 1024 - 1)).is_ok());
        assert_eq!(std::mem::size_of::<KeyDigest>(), 16);
    }

    #[test]
    fn ipv6_is_keyed_by_its_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key("ip", a), address_key("ip", b));
        assert_ne!(address_key("ip", a), address_key("ip", c));
        assert_eq!(address_key("ip", a), "ip:2001:db8:1:2::/64");
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(address_key("ip", v4), "ip:198.51.100.7");
        assert_eq!(address_key("ip", mapped), address_key("ip", v4));
        assert_ne!(
            address_key("ip", "198.51.100.8".parse().unwrap()),
            address_key("ip", v4)
        );
    }
}

//! Slows down guessing: after a number of failures for one key (a username, a client, an
//! address) the key is refused for a while, doubling with each further failure. Other keys
//! are not affected.

use std::collections::HashMap;
use std::sync::Mutex;
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
const MAX_KEYS: usize = 100_000;

struct Entry {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
}

impl Throttle {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(seconds)` while the key is refused.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        match entries.get(key).and_then(|e| e.blocked_until) {
            Some(until) if until > now => Err((until - now).as_secs().max(1)),
            _ => Ok(()),
        }
    }

    /// Counts a failure; the key is refused from the `limit`-th one on. Returns how long to
    /// hold this failed answer back: failures of one key slow down before they are refused.
    pub fn fail(&self, key: &str, limit: u32) -> Duration {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_KEYS {
            entries.retain(|_, e| now.duration_since(e.last_failure) < WINDOW);
            if entries.len() >= MAX_KEYS {
                entries.clear();
            }
        }
        let entry = entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        if now.duration_since(entry.last_failure) > WINDOW {
            entry.failures = 0;
        }
        entry.failures += 1;
        entry.last_failure = now;
        if entry.failures >= limit {
            let extra = (entry.failures - limit).min(5);
            let block = (FIRST_BLOCK * 2u32.pow(extra)).min(LONGEST_BLOCK);
            entry.blocked_until = Some(now + block);
        }
        (SLOW_DOWN_STEP * (entry.failures - 1).min(10)).min(LONGEST_SLOW_DOWN)
    }

    pub fn succeed(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
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
}

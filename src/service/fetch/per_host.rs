//! How many network fetches one host gets per minute, so that clients cannot make the
//! server hammer a site (their own or someone else's) through their documents. A fixed
//! window per host, in a bounded table.
//!
//! The failure throttle (`service::throttle`) does not fit: it counts failures and blocks
//! for growing times, where this counts every fetch, good or bad, over a plain minute.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The window each host's fetches are counted in.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Most hosts remembered: past it, hosts whose window is over are forgotten, then the one
/// whose window began first (a flood of new hosts resets the oldest count rather than
/// stopping every fetch).
pub const MAX_HOSTS: usize = 10_000;

/// One host's current window: when it began and how many fetches it counted.
struct Window {
    started: Instant,
    fetches: u32,
}

/// The fetches of each host in its current window.
pub struct PerHostLimit {
    limit: u32,
    capacity: usize,
    hosts: Mutex<HashMap<String, Window>>,
}

impl PerHostLimit {
    /// `limit` fetches per host per [`WINDOW`] (at least one), for at most `capacity` hosts.
    pub fn new(limit: u32, capacity: usize) -> PerHostLimit {
        PerHostLimit {
            limit: limit.max(1),
            capacity: capacity.max(1),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one fetch of `host` at `now`; `Err(seconds)` to wait when its window is full
    /// (and then nothing is counted).
    pub fn take(&self, host: &str, now: Instant) -> Result<(), u64> {
        let mut hosts = self.hosts.lock();
        if let Some(window) = hosts.get_mut(host) {
            if now.duration_since(window.started) >= WINDOW {
                *window = Window {
                    started: now,
                    fetches: 0,
                };
            }
            if window.fetches >= self.limit {
                let left = WINDOW.saturating_sub(now.duration_since(window.started));
                return Err(left.as_secs_f64().ceil().max(1.0) as u64);
            }
            window.fetches += 1;
            return Ok(());
        }
        if hosts.len() >= self.capacity {
            hosts.retain(|_, w| now.duration_since(w.started) < WINDOW);
        }
        if hosts.len() >= self.capacity
            && let Some(oldest) = hosts
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(h, _)| h.clone())
        {
            hosts.remove(&oldest);
        }
        hosts.insert(
            host.to_string(),
            Window {
                started: now,
                fetches: 1,
            },
        );
        Ok(())
    }

    /// How many hosts are remembered.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.hosts.lock().len()
    }

    /// True when no host is remembered.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_gets_its_limit_per_window_and_others_theirs() {
        let limit = PerHostLimit::new(3, MAX_HOSTS);
        let now = Instant::now();
        for _ in 0..3 {
            assert_eq!(limit.take("a.example", now), Ok(()));
        }
        assert_eq!(limit.take("a.example", now), Err(60));
        let later = now + Duration::from_millis(59_500);
        assert_eq!(limit.take("a.example", later), Err(1), "half a second left");
        assert_eq!(limit.take("b.example", now), Ok(()));
        // A new window, a new count.
        let next = now + WINDOW;
        for _ in 0..3 {
            assert_eq!(limit.take("a.example", next), Ok(()));
        }
        assert!(limit.take("a.example", next).is_err());
    }

    #[test]
    fn a_limit_of_zero_still_lets_one_through() {
        let limit = PerHostLimit::new(0, 10);
        let now = Instant::now();
        assert_eq!(limit.take("h", now), Ok(()));
        assert!(limit.take("h", now).is_err());
    }

    #[test]
    fn the_table_is_bounded_and_forgets_the_oldest() {
        let limit = PerHostLimit::new(1, 3);
        let now = Instant::now();
        let second = Duration::from_secs(1);
        for (i, host) in ["a", "b", "c"].iter().enumerate() {
            assert!(limit.take(host, now + second * i as u32).is_ok());
        }
        assert!(limit.take("d", now + second * 3).is_ok());
        assert_eq!(limit.len(), 3);
        assert!(limit.take("a", now + second * 4).is_ok(), "a was forgotten");
        assert!(limit.take("c", now + second * 4).is_err(), "c was kept");
        // Hosts whose window is over go before any other.
        let limit = PerHostLimit::new(1, 2);
        assert!(limit.take("old", now).is_ok());
        assert!(limit.take("recent", now + second * 30).is_ok());
        assert!(limit.take("new", now + WINDOW + second).is_ok());
        assert!(limit.take("recent", now + WINDOW + second).is_err());
        assert!(!limit.is_empty());
    }
}

//! The documents fetched, kept while their `Cache-Control` says they are fresh, within
//! bounds: how long (at least a minute, at most a day) and how much (a number of entries
//! and a budget of memory), the least recently used going first.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a document served without `Cache-Control: max-age` is kept.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(5 * 60);
/// A `max-age` below this is raised to it: a client cannot make the server fetch its
/// document at every request by announcing a short lifetime. A client that needs a change
/// seen sooner serves `no-cache` or `no-store`, and the per-host throttle bounds those.
pub const SHORTEST_LIFETIME: Duration = Duration::from_secs(60);
/// A `max-age` above this is lowered to it: a changed document is seen within a day.
pub const LONGEST_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The estimated memory all kept documents may take together: a parsed document can be
/// several times its bytes (every `0` of an array is a whole JSON value), so the number of
/// entries alone does not bound it.
pub const MEMORY_BUDGET: usize = 32 * 1024 * 1024;

/// How long a response may be kept, from its `Cache-Control` and `Age` headers: `None` when
/// it must not be kept (`no-store`, `no-cache`, `max-age=0`, a `max-age` that is not a
/// number, or an `Age` past the `max-age`).
pub fn lifetime(cache_control: Option<&str>, age: Option<&str>) -> Option<Duration> {
    let mut max_age: Option<u64> = None;
    for directive in cache_control.unwrap_or("").split(',') {
        let (name, value) = match directive.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (directive.trim(), None),
        };
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return None;
        }
        if name.eq_ignore_ascii_case("max-age") {
            // RFC 9111 §4.2.1: an invalid lifetime is stale; of several, the shortest.
            let seconds = value.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            max_age = Some(max_age.map_or(seconds, |m| m.min(seconds)));
        }
    }
    let Some(max_age) = max_age else {
        return Some(DEFAULT_LIFETIME);
    };
    let age = age.and_then(|a| a.trim().parse::<u64>().ok()).unwrap_or(0);
    let left = max_age.saturating_sub(age);
    if left == 0 {
        return None;
    }
    Some(Duration::from_secs(left).clamp(SHORTEST_LIFETIME, LONGEST_LIFETIME))
}

/// A rough count of the bytes a parsed document takes in memory.
pub fn weight(value: &Value) -> usize {
    let own = std::mem::size_of::<Value>();
    own + match value {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(weight).sum(),
        // Each entry: its key, its value, and the map's bookkeeping.
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + 32 + weight(v)).sum(),
        Value::Null | Value::Bool(_) | Value::Number(_) => 0,
    }
}

struct Entry {
    value: Arc<Value>,
    expires: Instant,
    weight: usize,
    /// When it was last read or stored, as a tick of [`Cache::clock`].
    used: u64,
}

/// A bounded map from URL to document.
pub struct Cache {
    entries: HashMap<String, Entry>,
    capacity: usize,
    budget: usize,
    weight: usize,
    clock: u64,
}

impl Cache {
    /// At most `capacity` documents, together at most `budget` bytes by [`weight`].
    pub fn new(capacity: usize, budget: usize) -> Cache {
        Cache {
            entries: HashMap::new(),
            capacity,
            budget,
            weight: 0,
            clock: 0,
        }
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// The document kept for `url`, while fresh at `now`.
    pub fn get(&mut self, url: &str, now: Instant) -> Option<Arc<Value>> {
        let tick = self.tick();
        let entry = self.entries.get_mut(url)?;
        if entry.expires <= now {
            self.remove(url);
            return None;
        }
        entry.used = tick;
        Some(entry.value.clone())
    }

    /// Forgets the document kept for `url`, if any.
    pub fn remove(&mut self, url: &str) {
        if let Some(entry) = self.entries.remove(url) {
            self.weight -= entry.weight;
        }
    }

    /// Keeps `value` for `url` until `expires`, forgetting the expired entries and then the
    /// least recently used ones to make room. A document alone over the budget is not kept.
    pub fn insert(&mut self, url: &str, value: Arc<Value>, expires: Instant, now: Instant) {
        self.remove(url);
        let weight = weight(&value);
        if self.capacity == 0 || weight > self.budget {
            return;
        }
        if self.entries.len() >= self.capacity || self.weight + weight > self.budget {
            let before = self.entries.len();
            self.entries.retain(|_, e| e.expires > now);
            if self.entries.len() != before {
                self.weight = self.entries.values().map(|e| e.weight).sum();
            }
        }
        while self.entries.len() >= self.capacity || self.weight + weight > self.budget {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.remove(&oldest);
        }
        let used = self.tick();
        self.weight += weight;
        self.entries.insert(
            url.to_string(),
            Entry {
                value,
                expires,
                weight,
                used,
            },
        );
    }

    /// How many documents are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no document is kept.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[test]
    fn cache_control_decides_how_long_a_document_is_kept() {
        let cases: &[(Option<&str>, Option<&str>, Option<Duration>)] = &[
            (None, None, Some(DEFAULT_LIFETIME)),
            (Some(""), None, Some(DEFAULT_LIFETIME)),
            (Some("public"), None, Some(DEFAULT_LIFETIME)),
            (Some("max-age=600"), None, secs(600)),
            (Some("public, max-age=600"), None, secs(600)),
            (Some("MAX-AGE=600"), None, secs(600)),
            (Some("max-age=\"600\""), None, secs(600)),
            (Some(" max-age = 600 "), None, secs(600)),
            // Raised to a minute, lowered to a day.
            (Some("max-age=1"), None, Some(SHORTEST_LIFETIME)),
            (Some("max-age=59"), None, Some(SHORTEST_LIFETIME)),
            (Some("max-age=60"), None, secs(60)),
            (Some("max-age=61"), None, secs(61)),
            (Some("max-age=86400"), None, secs(86_400)),
            (Some("max-age=86401"), None, Some(LONGEST_LIFETIME)),
            (
                Some("max-age=99999999999999999999"),
                None,
                None, // not a u64: invalid, so stale
            ),
            (Some("max-age=31536000"), None, Some(LONGEST_LIFETIME)),
            // Not kept.
            (Some("no-store"), None, None),
            (Some("No-Store"), None, None),
            (Some("max-age=600, no-store"), None, None),
            (Some("no-cache"), None, None),
            (Some("no-cache=\"set-cookie\""), None, None),
            (Some("private, no-cache"), None, None),
            (Some("max-age=0"), None, None),
            (Some("max-age"), None, None),
            (Some("max-age=abc"), None, None),
            (Some("max-age=-5"), None, None),
            // Of two, the shorter.
            (Some("max-age=600, max-age=120"), None, secs(120)),
            (Some("max-age=120, max-age=600"), None, secs(120)),
            // The age a shared cache has already held it counts against max-age.
            (Some("max-age=600"), Some("100"), secs(500)),
            (Some("max-age=600"), Some("590"), Some(SHORTEST_LIFETIME)),
            (Some("max-age=600"), Some("600"), None),
            (Some("max-age=600"), Some("9000"), None),
            (Some("max-age=600"), Some("nonsense"), secs(600)),
            (None, Some("100"), Some(DEFAULT_LIFETIME)),
            // Other directives change nothing.
            (
                Some("s-maxage=5, must-revalidate"),
                None,
                Some(DEFAULT_LIFETIME),
            ),
        ];
        for (cache_control, age, want) in cases {
            assert_eq!(
                lifetime(*cache_control, *age),
                *want,
                "Cache-Control: {cache_control:?}, Age: {age:?}"
            );
        }
    }

    #[test]
    fn a_fresh_entry_is_served_and_an_expired_one_is_not() {
        let now = Instant::now();
        let mut cache = Cache::new(4, MEMORY_BUDGET);
        cache.insert("a", Arc::new(json!({"x": 1})), now + secs(60).unwrap(), now);
        assert_eq!(cache.get("a", now).as_deref(), Some(&json!({"x": 1})));
        assert!(cache.get("b", now).is_none());
        assert!(cache.get("a", now + secs(60).unwrap()).is_none());
        assert!(cache.is_empty(), "the expired entry went");
        assert_eq!(cache.weight, 0);
    }

    #[test]
    fn the_least_recently_used_goes_first() {
        let now = Instant::now();
        let later = now + secs(60).unwrap();
        let mut cache = Cache::new(2, MEMORY_BUDGET);
        cache.insert("a", Arc::new(json!({})), later, now);
        cache.insert("b", Arc::new(json!({})), later, now);
        assert!(cache.get("a", now).is_some());
        cache.insert("c", Arc::new(json!({})), later, now);
        assert_eq!(cache.len(), 2);
        assert!(
            cache.get("b", now).is_none(),
            "b was the least recently used"
        );
        assert!(cache.get("a", now).is_some());
        assert!(cache.get("c", now).is_some());
        // Storing again under the same URL replaces, without evicting another.
        cache.insert("c", Arc::new(json!({"v": 2})), later, now);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("a", now).is_some());
    }

    #[test]
    fn expired_entries_go_before_fresh_ones() {
        let now = Instant::now();
        let mut cache = Cache::new(2, MEMORY_BUDGET);
        cache.insert("old", Arc::new(json!({})), now + secs(10).unwrap(), now);
        cache.insert("fresh", Arc::new(json!({})), now + secs(600).unwrap(), now);
        let then = now + secs(20).unwrap();
        assert!(cache.get("fresh", now).is_some());
        // "old" was used after "fresh" was stored; still, it is expired, so it goes.
        assert!(cache.get("old", now).is_some());
        cache.insert("new", Arc::new(json!({})), then + secs(60).unwrap(), then);
        assert!(cache.get("fresh", then).is_some());
        assert!(cache.get("new", then).is_some());
    }

    #[test]
    fn the_memory_budget_bounds_the_cache() {
        let now = Instant::now();
        let later = now + secs(60).unwrap();
        let doc = json!({"keys": vec![0; 1000]});
        let one = weight(&doc);
        assert!(one > 1000 * std::mem::size_of::<Value>(), "{one}");
        let mut cache = Cache::new(100, one * 2 + one / 2);
        for url in ["a", "b", "c"] {
            cache.insert(url, Arc::new(doc.clone()), later, now);
        }
        assert_eq!(cache.len(), 2, "two fit the budget");
        assert!(cache.get("a", now).is_none());
        assert!(cache.weight <= one * 2 + one / 2);
        // A document alone over the budget is not kept, and evicts nothing.
        let mut small = Cache::new(100, one - 1);
        small.insert("x", Arc::new(json!({})), later, now);
        small.insert("big", Arc::new(doc), later, now);
        assert!(small.get("big", now).is_none());
        assert!(small.get("x", now).is_some());
        // Nothing is kept in a cache of no entries.
        let mut none = Cache::new(0, MEMORY_BUDGET);
        none.insert("x", Arc::new(json!({})), later, now);
        assert!(none.is_empty());
        cache.remove("b");
        cache.remove("c");
        assert_eq!(cache.weight, 0);
    }

    #[test]
    fn weight_counts_strings_keys_and_items() {
        let size = std::mem::size_of::<Value>();
        assert_eq!(weight(&json!(null)), size);
        assert_eq!(weight(&json!("abcd")), size + 4);
        assert_eq!(weight(&json!([1, 2])), 3 * size);
        assert_eq!(weight(&json!({"ab": true})), size + 2 + 32 + size);
    }
}

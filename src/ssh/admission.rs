//! Who may begin an SSH handshake, and where a connection stands until it signs in, so that
//! nobody who can reach the port can keep the admins out (OpenSSH's `MaxStartups`,
//! `PerSourceMaxStartups` and `LoginGraceTime`, and its penalties for sources that never
//! authenticate).
//!
//! A connection is *pending* from its accept until somebody is signed in on it: with a
//! registered key, or through the console's *Iniciar sesión*. Pending connections have caps
//! of their own, in all and per address: past a soft limit new ones are dropped at random,
//! more often as the count grows, and past a hard limit all are. Signed-in sessions are
//! counted apart (`--ssh-max-sessions`), so pending connections cannot fill them. A pending
//! connection that has not signed in within the login grace time is closed, and counts as
//! a failed handshake of its address: an address with too many is refused at accept, before
//! a key exchange is spent on it.

use crate::service::{Throttle, address_key};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `MaxStartups`-style limits: `soft` connections at once pass; past it a new one is
/// dropped with `rate` percent, rising linearly to every one at `hard`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Startups {
    pub soft: usize,
    pub rate: u8,
    pub hard: usize,
}

impl Startups {
    /// OpenSSH's default, 10:30:100.
    pub const DEFAULT: Startups = Startups {
        soft: 10,
        rate: 30,
        hard: 100,
    };

    /// Per address: a person opens a few at once; 3:30:5. Twenty addresses are needed to
    /// fill the default hard limit.
    pub const PER_ADDRESS_DEFAULT: Startups = Startups {
        soft: 3,
        rate: 30,
        hard: 5,
    };

    /// The chance, in parts of 10,000, that a new connection is dropped when `open`
    /// are pending already.
    fn drop_chance(self, open: usize) -> u32 {
        let hard = self.hard.max(1);
        let soft = self.soft.min(hard);
        if open >= hard {
            return 10_000;
        }
        if open < soft {
            return 0;
        }
        let rate = u64::from(self.rate.min(100)) * 100;
        // From `rate` at `soft` to 100 % at `hard`.
        let span = (hard - soft) as u64;
        let past = (open - soft) as u64;
        (rate + (10_000 - rate) * past / span) as u32
    }

    /// Whether a new connection is dropped, given a uniform draw in 0..10,000.
    pub fn drops(self, open: usize, draw: u32) -> bool {
        draw < self.drop_chance(open)
    }
}

/// Failed handshakes an address may have (in the throttle's window) before it is refused
/// at accept.
pub const HANDSHAKE_FAILURES: u32 = 20;

/// The connection caps and the handshake throttle of one SSH front end.
pub(super) struct Admission {
    pending: Slots,
    sessions: Slots,
    startups: Startups,
    per_address: Startups,
    handshakes: Throttle,
}

/// Why a connection was not admitted (its words are the debug log's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refusal {
    /// Too many pending connections (the random early drop, or the hard limit).
    #[error("too many unauthenticated connections")]
    Startups,
    /// The address failed too many handshakes lately.
    #[error("too many failed handshakes from this address")]
    Throttled,
}

impl Admission {
    pub(super) fn new(
        startups: Startups,
        per_address: Startups,
        max_sessions: usize,
        max_sessions_per_address: usize,
    ) -> Admission {
        Admission {
            pending: Slots::new(startups.hard, per_address.hard),
            sessions: Slots::new(max_sessions, max_sessions_per_address),
            startups,
            per_address,
            handshakes: Throttle::new(),
        }
    }

    /// A pending place for a new connection from `address`, or why not. `draw` is uniform
    /// in 0..10,000.
    pub(super) fn admit(&self, address: IpAddr, draw: u32) -> Result<Place, Refusal> {
        if self.handshakes.check(&handshake_key(address)).is_err() {
            return Err(Refusal::Throttled);
        }
        let (total, here) = self.pending.counts(address);
        // The early drop falls on addresses that are signing in already: one that has no
        // connection pending (an admin arriving during a flood) is refused only at the
        // hard limit, so a flood must come from more addresses than the hard limit allows
        // each before it can keep anybody out.
        let dropped = if here == 0 {
            total >= self.startups.hard
        } else {
            self.startups.drops(total, draw)
        };
        if dropped || self.per_address.drops(here, draw) {
            return Err(Refusal::Startups);
        }
        let slot = self.pending.take(address).ok_or(Refusal::Startups)?;
        Ok(Place(Arc::new(Mutex::new(Stand::Pending(slot)))))
    }

    /// The connection signed in: it moves to the sessions' caps, if they have room.
    pub(super) fn sign_in(&self, place: &Place) -> bool {
        let mut stand = place.0.lock();
        let address = match &*stand {
            Stand::Session { .. } => return true,
            Stand::Pending(slot) => slot.address,
        };
        match self.sessions.take(address) {
            Some(slot) => {
                *stand = Stand::Session { _slot: slot };
                self.handshakes.succeed(&handshake_key(address));
                true
            }
            None => false,
        }
    }

    /// A connection ended without anybody signing in on it.
    pub(super) fn failed_handshake(&self, address: IpAddr) {
        self.handshakes
            .fail(&handshake_key(address), HANDSHAKE_FAILURES);
    }

    /// Connections pending now.
    pub(super) fn pending(&self) -> usize {
        self.pending.count()
    }

    /// Signed-in sessions now.
    pub(super) fn sessions(&self) -> usize {
        self.sessions.count()
    }
}

fn handshake_key(address: IpAddr) -> String {
    address_key("ssh-handshake", address)
}

/// Where one connection stands under the caps; its place is given back when the last
/// clone is dropped.
#[derive(Clone)]
pub(super) struct Place(Arc<Mutex<Stand>>);

enum Stand {
    Pending(Slot),
    /// Held for its place under the sessions' caps, given back when dropped.
    Session {
        _slot: Slot,
    },
}

impl Place {
    pub(super) fn signed_in(&self) -> bool {
        matches!(&*self.0.lock(), Stand::Session { .. })
    }
}

/// Caps on connections, in all and per address. Cheap to clone.
#[derive(Clone)]
struct Slots(Arc<SlotsInner>);

struct SlotsInner {
    max: usize,
    max_per_address: usize,
    /// Connections per address; the sum is the total.
    taken: Mutex<HashMap<IpAddr, usize>>,
    total: AtomicUsize,
}

/// A connection's place under the caps, given back when dropped.
struct Slot {
    slots: Slots,
    address: IpAddr,
}

impl Slots {
    fn new(max: usize, max_per_address: usize) -> Slots {
        Slots(Arc::new(SlotsInner {
            max: max.max(1),
            max_per_address: max_per_address.max(1),
            taken: Mutex::new(HashMap::new()),
            total: AtomicUsize::new(0),
        }))
    }

    /// A place for a connection from `address`, if the caps allow one more.
    fn take(&self, address: IpAddr) -> Option<Slot> {
        let mut taken = self.0.taken.lock();
        let here = taken.get(&address).copied().unwrap_or(0);
        if here >= self.0.max_per_address || self.0.total.load(Ordering::Acquire) >= self.0.max {
            return None;
        }
        taken.insert(address, here + 1);
        self.0.total.fetch_add(1, Ordering::AcqRel);
        Some(Slot {
            slots: self.clone(),
            address,
        })
    }

    /// Connections in all, and from `address`.
    fn counts(&self, address: IpAddr) -> (usize, usize) {
        let taken = self.0.taken.lock();
        let here = taken.get(&address).copied().unwrap_or(0);
        (self.0.total.load(Ordering::Acquire), here)
    }

    fn count(&self) -> usize {
        self.0.total.load(Ordering::Acquire)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut taken = self.slots.0.taken.lock();
        if let Some(here) = taken.get_mut(&self.address) {
            *here -= 1;
            if *here == 0 {
                taken.remove(&self.address);
            }
        }
        self.slots.0.total.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn limits(soft: usize, rate: u8, hard: usize) -> Startups {
        Startups { soft, rate, hard }
    }

    #[test]
    fn caps_hold_in_all_and_per_address_and_places_come_back() {
        let slots = Slots::new(3, 2);
        let first = slots.take(A).unwrap();
        let _second = slots.take(A).unwrap();
        assert!(slots.take(A).is_none(), "a third from one address");
        let _third = slots.take(B).unwrap();
        assert!(slots.take(B).is_none(), "a fourth in all");
        assert_eq!(slots.count(), 3);
        drop(first);
        assert_eq!(slots.count(), 2);
        assert!(slots.take(A).is_some());
    }

    #[test]
    fn the_early_drop_rises_from_its_rate_at_soft_to_all_at_hard() {
        let s = Startups::DEFAULT;
        assert_eq!(s.drop_chance(0), 0);
        assert_eq!(s.drop_chance(9), 0);
        assert_eq!(s.drop_chance(10), 3_000);
        assert_eq!(s.drop_chance(55), 6_500);
        assert_eq!(s.drop_chance(99), 9_922);
        assert_eq!(s.drop_chance(100), 10_000);
        assert_eq!(s.drop_chance(1_000), 10_000);
        // The draw decides below the chance only.
        assert!(s.drops(10, 2_999));
        assert!(!s.drops(10, 3_000));
        assert!(!s.drops(9, 0));
        assert!(s.drops(100, 9_999));
    }

    #[test]
    fn limits_that_do_not_make_sense_still_hold() {
        let odd = limits(50, 200, 10);
        assert_eq!(odd.drop_chance(9), 0);
        assert_eq!(odd.drop_chance(10), 10_000);
        let zero = limits(0, 0, 0);
        assert_eq!(zero.drop_chance(0), 0);
        assert_eq!(zero.drop_chance(1), 10_000);
    }

    #[test]
    fn pending_connections_cannot_fill_the_sessions() {
        let admission = Admission::new(limits(100, 30, 100), limits(100, 30, 100), 2, 2);
        let pending: Vec<_> = (0..50).map(|_| admission.admit(A, 0).unwrap()).collect();
        assert_eq!(admission.pending(), 50);
        assert_eq!(admission.sessions(), 0);
        let admin = admission.admit(B, 0).unwrap();
        assert!(admission.sign_in(&admin));
        assert!(admin.signed_in());
        assert_eq!((admission.pending(), admission.sessions()), (50, 1));
        // Signing in twice keeps one place.
        assert!(admission.sign_in(&admin));
        assert_eq!(admission.sessions(), 1);
        assert!(admission.sign_in(&pending[0]));
        assert!(!admission.sign_in(&pending[1]), "the sessions' cap holds");
        assert!(!pending[1].signed_in());
        drop(pending);
        drop(admin);
        assert_eq!((admission.pending(), admission.sessions()), (0, 0));
    }

    #[test]
    fn past_the_hard_limit_none_is_admitted_and_past_soft_some_are_dropped() {
        let admission = Admission::new(limits(2, 50, 4), limits(10, 0, 10), 10, 10);
        let _kept: Vec<_> = (0..2).map(|_| admission.admit(A, 0).unwrap()).collect();
        // At soft, half the draws drop.
        assert_eq!(admission.admit(A, 4_999).err(), Some(Refusal::Startups));
        let third = admission.admit(A, 5_000).unwrap();
        let _fourth = admission.admit(B, 9_999).unwrap();
        assert_eq!(admission.admit(B, 9_999).err(), Some(Refusal::Startups));
        drop(third);
        assert!(admission.admit(B, 9_999).is_ok());
    }

    #[test]
    fn an_address_with_nothing_pending_is_refused_only_at_the_hard_limit() {
        let admission = Admission::new(limits(1, 100, 3), limits(10, 0, 10), 10, 10);
        let _first = admission.admit(A, 0).unwrap();
        assert_eq!(admission.admit(A, 9_999).err(), Some(Refusal::Startups));
        let _b = admission.admit(B, 0).unwrap();
        let c: IpAddr = [192, 0, 2, 3].into();
        let _c = admission.admit(c, 0).unwrap();
        let d: IpAddr = [192, 0, 2, 4].into();
        assert_eq!(admission.admit(d, 9_999).err(), Some(Refusal::Startups));
    }

    #[test]
    fn per_address_limits_hold_while_others_get_in() {
        let admission = Admission::new(Startups::DEFAULT, Startups::PER_ADDRESS_DEFAULT, 10, 10);
        let _held: Vec<_> = (0..5).map(|_| admission.admit(A, 9_999).unwrap()).collect();
        assert_eq!(admission.admit(A, 9_999).err(), Some(Refusal::Startups));
        assert_eq!(admission.admit(A, 0).err(), Some(Refusal::Startups));
        assert!(admission.admit(B, 9_999).is_ok(), "another address gets in");
    }

    #[test]
    fn an_address_that_keeps_failing_handshakes_is_refused_at_accept() {
        let admission = Admission::new(Startups::DEFAULT, Startups::PER_ADDRESS_DEFAULT, 10, 10);
        for _ in 0..HANDSHAKE_FAILURES {
            assert!(admission.admit(A, 0).is_ok());
            admission.failed_handshake(A);
        }
        assert_eq!(admission.admit(A, 0).err(), Some(Refusal::Throttled));
        assert!(
            admission.admit(B, 0).is_ok(),
            "other addresses are not affected"
        );
    }
}

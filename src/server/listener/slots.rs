//! The connection caps: open connections per address, and the short refusal of one over a
//! cap.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use tokio::net::TcpStream;

/// Open connections per address, capped.
pub(super) struct AddressSlots {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressSlots {
    pub(super) fn new(max: usize) -> Self {
        AddressSlots {
            max,
            open: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn take(self: &Arc<Self>, ip: IpAddr) -> Option<AddressSlot> {
        let key = address_key(ip);
        let mut open = self.open.lock();
        let count = open.entry(key).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            slots: self.clone(),
            key,
        })
    }
}

/// One caller's key: its IPv4 address, or the /64 of its IPv6 address (one host has them all).
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// Gives the address's slot back when the connection ends.
pub(super) struct AddressSlot {
    slots: Arc<AddressSlots>,
    key: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock();
        if let Some(count) = open.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.key);
            }
        }
    }
}

/// A connection over the cap gets a short 503 if its buffer takes it, and is closed; the
/// write never waits.
pub(super) fn refuse(stream: TcpStream, cap: &'static str) {
    tracing::debug!(cap, "connection over the cap refused");
    let _ = stream.try_write(&BUSY);
}

/// The refusal sent to a connection over the cap, built once.
static BUSY: std::sync::LazyLock<Vec<u8>> = std::sync::LazyLock::new(|| {
    let body = "{\"type\":\"urn:consola:busy\",\"title\":\"Service Unavailable\",\"status\":503,\
                \"detail\":\"Demasiadas conexiones abiertas; reintente en un momento\"}";
    format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n\
         Retry-After: 1\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_callers_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        assert_eq!(address_key(mapped), "127.0.0.2".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn an_address_gets_its_slots_back() {
        let slots = Arc::new(AddressSlots::new(2));
        let ip: IpAddr = "127.0.0.2".parse().unwrap();
        let first = slots.take(ip).unwrap();
        let _second = slots.take(ip).unwrap();
        assert!(slots.take(ip).is_none());
        assert!(slots.take("127.0.0.1".parse().unwrap()).is_some());
        drop(first);
        assert!(slots.take(ip).is_some());
    }
}

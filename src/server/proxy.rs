//! Trusted reverse proxies (`--trusted-proxy CIDR`): when the TCP peer is one of them, the
//! client's address is the one the proxies recorded in `Forwarded` (RFC 7239) or
//! `X-Forwarded-For`. Anyone else's headers are ignored: a client could write anything there.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;
use std::str::FromStr;

/// The networks whose peers are believed about the client's address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `--trusted-proxy` value: a network (`10.0.0.0/8`, `::1/128`) or one address.
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = IpNet::from_str(text) {
        return Ok(net.trunc());
    }
    IpAddr::from_str(text)
        .map(IpNet::from)
        .map_err(|_| format!("«{text}» no es una red CIDR (p. ej. 10.0.0.0/8) ni una dirección IP"))
}

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> TrustedProxies {
        TrustedProxies(networks)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind `peer` (itself trusted): the nearest address, walking from the
    /// last hop back, that is not one of the trusted proxies. `Forwarded` wins over
    /// `X-Forwarded-For` when both are present. A hop that cannot be read (`unknown`, an
    /// obfuscated name) ends the walk at the proxy that wrote it.
    pub fn client_of(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let hops = forwarded_hops(headers).or_else(|| x_forwarded_for_hops(headers));
        let Some(hops) = hops else {
            return peer;
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = hop else {
                return client;
            };
            client = *ip;
            if !self.contains(*ip) {
                return client;
            }
        }
        client
    }
}

/// The `for=` of every `Forwarded` element, in order; `None` without the header.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    let mut seen = false;
    for value in headers.get_all("forwarded") {
        seen = true;
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in text.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| value.trim().trim_matches('"'))
            });
            hops.push(node.and_then(node_address));
        }
    }
    seen.then_some(hops)
}

/// The addresses of `X-Forwarded-For`, in order; `None` without the header.
fn x_forwarded_for_hops(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut hops = Vec::new();
    let mut seen = false;
    for value in headers.get_all("x-forwarded-for") {
        seen = true;
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        hops.extend(text.split(',').map(|node| node_address(node.trim())));
    }
    seen.then_some(hops)
}

/// An address as a proxy writes it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`,
/// `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = IpAddr::from_str(node) {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = node.strip_prefix('[') {
        let (inside, _) = rest.split_once(']')?;
        return IpAddr::from_str(inside).ok().map(|ip| ip.to_canonical());
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    IpAddr::from_str(host).ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn cidrs_and_single_addresses_are_read() {
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_cidr("::1").unwrap().to_string(), "::1/128");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        let err = parse_cidr("proxy.local").unwrap_err();
        assert!(err.contains("proxy.local") && err.contains("CIDR"), "{err}");
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::new(vec![parse_cidr("10.0.0.0/8").unwrap()]);
        let peer = ip("10.0.0.1");
        // A client-written first entry is not believed past an untrusted hop.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.2")]);
        assert_eq!(trusted.client_of(peer, &h), ip("203.0.113.7"));
        let h = headers(&[
            ("forwarded", "for=6.6.6.6"),
            (
                "forwarded",
                "for=\"[2001:db8::17]:4711\";proto=https, for=10.0.0.9",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(trusted.client_of(peer, &h), ip("2001:db8::17"));
        let h = headers(&[("forwarded", "for=192.0.2.60:8080;by=10.0.0.1")]);
        assert_eq!(trusted.client_of(peer, &h), ip("192.0.2.60"));
        // Nothing readable: the proxy that wrote it.
        let h = headers(&[("forwarded", "for=unknown, for=10.0.0.3")]);
        assert_eq!(trusted.client_of(peer, &h), ip("10.0.0.3"));
        assert_eq!(trusted.client_of(peer, &HeaderMap::new()), peer);
    }

    #[test]
    fn mapped_addresses_match_their_ipv4_network() {
        let trusted = TrustedProxies::new(vec![parse_cidr("127.0.0.1").unwrap()]);
        assert!(trusted.contains(ip("::ffff:127.0.0.1")));
        assert!(!trusted.contains(ip("127.0.0.2")));
    }
}

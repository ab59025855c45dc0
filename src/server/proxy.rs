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
        self.forwarded(peer, headers).0
    }

    /// The scheme the client used to reach the outermost trusted proxy: the `proto` of the
    /// `Forwarded` element that names the client (see `client_of`), or the
    /// `X-Forwarded-Proto` entry at the client's place in `X-Forwarded-For` (or its only
    /// entry). `None` when the proxies say nothing of it.
    pub fn proto_of(&self, peer: IpAddr, headers: &HeaderMap) -> Option<Proto> {
        self.forwarded(peer, headers).1
    }

    fn forwarded(&self, peer: IpAddr, headers: &HeaderMap) -> (IpAddr, Option<Proto>) {
        let hops = forwarded_hops(headers).or_else(|| x_forwarded_hops(headers));
        let Some(hops) = hops else {
            return (peer, None);
        };
        let mut client = (peer, None);
        for hop in hops.iter().rev() {
            let Some(ip) = hop.from else {
                return client;
            };
            client = (ip, hop.proto);
            if !self.contains(ip) {
                return client;
            }
        }
        client
    }
}

/// A scheme a proxy recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Http,
    Https,
}

impl Proto {
    fn parse(text: &str) -> Option<Proto> {
        let text = text.trim().trim_matches('"');
        if text.eq_ignore_ascii_case("https") {
            Some(Proto::Https)
        } else if text.eq_ignore_ascii_case("http") {
            Some(Proto::Http)
        } else {
            None
        }
    }
}

/// One hop a proxy recorded: the address it was reached from, and the scheme.
struct Hop {
    from: Option<IpAddr>,
    proto: Option<Proto>,
}

/// The `for=` and `proto=` of every `Forwarded` element, in order; `None` without the
/// header.
fn forwarded_hops(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut seen = false;
    for value in headers.get_all("forwarded") {
        seen = true;
        let Ok(text) = value.to_str() else {
            hops.push(Hop {
                from: None,
                proto: None,
            });
            continue;
        };
        for element in text.split(',') {
            let param = |wanted: &str| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case(wanted)
                        .then(|| value.trim().trim_matches('"'))
                })
            };
            hops.push(Hop {
                from: param("for").and_then(node_address),
                proto: param("proto").and_then(Proto::parse),
            });
        }
    }
    seen.then_some(hops)
}

/// The addresses of `X-Forwarded-For`, in order, each with the `X-Forwarded-Proto` entry
/// at its place (or the only one); `None` without `X-Forwarded-For`.
fn x_forwarded_hops(headers: &HeaderMap) -> Option<Vec<Hop>> {
    let list = |name: &str| -> Option<Vec<Option<&str>>> {
        let mut entries = Vec::new();
        let mut seen = false;
        for value in headers.get_all(name) {
            seen = true;
            match value.to_str() {
                Ok(text) => entries.extend(text.split(',').map(|e| Some(e.trim()))),
                Err(_) => entries.push(None),
            }
        }
        seen.then_some(entries)
    };
    let addresses = list("x-forwarded-for")?;
    let protos = list("x-forwarded-proto").unwrap_or_default();
    let proto_at = |i: usize| match protos.as_slice() {
        [only] => *only,
        all if all.len() == addresses.len() => all[i],
        _ => None,
    };
    Some(
        addresses
            .iter()
            .enumerate()
            .map(|(i, node)| Hop {
                from: node.and_then(node_address),
                proto: proto_at(i).and_then(Proto::parse),
            })
            .collect(),
    )
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

    #[test]
    fn the_scheme_is_the_one_recorded_with_the_client() {
        let proxies = TrustedProxies::new(vec![parse_cidr("10.0.0.0/8").unwrap()]);
        let peer = ip("10.0.0.2");
        let forwarded = headers(&[(
            "forwarded",
            "for=203.0.113.7;proto=https, for=10.0.0.9;proto=http",
        )]);
        assert_eq!(proxies.proto_of(peer, &forwarded), Some(Proto::Https));
        assert_eq!(proxies.client_of(peer, &forwarded), ip("203.0.113.7"));
        let plain = headers(&[("forwarded", "for=203.0.113.7;proto=http")]);
        assert_eq!(proxies.proto_of(peer, &plain), Some(Proto::Http));
        let silent = headers(&[("forwarded", "for=203.0.113.7")]);
        assert_eq!(proxies.proto_of(peer, &silent), None);
        assert_eq!(proxies.proto_of(peer, &HeaderMap::new()), None);
        let odd = headers(&[("forwarded", "for=203.0.113.7;proto=gopher")]);
        assert_eq!(proxies.proto_of(peer, &odd), None);

        let xff = headers(&[
            ("x-forwarded-for", "203.0.113.7, 10.0.0.9"),
            ("x-forwarded-proto", "https, http"),
        ]);
        assert_eq!(proxies.proto_of(peer, &xff), Some(Proto::Https));
        let one = headers(&[
            ("x-forwarded-for", "203.0.113.7"),
            ("x-forwarded-proto", "HTTPS"),
        ]);
        assert_eq!(proxies.proto_of(peer, &one), Some(Proto::Https));
        let mismatched = headers(&[
            ("x-forwarded-for", "203.0.113.7, 10.0.0.9, 10.0.0.8"),
            ("x-forwarded-proto", "https, http"),
        ]);
        assert_eq!(proxies.proto_of(peer, &mismatched), None);
    }
}

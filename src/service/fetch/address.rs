//! Which IP addresses a fetch may connect to: the public ones only. Everything a client
//! could use to reach the server's own network (loopback, private and link-local ranges,
//! the clouds' metadata services) or that no public server answers on (documentation,
//! benchmarking, multicast, reserved ranges) is refused, in IPv4 and IPv6, and an IPv6
//! address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by it.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What an address is, as far as fetching goes: [`AddressKind::Public`] or the reason it is
/// refused. Displayed as the adjective of «la dirección … es …».
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    /// A globally routed unicast address: may be fetched.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918 ranges, IPv6 unique-local (fc00::/7) and site-local (fec0::/10), the
    /// local-use NAT64 prefix (64:ff9b:1::/48).
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// A cloud's instance metadata or host service (169.254.169.254, fd00:ec2::254,
    /// 100.100.100.200, 168.63.129.16 …): credentials live there.
    CloudMetadata,
    /// The carriers' shared space (CGNAT), 100.64.0.0/10.
    Shared,
    /// 0.0.0.0, ::.
    Unspecified,
    /// 0.0.0.0/8 other than 0.0.0.0 ("this network").
    ThisNetwork,
    /// 255.255.255.255.
    Broadcast,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15, 2001:2::/48.
    Benchmarking,
    /// Set aside by the IETF or not allocated for unicast: 240.0.0.0/4, 192.0.0.0/24,
    /// 192.88.99.0/24, 2001::/23, 100::/64, IPv4-compatible IPv6, anything outside 2000::/3.
    Reserved,
}

impl AddressKind {
    /// True for the only kind that may be fetched.
    pub fn is_public(self) -> bool {
        self == AddressKind::Public
    }
}

impl fmt::Display for AddressKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressKind::Public => "pública",
            AddressKind::Loopback => "de bucle local (loopback)",
            AddressKind::Private => "privada",
            AddressKind::LinkLocal => "de enlace local",
            AddressKind::CloudMetadata => "de metadatos de la nube",
            AddressKind::Shared => "compartida de operador (CGNAT)",
            AddressKind::Unspecified => "no especificada",
            AddressKind::ThisNetwork => "de «esta red» (0.0.0.0/8)",
            AddressKind::Broadcast => "de difusión",
            AddressKind::Multicast => "de multidifusión",
            AddressKind::Documentation => "de documentación",
            AddressKind::Benchmarking => "de pruebas de rendimiento",
            AddressKind::Reserved => "reservada",
        })
    }
}

use AddressKind::*;

/// IPv4 ranges that are not public, as (network, prefix length, kind). The first match
/// wins, so single addresses come before the ranges that hold them.
const V4: &[(Ipv4Addr, u32, AddressKind)] = &[
    // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle…
    (Ipv4Addr::new(169, 254, 169, 254), 32, CloudMetadata),
    // AWS ECS task metadata.
    (Ipv4Addr::new(169, 254, 170, 2), 32, CloudMetadata),
    // Alibaba Cloud.
    (Ipv4Addr::new(100, 100, 100, 200), 32, CloudMetadata),
    // Azure's WireServer: outside every special range, so only this entry refuses it.
    (Ipv4Addr::new(168, 63, 129, 16), 32, CloudMetadata),
    // Oracle Cloud's older metadata address.
    (Ipv4Addr::new(192, 0, 0, 192), 32, CloudMetadata),
    (Ipv4Addr::new(0, 0, 0, 0), 32, Unspecified),
    (Ipv4Addr::new(255, 255, 255, 255), 32, Broadcast),
    (Ipv4Addr::new(0, 0, 0, 0), 8, ThisNetwork),
    (Ipv4Addr::new(10, 0, 0, 0), 8, Private),
    (Ipv4Addr::new(100, 64, 0, 0), 10, Shared),
    (Ipv4Addr::new(127, 0, 0, 0), 8, Loopback),
    (Ipv4Addr::new(169, 254, 0, 0), 16, LinkLocal),
    (Ipv4Addr::new(172, 16, 0, 0), 12, Private),
    (Ipv4Addr::new(192, 0, 0, 0), 24, Reserved),
    (Ipv4Addr::new(192, 0, 2, 0), 24, Documentation),
    // The 6to4 relays' anycast (deprecated, RFC 7526).
    (Ipv4Addr::new(192, 88, 99, 0), 24, Reserved),
    (Ipv4Addr::new(192, 168, 0, 0), 16, Private),
    (Ipv4Addr::new(198, 18, 0, 0), 15, Benchmarking),
    (Ipv4Addr::new(198, 51, 100, 0), 24, Documentation),
    (Ipv4Addr::new(203, 0, 113, 0), 24, Documentation),
    (Ipv4Addr::new(224, 0, 0, 0), 4, Multicast),
    (Ipv4Addr::new(240, 0, 0, 0), 4, Reserved),
];

/// IPv6 ranges that are not public, beside the forms that carry an IPv4 address (see
/// [`classify_v6`]). The first match wins.
const V6: &[(Ipv6Addr, u32, AddressKind)] = &[
    // AWS's instance metadata over IPv6.
    (
        Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254),
        128,
        CloudMetadata,
    ),
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48, Private),
    // Discard-only (RFC 6666).
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64, Reserved),
    (Ipv6Addr::new(0x2001, 2, 0, 0, 0, 0, 0, 0), 48, Benchmarking),
    // IETF protocol assignments: Teredo, ORCHID, AMT, AS112…
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23, Reserved),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        Documentation,
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        Documentation,
    ),
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7, Private),
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10, LinkLocal),
    // Site-local, deprecated (RFC 3879) but still private where used.
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10, Private),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, Multicast),
];

/// The prefix of IPv4-mapped addresses, ::ffff:0:0/96, as its top 96 bits.
const MAPPED: u128 = 0xffff;
/// The well-known NAT64 prefix, 64:ff9b::/96, as its top 96 bits.
const NAT64: u128 = 0x0064_ff9b_0000_0000_0000_0000;
/// The 6to4 prefix, 2002::/16, as its top 16 bits.
const SIX_TO_FOUR: u128 = 0x2002;
/// Global unicast, 2000::/3, as its top 3 bits: every public IPv6 address is in it.
const GLOBAL_UNICAST: u128 = 0b001;

/// The kind of `ip`.
pub fn classify(ip: IpAddr) -> AddressKind {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// True when the top `len` bits of `a` and `b` (each `width` bits wide) are equal.
fn same_prefix(a: u128, b: u128, len: u32, width: u32) -> bool {
    let shift = width - len;
    a.checked_shr(shift).unwrap_or(0) == b.checked_shr(shift).unwrap_or(0)
}

/// The kind of an IPv4 address.
pub fn classify_v4(ip: Ipv4Addr) -> AddressKind {
    let bits = u128::from(u32::from(ip));
    V4.iter()
        .find(|(net, len, _)| same_prefix(bits, u128::from(u32::from(*net)), *len, 32))
        .map_or(Public, |(_, _, kind)| *kind)
}

/// The kind of an IPv6 address, by the IPv4 address it carries when it carries one.
pub fn classify_v6(ip: Ipv6Addr) -> AddressKind {
    let bits = u128::from(ip);
    // `::` needs no arm of its own: as an IPv4-compatible form it carries 0.0.0.0.
    if bits == 1 {
        return Loopback;
    }
    // The low 32 bits, in the forms that carry an IPv4 address there.
    let low = Ipv4Addr::from(bits as u32);
    match bits >> 32 {
        // What a dual-stack socket connects to is the IPv4 address itself.
        MAPPED => return classify_v4(low),
        // A NAT64 gateway forwards to the IPv4 address: public ones are how IPv6-only
        // networks reach IPv4 servers.
        NAT64 => return classify_v4(low),
        // IPv4-compatible (deprecated, RFC 4291): refused whatever it carries, named by
        // the IPv4 address's own reason when it has one.
        0 => {
            return match classify_v4(low) {
                Public => Reserved,
                kind => kind,
            };
        }
        _ => {}
    }
    if bits >> 112 == SIX_TO_FOUR {
        return classify_v4(Ipv4Addr::from((bits >> 80) as u32));
    }
    if let Some((_, _, kind)) = V6
        .iter()
        .find(|(net, len, _)| same_prefix(bits, u128::from(*net), *len, 128))
    {
        return *kind;
    }
    if bits >> 125 == GLOBAL_UNICAST {
        Public
    } else {
        Reserved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> AddressKind {
        classify(
            text.parse()
                .unwrap_or_else(|_| panic!("{text} is an address")),
        )
    }

    fn check(table: &[(&str, AddressKind)]) {
        let wrong: Vec<String> = table
            .iter()
            .filter(|(ip, want)| kind(ip) != *want)
            .map(|(ip, want)| format!("{ip}: {:?}, expected {want:?}", kind(ip)))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    /// Every IPv4 range at its first and last address, and the public addresses just
    /// outside it.
    #[test]
    fn ipv4_ranges_at_their_edges() {
        check(&[
            ("0.0.0.0", Unspecified),
            ("0.0.0.1", ThisNetwork),
            ("0.255.255.255", ThisNetwork),
            ("1.0.0.0", Public),
            ("9.255.255.255", Public),
            ("10.0.0.0", Private),
            ("10.0.0.1", Private),
            ("10.255.255.255", Private),
            ("11.0.0.0", Public),
            ("100.63.255.255", Public),
            ("100.64.0.0", Shared),
            ("100.64.0.1", Shared),
            ("100.127.255.255", Shared),
            ("100.128.0.0", Public),
            ("126.255.255.255", Public),
            ("127.0.0.0", Loopback),
            ("127.0.0.1", Loopback),
            ("127.255.255.255", Loopback),
            ("128.0.0.0", Public),
            ("169.253.255.255", Public),
            ("169.254.0.0", LinkLocal),
            ("169.254.255.255", LinkLocal),
            ("169.255.0.0", Public),
            ("172.15.255.255", Public),
            ("172.16.0.0", Private),
            ("172.31.255.255", Private),
            ("172.32.0.0", Public),
            ("191.255.255.255", Public),
            ("192.0.0.0", Reserved),
            ("192.0.0.255", Reserved),
            ("192.0.1.0", Public),
            ("192.0.2.0", Documentation),
            ("192.0.2.255", Documentation),
            ("192.0.3.0", Public),
            ("192.88.98.255", Public),
            ("192.88.99.0", Reserved),
            ("192.88.99.255", Reserved),
            ("192.88.100.0", Public),
            ("192.167.255.255", Public),
            ("192.168.0.0", Private),
            ("192.168.1.1", Private),
            ("192.168.255.255", Private),
            ("192.169.0.0", Public),
            ("198.17.255.255", Public),
            ("198.18.0.0", Benchmarking),
            ("198.19.255.255", Benchmarking),
            ("198.20.0.0", Public),
            ("198.51.99.255", Public),
            ("198.51.100.0", Documentation),
            ("198.51.100.255", Documentation),
            ("198.51.101.0", Public),
            ("203.0.112.255", Public),
            ("203.0.113.0", Documentation),
            ("203.0.113.255", Documentation),
            ("203.0.114.0", Public),
            ("223.255.255.255", Public),
            ("224.0.0.0", Multicast),
            ("239.255.255.255", Multicast),
            ("240.0.0.0", Reserved),
            ("255.255.255.254", Reserved),
            ("255.255.255.255", Broadcast),
            ("8.8.8.8", Public),
            ("1.1.1.1", Public),
        ]);
    }

    /// The metadata services are named as such, and their neighbours are not.
    #[test]
    fn cloud_metadata_addresses() {
        check(&[
            ("169.254.169.254", CloudMetadata),
            ("169.254.169.253", LinkLocal),
            ("169.254.169.255", LinkLocal),
            ("169.254.170.2", CloudMetadata),
            ("169.254.170.3", LinkLocal),
            ("100.100.100.200", CloudMetadata),
            ("100.100.100.201", Shared),
            ("168.63.129.16", CloudMetadata),
            ("168.63.129.15", Public),
            ("168.63.129.17", Public),
            ("192.0.0.192", CloudMetadata),
            ("192.0.0.193", Reserved),
            ("fd00:ec2::254", CloudMetadata),
            ("fd00:ec2::253", Private),
            ("::ffff:169.254.169.254", CloudMetadata),
            ("64:ff9b::a9fe:a9fe", CloudMetadata),
            ("2002:a9fe:a9fe::", CloudMetadata),
            ("::169.254.169.254", CloudMetadata),
        ]);
    }

    #[test]
    fn ipv6_ranges_at_their_edges() {
        check(&[
            ("::", Unspecified),
            ("::1", Loopback),
            ("::2", ThisNetwork),
            ("100::", Reserved),
            ("100::ffff:ffff:ffff:ffff", Reserved),
            ("100:0:0:1::", Reserved),
            ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
            ("2000::", Public),
            ("2000::1", Public),
            ("2001::", Reserved),
            ("2001::1", Reserved),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
            ("2001:200::", Public),
            ("2001:2::", Benchmarking),
            ("2001:2:0:ffff:ffff:ffff:ffff:ffff", Benchmarking),
            ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("2001:db8::", Documentation),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", Documentation),
            ("2001:db9::", Public),
            ("2606:4700:4700::1111", Public),
            ("2a00:1450:4001::200e", Public),
            ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("3fff::", Documentation),
            ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", Documentation),
            ("3fff:1000::", Public),
            ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Public),
            ("4000::", Reserved),
            ("5f00::1", Reserved),
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
            ("fc00::", Private),
            ("fd00::1", Private),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Private),
            ("fe00::", Reserved),
            ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Reserved),
            ("fe80::", LinkLocal),
            ("fe80::1", LinkLocal),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", LinkLocal),
            ("fec0::", Private),
            ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Private),
            ("ff00::", Multicast),
            ("ff02::1", Multicast),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", Multicast),
            ("64:ff9b:1::", Private),
            ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", Private),
            ("64:ff9b:2::", Reserved),
        ]);
    }

    /// IPv6 forms that carry an IPv4 address are judged by it; the deprecated compatible
    /// form is refused even when it carries a public one.
    #[test]
    fn ipv6_forms_that_carry_ipv4() {
        check(&[
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:10.0.0.1", Private),
            ("::ffff:0.0.0.0", Unspecified),
            ("::ffff:255.255.255.255", Broadcast),
            ("::ffff:100.64.0.1", Shared),
            ("::ffff:8.8.8.8", Public),
            ("64:ff9b::a00:1", Private),
            ("64:ff9b::127.0.0.1", Loopback),
            ("64:ff9b::808:808", Public),
            ("64:ff9b::1:0:0", Reserved),
            ("2002:7f00:1::", Loopback),
            ("2002:c0a8:101::1", Private),
            ("2002:808:808::1", Public),
            ("2003::", Public),
            ("2001:ffff::", Public),
            ("::10.0.0.1", Private),
            ("::127.0.0.1", Loopback),
            ("::8.8.8.8", Reserved),
            ("::0.0.1.0", ThisNetwork),
            // The IPv4-translated form (RFC 2765) is none of them: reserved.
            ("::ffff:0:808:808", Reserved),
            ("::1:ffff:808:808", Reserved),
        ]);
    }

    #[test]
    fn only_public_is_public() {
        assert!(Public.is_public());
        assert!(!Loopback.is_public());
        assert!(!kind("10.0.0.1").is_public());
        assert!(kind("93.184.215.14").is_public());
    }

    #[test]
    fn each_kind_reads_as_an_adjective() {
        let all = [
            Public,
            Loopback,
            Private,
            LinkLocal,
            CloudMetadata,
            Shared,
            Unspecified,
            ThisNetwork,
            Broadcast,
            Multicast,
            Documentation,
            Benchmarking,
            Reserved,
        ];
        let words: std::collections::HashSet<String> = all.iter().map(|k| k.to_string()).collect();
        assert_eq!(words.len(), all.len(), "each kind its own words");
        assert_eq!(Private.to_string(), "privada");
        assert_eq!(Loopback.to_string(), "de bucle local (loopback)");
        assert!(words.iter().all(|w| !w.is_empty()));
    }
}

//! The fetcher's DNS resolver: it resolves a name and hands the HTTP client only the
//! addresses that passed [`classify`], so that the connection can only go to one of them.
//! Checking a name's addresses before the request and letting the client resolve it again
//! would leave a second answer (DNS rebinding) unchecked.

use super::FetchError;
use super::address::classify;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

/// Resolves with the system's resolver (`getaddrinfo`, through Tokio) and drops what
/// [`classify`] refuses, except for the hosts the policy allows.
pub struct GuardedResolver {
    /// Hosts, as [`super::host_key`] writes them, that may resolve to any address.
    pub allowed: Arc<HashSet<String>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let allowed = self.allowed.contains(&host);
        Box::pin(async move {
            // Port 0: the client puts the URL's port in.
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|err| {
                    tracing::debug!(%host, error = %err, "client document: name not resolved");
                    FetchError::Unresolved { host: host.clone() }
                })?;
            let kept = screen(&host, found, allowed)?;
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The addresses of `host` that may be connected to: all of them when the host is
/// `allowed`, the public ones otherwise. None left is an error: no address is
/// [`FetchError::Unresolved`], only refused ones the first one's refusal.
pub fn screen(
    host: &str,
    found: impl IntoIterator<Item = SocketAddr>,
    allowed: bool,
) -> Result<Vec<SocketAddr>, FetchError> {
    let mut kept = Vec::new();
    let mut refused = None;
    for addr in found {
        let kind = classify(addr.ip());
        if allowed || kind.is_public() {
            kept.push(addr);
        } else {
            tracing::debug!(%host, address = %addr.ip(), reason = %kind, "client document: address dropped");
            refused.get_or_insert(FetchError::RefusedAddress {
                name: Some(host.to_string()),
                address: addr.ip(),
                kind,
            });
        }
    }
    if !kept.is_empty() {
        return Ok(kept);
    }
    Err(refused.unwrap_or_else(|| FetchError::Unresolved {
        host: host.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::super::address::AddressKind;
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter()
            .map(|a| SocketAddr::new(a.parse().unwrap(), 0))
            .collect()
    }

    #[test]
    fn only_public_addresses_are_kept() {
        let found = addrs(&[
            "127.0.0.1",
            "93.184.215.14",
            "::1",
            "2606:4700::1",
            "10.0.0.1",
        ]);
        let kept = screen("mixed.example", found, false).unwrap();
        assert_eq!(kept, addrs(&["93.184.215.14", "2606:4700::1"]));
    }

    #[test]
    fn no_public_address_is_the_first_refusal() {
        let found = addrs(&["10.0.0.1", "127.0.0.1"]);
        match screen("internal.example", found, false) {
            Err(FetchError::RefusedAddress {
                name,
                address,
                kind,
            }) => {
                assert_eq!(name.as_deref(), Some("internal.example"));
                assert_eq!(address.to_string(), "10.0.0.1");
                assert_eq!(kind, AddressKind::Private);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            screen("nothing.example", Vec::new(), false),
            Err(FetchError::Unresolved { .. })
        ));
    }

    #[test]
    fn an_allowed_host_keeps_every_address() {
        let found = addrs(&["127.0.0.1", "::1"]);
        assert_eq!(
            screen("localhost", found.clone(), true).unwrap(),
            found,
            "allowed"
        );
    }
}

//! Hawk request signatures (HMAC-SHA256), the legacy API key's authentication: the header
//! format and the normalized string both sides sign. No I/O; the replay check lives in
//! `service`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;

/// The request as Hawk signs it.
#[derive(Debug, Clone)]
pub struct HawkRequest<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub resource: &'a str,
    pub host: &'a str,
    pub port: u16,
}

/// The attributes of an `Authorization: Hawk …` header.
#[derive(Clone, PartialEq, Eq)]
pub struct HawkHeader {
    pub id: String,
    pub ts: i64,
    pub nonce: String,
    pub mac: String,
    pub hash: Option<String>,
    pub ext: Option<String>,
}

impl std::fmt::Debug for HawkHeader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HawkHeader")
            .field("id", &self.id)
            .field("ts", &self.ts)
            .finish_non_exhaustive()
    }
}

fn normalized(header: &HawkHeader, request: &HawkRequest<'_>) -> String {
    format!(
        "hawk.1.header\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
        header.ts,
        header.nonce,
        request.method.to_ascii_uppercase(),
        request.resource,
        request.host.to_ascii_lowercase(),
        request.port,
        header.hash.as_deref().unwrap_or(""),
        header.ext.as_deref().unwrap_or(""),
    )
}

/// HMAC-SHA256 keyed with `key` (HMAC takes keys of any length, so this cannot fail).
fn keyed(key: &str) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key.as_bytes())
        .unwrap_or_else(|_| Hmac::<Sha256>::new(&Default::default()))
}

fn hmac(key: &str, text: &str) -> Vec<u8> {
    let mut mac = keyed(key);
    mac.update(text.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The MAC of a request, base64.
pub fn mac(key: &str, header: &HawkHeader, request: &HawkRequest<'_>) -> String {
    STANDARD.encode(hmac(key, &normalized(header, request)))
}

/// True when the header's MAC is the right one for the request (constant time).
pub fn verify(key: &str, header: &HawkHeader, request: &HawkRequest<'_>) -> bool {
    let Ok(presented) = STANDARD.decode(&header.mac) else {
        return false;
    };
    let mut check = keyed(key);
    check.update(normalized(header, request).as_bytes());
    check.verify_slice(&presented).is_ok()
}

/// The `tsm` a server sends with its time after a stale timestamp.
pub fn timestamp_mac(key: &str, ts: i64) -> String {
    STANDARD.encode(hmac(key, &format!("hawk.1.ts\n{ts}\n")))
}

/// The header value a client sends.
pub fn header_value(header: &HawkHeader) -> String {
    let mut value = format!(
        "Hawk id=\"{}\", ts=\"{}\", nonce=\"{}\"",
        header.id, header.ts, header.nonce
    );
    if let Some(hash) = &header.hash {
        value.push_str(&format!(", hash=\"{hash}\""));
    }
    if let Some(ext) = &header.ext {
        value.push_str(&format!(", ext=\"{ext}\""));
    }
    value.push_str(&format!(", mac=\"{}\"", header.mac));
    value
}

/// Signs a request: the header value for `Authorization`.
pub fn sign(
    id: &str,
    key: &str,
    ts: i64,
    nonce: &str,
    request: &HawkRequest<'_>,
) -> (HawkHeader, String) {
    let mut header = HawkHeader {
        id: id.to_string(),
        ts,
        nonce: nonce.to_string(),
        mac: String::new(),
        hash: None,
        ext: None,
    };
    header.mac = mac(key, &header, request);
    let value = header_value(&header);
    (header, value)
}

/// Parses `Hawk id="…", ts="…", …`; `None` when it is not a well-formed Hawk header.
pub fn parse(value: &str) -> Option<HawkHeader> {
    let rest = value.strip_prefix("Hawk ")?;
    let mut attributes = BTreeMap::new();
    for part in rest.split(',') {
        let (name, quoted) = part.trim().split_once('=')?;
        let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
        if inner.contains('"') || inner.contains('\\') || inner.len() > 1024 {
            return None;
        }
        if attributes.insert(name.trim(), inner.to_string()).is_some() {
            return None;
        }
    }
    let header = HawkHeader {
        id: attributes.remove("id")?,
        ts: attributes.remove("ts")?.parse().ok()?,
        nonce: attributes.remove("nonce")?,
        mac: attributes.remove("mac")?,
        hash: attributes.remove("hash"),
        ext: attributes.remove("ext"),
    };
    (!header.id.is_empty() && !header.nonce.is_empty()).then_some(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> HawkRequest<'static> {
        HawkRequest {
            method: "GET",
            resource: "/resource/1?b=1&a=2",
            host: "example.com",
            port: 8000,
        }
    }

    #[test]
    fn matches_the_reference_example() {
        // The Hawk specification's example (SHA-256, no payload hash, ext "some-app-ext-data").
        let header = HawkHeader {
            id: "dh37fgj492je".into(),
            ts: 1353832234,
            nonce: "j4h3g2".into(),
            mac: String::new(),
            hash: None,
            ext: Some("some-app-ext-data".into()),
        };
        assert_eq!(
            mac(
                "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
                &header,
                &request()
            ),
            "6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE="
        );
    }

    #[test]
    fn signs_parses_and_verifies() {
        let (_, value) = sign("key", "secret", 1, "n1", &request());
        let parsed = parse(&value).unwrap();
        assert!(verify("secret", &parsed, &request()));
        assert!(!verify("other", &parsed, &request()));
        let moved = HawkRequest {
            resource: "/resource/2",
            ..request()
        };
        assert!(!verify("secret", &parsed, &moved));
        assert!(parse("Bearer x").is_none());
        assert!(parse("Hawk id=\"a\", id=\"b\", ts=\"1\", nonce=\"n\", mac=\"m\"").is_none());
    }
}

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

/// The body of a signed request and its `Content-Type`, checked against the header's
/// `hash` when it has one.
#[derive(Debug, Clone, Copy, Default)]
pub struct HawkPayload<'a> {
    pub content_type: &'a str,
    pub body: &'a [u8],
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

/// The payload hash a client signs (`hash`): SHA-256 over the content type (lowercase,
/// without parameters) and the body.
pub fn payload_hash(content_type: &str, payload: &[u8]) -> String {
    use sha2::Digest;
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mut digest = Sha256::new();
    digest.update(b"hawk.1.payload\n");
    digest.update(essence.as_bytes());
    digest.update(b"\n");
    digest.update(payload);
    digest.update(b"\n");
    STANDARD.encode(digest.finalize())
}

/// True when the header carries no payload hash, or the right one for the body.
pub fn verify_payload(header: &HawkHeader, payload: HawkPayload<'_>) -> bool {
    match &header.hash {
        None => true,
        Some(presented) => bool::from(subtle::ConstantTimeEq::ct_eq(
            presented.as_bytes(),
            payload_hash(payload.content_type, payload.body).as_bytes(),
        )),
    }
}

/// Parses `Hawk id="…", ts="…", …` (the scheme in any case); `None` when it is not a
/// well-formed Hawk header. Values are quoted and may hold commas, never quotes or
/// backslashes.
pub fn parse(value: &str) -> Option<HawkHeader> {
    let (scheme, mut rest) = value.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("hawk") {
        return None;
    }
    let mut attributes = BTreeMap::new();
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        let (name, after) = rest.split_once('=')?;
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let quoted = after.trim_start().strip_prefix('"')?;
        let end = quoted.find(['"', '\\'])?;
        if quoted.as_bytes()[end] != b'"' || end > 1024 {
            return None;
        }
        if attributes.insert(name, quoted[..end].to_string()).is_some() {
            return None;
        }
        rest = quoted[end + 1..].trim_start();
        match rest.strip_prefix(',') {
            Some(next) => rest = next,
            None if rest.is_empty() => break,
            None => return None,
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

/// True when `ts` (the client's) and `now` differ by at most `skew` seconds; no overflow
/// for any `ts`.
pub fn within_skew(ts: i64, now: i64, skew: i64) -> bool {
    ts.checked_sub(now)
        .and_then(i64::checked_abs)
        .is_some_and(|delta| delta <= skew)
}

/// Where the request was sent, from its `Host` header: the host (IPv6 in brackets, as
/// signed) and the port, `default_port` (the scheme's: 80, 443) when none is named. `None`
/// when the header is not an authority.
pub fn host_and_port(host_header: &str, default_port: u16) -> Option<(String, u16)> {
    let authority: http::uri::Authority = host_header.parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let port = match authority.port() {
        Some(port) => port.as_u16(),
        None if authority.as_str().ends_with(':') => return None,
        None => default_port,
    };
    Some((authority.host().to_string(), port))
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

    #[test]
    fn the_scheme_is_case_insensitive() {
        let (_, value) = sign("key", "secret", 1, "n1", &request());
        let lower = value.replacen("Hawk ", "hawk ", 1);
        let upper = value.replacen("Hawk ", "HAWK ", 1);
        assert!(verify("secret", &parse(&lower).unwrap(), &request()));
        assert!(verify("secret", &parse(&upper).unwrap(), &request()));
        assert!(parse("Hawkish id=\"a\", ts=\"1\", nonce=\"n\", mac=\"m\"").is_none());
    }

    #[test]
    fn a_quoted_ext_may_hold_commas() {
        let parsed =
            parse("Hawk id=\"a\", ts=\"1\", nonce=\"n\", ext=\"x=1, y=2,z\", mac=\"m\"").unwrap();
        assert_eq!(parsed.ext.as_deref(), Some("x=1, y=2,z"));
        assert_eq!(parsed.mac, "m");
        // Quotes and backslashes inside a value, or text between attributes, stay refused.
        assert!(parse("Hawk id=\"a\\\"b\", ts=\"1\", nonce=\"n\", mac=\"m\"").is_none());
        assert!(parse("Hawk id=\"a\" junk, ts=\"1\", nonce=\"n\", mac=\"m\"").is_none());
        assert!(parse("Hawk id=\"a\", ts=\"1\", nonce=\"n\", mac=\"m").is_none());
    }

    #[test]
    fn the_skew_check_cannot_overflow() {
        let now = 1_700_000_000;
        assert!(within_skew(now + 60, now, 60));
        assert!(within_skew(now - 60, now, 60));
        assert!(!within_skew(now + 61, now, 60));
        assert!(!within_skew(i64::MIN + now, now, 60));
        assert!(!within_skew(i64::MIN, now, 60));
        assert!(!within_skew(i64::MAX, -1, 60));
    }

    #[test]
    fn the_payload_hash_matches_the_reference() {
        // The Hawk specification's payload example.
        assert_eq!(
            payload_hash("text/plain", b"Thank you for flying Hawk"),
            "Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY="
        );
        let mut header = parse("Hawk id=\"a\", ts=\"1\", nonce=\"n\", mac=\"m\"").unwrap();
        let empty = HawkPayload::default();
        assert!(verify_payload(&header, empty));
        header.hash = Some(payload_hash("", b""));
        assert!(verify_payload(&header, empty));
        let other = HawkPayload {
            content_type: "",
            body: b"x",
        };
        assert!(!verify_payload(&header, other));
    }

    #[test]
    fn hosts_are_parsed_as_authorities() {
        assert_eq!(host_and_port("[::1]", 80), Some(("[::1]".into(), 80)));
        assert_eq!(
            host_and_port("example.com", 443),
            Some(("example.com".into(), 443))
        );
        assert_eq!(
            host_and_port("example.com:80", 443),
            Some(("example.com".into(), 80))
        );
        assert_eq!(
            host_and_port("[::1]:8080", 80),
            Some(("[::1]".into(), 8080))
        );
        assert_eq!(
            host_and_port("example.com", 80),
            Some(("example.com".into(), 80))
        );
        assert_eq!(
            host_and_port("127.0.0.1:9", 80),
            Some(("127.0.0.1".into(), 9))
        );
        assert_eq!(host_and_port("a:b:c", 80), None);
        assert_eq!(host_and_port("user@host", 80), None);
        assert_eq!(host_and_port("", 80), None);
    }
}

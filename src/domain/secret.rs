//! Formats of the secrets the server hands out.
//!
//! Every secret is `consola_<kind>_`, then 43 base62 characters from the OS CSPRNG (256
//! bits), then a 6-character base62 CRC32 of the random part. The prefix lets secret scanners find a
//! leaked one and the checksum lets them discard look-alikes without asking the server
//! (the GitHub token scheme). Secrets are stored only as SHA-256 digests: they are
//! high-entropy, so a slow hash adds nothing but latency on the token path.

use rand::TryRngCore;
use rand::{Rng, rngs::OsRng};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Exactly the ASCII letters and digits, so `is_ascii_alphanumeric` tests membership.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;

/// What a secret is for; the kind is part of its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A consumer's client secret ("Secreto").
    ClientSecret,
    /// A console session token.
    Session,
    /// The account's legacy API secret.
    LegacyApiSecret,
    /// An OAuth refresh token.
    RefreshToken,
    /// An OAuth authorization code.
    AuthorizationCode,
    /// The one-time token that authorizes setup of a server listening beyond loopback.
    SetupToken,
    /// A self-registered client's registration access token (RFC 7592).
    RegistrationAccessToken,
    /// An initial access token (RFC 7591 §3), for registering straight into a group.
    InitialAccessToken,
}

impl SecretKind {
    pub fn prefix(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "consola_cs_",
            SecretKind::Session => "consola_st_",
            SecretKind::LegacyApiSecret => "consola_ak_",
            SecretKind::RefreshToken => "consola_rt_",
            SecretKind::AuthorizationCode => "consola_ac_",
            SecretKind::SetupToken => "consola_su_",
            SecretKind::RegistrationAccessToken => "consola_rg_",
            SecretKind::InitialAccessToken => "consola_ia_",
        }
    }
}

fn random_base62(len: usize) -> String {
    let mut rng = OsRng.unwrap_err();
    (0..len)
        .map(|_| BASE62[rng.random_range(0..BASE62.len())] as char)
        .collect()
}

/// The checksum of a random part: its CRC32 in base62, on the stack (the token endpoint
/// checks one per request).
fn checksum(random: &str) -> [u8; CHECKSUM_LEN] {
    let mut value = u64::from(crc32fast::hash(random.as_bytes()));
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// A new secret of the given kind.
pub fn generate(kind: SecretKind) -> String {
    format_secret(kind, &random_base62(RANDOM_LEN))
}

/// The secret of that kind around a random part: prefix, the part, its checksum.
fn format_secret(kind: SecretKind, random: &str) -> String {
    // The checksum is base62, so ASCII.
    let checksum = checksum(random);
    let checksum = std::str::from_utf8(&checksum).unwrap_or_default();
    format!("{}{random}{checksum}", kind.prefix())
}

/// True when the text has the shape of a secret of that kind, checksum included.
pub fn is_well_formed(kind: SecretKind, text: &str) -> bool {
    let Some(body) = text.strip_prefix(kind.prefix()) else {
        return false;
    };
    if body.len() != RANDOM_LEN + CHECKSUM_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, sum) = body.split_at(RANDOM_LEN);
    checksum(random) == sum.as_bytes()
}

/// A consumer's public identifier ("Clave"): 32 base62 characters from the CSPRNG.
pub fn generate_client_id() -> String {
    random_base62(32)
}

/// The legacy API key (public half).
pub fn generate_api_key() -> String {
    random_base62(32)
}

/// SHA-256 of the secret, as stored.
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares a presented secret with a stored digest in constant time.
pub fn matches(secret: &str, stored: &[u8]) -> bool {
    let presented = digest(secret);
    stored.len() == presented.len() && bool::from(presented.ct_eq(stored))
}

/// The last four characters, kept for display ("…AbC1").
pub fn last_four(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Random bytes from the OS CSPRNG (keys, nonces).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.unwrap_err().fill(&mut bytes);
    bytes
}

/// A secret in transit (client secret, session token, legacy secret). Its `Debug` never
/// shows the value, so a stray `{:?}` in a log or a panic cannot leak it; serde sees the
/// plain string.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl SecretText {
    pub fn new(value: String) -> Self {
        SecretText(value)
    }

    /// The secret itself: for the one screen that shows it, the clipboard and the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn last_four(&self) -> String {
        last_four(&self.0)
    }
}

impl From<String> for SecretText {
    fn from(value: String) -> Self {
        SecretText(value)
    }
}

impl From<&str> for SecretText {
    fn from(value: &str) -> Self {
        SecretText(value.to_string())
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(«redactado»)")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn secret_text_debug_hides_the_value() {
        let s = SecretText::new(generate(SecretKind::ClientSecret));
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains(s.expose()));
        assert!(!shown.contains("consola_cs_"));
    }

    use super::*;

    #[test]
    fn generated_secrets_are_well_formed_and_distinct() {
        let a = generate(SecretKind::ClientSecret);
        let b = generate(SecretKind::ClientSecret);
        assert_ne!(a, b);
        assert!(a.starts_with("consola_cs_"));
        assert_eq!(a.len(), "consola_cs_".len() + 49);
        assert!(is_well_formed(SecretKind::ClientSecret, &a));
        assert!(!is_well_formed(SecretKind::Session, &a));
    }

    #[test]
    fn checksum_catches_a_changed_character() {
        let secret = generate(SecretKind::ClientSecret);
        let mut bytes = secret.into_bytes();
        let i = "consola_cs_".len() + 5;
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(!is_well_formed(SecretKind::ClientSecret, &tampered));
    }

    /// Known answers, computed apart from this code (CRC-32/ISO-HDLC of the random part,
    /// as a 6-digit big-endian base62 number over 0-9A-Za-z). Leak scanners match this
    /// format: any change to the prefix, the body or the checksum encoding must fail here.
    #[test]
    fn the_secret_format_is_pinned() {
        let random = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg";
        assert_eq!(crc32fast::hash(random.as_bytes()), 2_860_937_052);
        let secret = format_secret(SecretKind::ClientSecret, random);
        assert_eq!(
            secret,
            "consola_cs_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg37cCQ0"
        );
        assert!(is_well_formed(SecretKind::ClientSecret, &secret));
        assert!(is_well_formed(
            SecretKind::RefreshToken,
            &format!("consola_rt_{}4SHDYg", "a".repeat(43))
        ));
        let prefixes = [
            (SecretKind::ClientSecret, "consola_cs_"),
            (SecretKind::Session, "consola_st_"),
            (SecretKind::LegacyApiSecret, "consola_ak_"),
            (SecretKind::RefreshToken, "consola_rt_"),
            (SecretKind::AuthorizationCode, "consola_ac_"),
            (SecretKind::SetupToken, "consola_su_"),
        ];
        for (kind, prefix) in prefixes {
            assert_eq!(kind.prefix(), prefix);
            assert_eq!(
                format_secret(kind, random),
                format!("{prefix}{random}37cCQ0")
            );
        }
        // A checksum written another way (little-endian, lowercase, padded) is refused.
        for wrong in ["0QCc73", "37ccq0", "037cCQ"] {
            assert!(!is_well_formed(
                SecretKind::ClientSecret,
                &format!("consola_cs_{random}{wrong}")
            ));
        }
        assert!(!is_well_formed(
            SecretKind::ClientSecret,
            &format!("consola_cs_{random}37cCQ")
        ));
    }

    #[test]
    fn random_part_carries_at_least_256_bits() {
        assert!((RANDOM_LEN as f64) * 62f64.log2() >= 256.0);
    }

    #[test]
    fn digest_matching_is_exact() {
        let secret = generate(SecretKind::Session);
        let stored = digest(&secret);
        assert!(matches(&secret, &stored));
        assert!(!matches(&format!("{secret}x"), &stored));
        assert!(!matches(&secret, &stored[..31]));
    }

    #[test]
    fn last_four_of_short_text() {
        assert_eq!(last_four("abc"), "abc");
        assert_eq!(last_four("abcdef"), "cdef");
    }
}

//! The HMAC-SHA256 tags of opaque access tokens: under the data directory's key, past a
//! domain prefix, and for version 2 and 3 bound to the issuer and audience.

use super::*;

impl TokenKeys {
    /// HMAC-SHA256 tag of an opaque token's body.
    pub fn tag(&self, body: &str) -> [u8; 32] {
        let mut mac = self.opaque_mac.clone();
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when `tag` is the body's (constant time).
    pub fn check_tag(&self, body: &str, tag: &[u8]) -> bool {
        let mut mac = self.opaque_mac.clone();
        mac.update(body.as_bytes());
        mac.verify_slice(tag).is_ok()
    }

    /// HMAC-SHA256 tag of a version 2 or 3 opaque token's body, which leaves out the issuer and
    /// the audience: the tag covers them instead, so the token is valid only where both
    /// are the same. Each is length-prefixed; the prefix's first byte is zero, which never
    /// starts a version-1 body (base64url), so neither version's tag can pass for the other.
    pub fn bound_tag(&self, issuer: &str, audience: &str, body: &str) -> [u8; 32] {
        let mut mac = self.bound_mac(issuer, audience);
        mac.update(body.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// True when `tag` is the version 2 or 3 body's for this issuer and audience (constant time).
    pub fn check_bound_tag(&self, issuer: &str, audience: &str, body: &str, tag: &[u8]) -> bool {
        let mut mac = self.bound_mac(issuer, audience);
        mac.update(body.as_bytes());
        mac.verify_slice(tag).is_ok()
    }

    fn bound_mac(&self, issuer: &str, audience: &str) -> Hmac<Sha256> {
        let bind = || {
            let mut mac = self.opaque_mac.clone();
            for part in [issuer, audience] {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
            mac
        };
        let (bound_issuer, bound_audience, mac) = self
            .bound_mac
            .get_or_init(|| (issuer.to_owned(), audience.to_owned(), bind()));
        if bound_issuer == issuer && bound_audience == audience {
            mac.clone()
        } else {
            bind()
        }
    }
}

pub(super) fn opaque_mac(key: &[u8; 32]) -> Hmac<Sha256> {
    // HMAC pads a short key with zeros to SHA-256's 64-byte block; padding it here gives
    // the same tags through the infallible constructor.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new(&block.into());
    mac.update(b"consola opaque access token v1\n");
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tags are HMAC-SHA256 under the key of the data directory, past the domain prefix:
    /// tokens issued before an upgrade or restart keep verifying.
    #[test]
    fn opaque_tags_are_hmac_sha256_of_prefix_and_body() {
        let key = [7u8; 32];
        let dir = tempfile::tempdir().unwrap();
        let keys = TokenKeys::load_or_create(key, &dir.path().join("keys.json")).unwrap();
        let mut reference = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        reference.update(b"consola opaque access token v1\nbody");
        let expected: [u8; 32] = reference.finalize().into_bytes().into();
        assert_eq!(keys.tag("body"), expected);
        assert!(keys.check_tag("body", &expected));
        assert!(!keys.check_tag("bodY", &expected));
        assert!(!keys.check_tag("body", &expected[..31]));
    }

    #[test]
    fn opaque_tags_depend_on_the_key() {
        let a = TokenKeys::ephemeral();
        let b = TokenKeys::ephemeral();
        let tag = a.tag("body");
        assert!(a.check_tag("body", &tag));
        assert!(!b.check_tag("body", &tag));
        assert!(!a.check_tag("bodx", &tag));
    }
}

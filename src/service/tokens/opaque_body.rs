//! The body of an opaque access token (`consola_at_` body `.` tag; the tag is
//! `TokenKeys::bound_tag` over the body's base64url text).
//!
//! Version 3, issued now, is a few fixed fields in bytes, about half the length of the JSON of
//! version 2, so the token endpoint's busiest work (writing it, base64url, the HMAC blocks)
//! shrinks with it, and no JSON is written or parsed for it. Versions 1 and 2 (JSON) are
//! still read until they expire.
//!
//! Version 3, all integers big-endian:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | version, 3 |
//! | 8 | `iat`, seconds since the epoch (signed) |
//! | 8 | `exp`, the same |
//! | 16 | `jti`, a UUID |
//! | 1 | flags: 1 = a consumer other than the subject follows, 2 = a grant follows |
//! | 1 + n | `sub`: its length, then its UTF-8 |
//! | 1 + n | with flag 1: the consumer's client_id, the same way |
//! | 16 | with flag 2: `sid`, the grant's UUID |
//! | 32 | with flag 4: `cnf.jkt`, the SHA-256 thumbprint of a DPoP-bound token's key |
//! | rest | `scope`, UTF-8 |
//!
//! Anything else (another version, an unknown flag, a short field, bad UTF-8) is refused.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use uuid::Uuid;

/// The version issued now.
pub const VERSION: u8 = 3;
const CONSUMER_FOLLOWS: u8 = 1;
const GRANT_FOLLOWS: u8 = 2;
const KEY_FOLLOWS: u8 = 4;
/// The fixed part: version, iat, exp, jti and flags.
const FIXED_LEN: usize = 1 + 8 + 8 + 16 + 1;

/// What an opaque token says, borrowed from its body where it can be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueClaims<'a> {
    pub sub: Cow<'a, str>,
    /// The consumer, when it is not the subject (the code flow's tokens are about a user).
    pub cid: Option<Cow<'a, str>>,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    pub scope: Cow<'a, str>,
    pub sid: Option<Uuid>,
    /// The thumbprint of the DPoP key the token is bound to.
    pub jkt: Option<[u8; 32]>,
}

/// A subject or client_id too long for its one-byte length.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("an opaque token's {0} is longer than 255 bytes")]
pub struct TooLong(&'static str);

impl OpaqueClaims<'_> {
    /// The length of the version 3 body.
    pub fn len(&self) -> usize {
        FIXED_LEN
            + 1
            + self.sub.len()
            + self.cid.as_ref().map_or(0, |cid| 1 + cid.len())
            + self.sid.map_or(0, |_| 16)
            + self.jkt.map_or(0, |_| 32)
            + self.scope.len()
    }

    /// Appends the version 3 body to `out`.
    pub fn write(&self, out: &mut Vec<u8>) -> Result<(), TooLong> {
        let sub_len = u8::try_from(self.sub.len()).map_err(|_| TooLong("sub"))?;
        let cid_len = match &self.cid {
            Some(cid) => Some(u8::try_from(cid.len()).map_err(|_| TooLong("client_id"))?),
            None => None,
        };
        let mut flags = 0;
        if cid_len.is_some() {
            flags |= CONSUMER_FOLLOWS;
        }
        if self.sid.is_some() {
            flags |= GRANT_FOLLOWS;
        }
        if self.jkt.is_some() {
            flags |= KEY_FOLLOWS;
        }
        out.reserve(self.len());
        out.push(VERSION);
        out.extend_from_slice(&self.iat.to_be_bytes());
        out.extend_from_slice(&self.exp.to_be_bytes());
        out.extend_from_slice(self.jti.as_bytes());
        out.push(flags);
        out.push(sub_len);
        out.extend_from_slice(self.sub.as_bytes());
        if let (Some(cid), Some(len)) = (&self.cid, cid_len) {
            out.push(len);
            out.extend_from_slice(cid.as_bytes());
        }
        if let Some(sid) = self.sid {
            out.extend_from_slice(sid.as_bytes());
        }
        if let Some(jkt) = &self.jkt {
            out.extend_from_slice(jkt);
        }
        out.extend_from_slice(self.scope.as_bytes());
        Ok(())
    }
}

/// The claims of a version 3 body; `None` for anything that is not exactly one.
pub fn read(body: &[u8]) -> Option<OpaqueClaims<'_>> {
    let mut rest = Reader(body);
    if rest.byte()? != VERSION {
        return None;
    }
    let iat = i64::from_be_bytes(rest.array()?);
    let exp = i64::from_be_bytes(rest.array()?);
    let jti = Uuid::from_bytes(rest.array()?);
    let flags = rest.byte()?;
    if flags & !(CONSUMER_FOLLOWS | GRANT_FOLLOWS | KEY_FOLLOWS) != 0 {
        return None;
    }
    let sub = rest.short_text()?;
    let cid = if flags & CONSUMER_FOLLOWS != 0 {
        Some(rest.short_text()?)
    } else {
        None
    };
    let sid = if flags & GRANT_FOLLOWS != 0 {
        Some(Uuid::from_bytes(rest.array()?))
    } else {
        None
    };
    let jkt = if flags & KEY_FOLLOWS != 0 {
        Some(rest.array()?)
    } else {
        None
    };
    let scope = std::str::from_utf8(rest.0).ok()?;
    Some(OpaqueClaims {
        sub: Cow::Borrowed(sub),
        cid: cid.map(Cow::Borrowed),
        iat,
        exp,
        jti,
        scope: Cow::Borrowed(scope),
        sid,
        jkt,
    })
}

/// What is left of a body, read from the front.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(taken)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    /// One-byte length, then that much UTF-8.
    fn short_text(&mut self) -> Option<&'a str> {
        let len = usize::from(self.byte()?);
        std::str::from_utf8(self.take(len)?).ok()
    }
}

/// The JSON body of versions 1 and 2, still read until such tokens expire. Version 1
/// carries its issuer and audience (its tag covers the body alone); version 2 leaves them
/// to its tag, as version 3 does.
#[derive(Serialize, Deserialize)]
pub struct JsonBody<'a> {
    pub v: u8,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub iss: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub sub: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Cow<'a, str>>,
    pub iat: i64,
    pub exp: i64,
    #[serde(borrow)]
    pub jti: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub cid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub scope: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Cow<'a, str>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> OpaqueClaims<'static> {
        OpaqueClaims {
            sub: "b6Xb1qk3mN0ZcT9vY2wR8sLd4EfGh7Ja".into(),
            cid: None,
            iat: 1_764_000_000,
            exp: 1_764_003_600,
            jti: Uuid::from_u128(0x0193_0000_0000_7000_8000_0000_0000_0001),
            scope: "reports:view reports:report".into(),
            sid: None,
            jkt: None,
        }
    }

    fn written(claims: &OpaqueClaims<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        claims.write(&mut out).expect("fits");
        assert_eq!(out.len(), claims.len());
        out
    }

    /// The layout, byte for byte: a change to it must fail here, since tokens already
    /// issued are read with it.
    #[test]
    fn the_layout_is_pinned() {
        let mut claims = sample();
        claims.sub = "ab".into();
        claims.cid = Some("c".into());
        claims.sid = Some(Uuid::from_u128(0x11));
        claims.scope = "r:v".into();
        let mut expected = vec![3];
        expected.extend_from_slice(&[0, 0, 0, 0, 0x69, 0x24, 0x81, 0x00]);
        expected.extend_from_slice(&[0, 0, 0, 0, 0x69, 0x24, 0x8f, 0x10]);
        expected.extend_from_slice(&0x0193_0000_0000_7000_8000_0000_0000_0001u128.to_be_bytes());
        expected.extend_from_slice(&[3, 2, b'a', b'b', 1, b'c']);
        expected.extend_from_slice(&0x11u128.to_be_bytes());
        expected.extend_from_slice(b"r:v");
        assert_eq!(written(&claims), expected);
        assert_eq!(read(&expected), Some(claims.clone()));
        // A DPoP-bound token: flag 4, and its key's thumbprint after the grant.
        claims.jkt = Some([0xab; 32]);
        expected[33] = 7;
        expected.splice(expected.len() - 3.., [0xab; 32].into_iter().chain(*b"r:v"));
        assert_eq!(written(&claims), expected);
        assert_eq!(read(&expected), Some(claims));
    }

    #[test]
    fn a_client_credentials_body_is_short() {
        // The JSON of version 2 for the same claims is 165 bytes.
        assert_eq!(written(&sample()).len(), 94);
    }

    #[test]
    fn only_exact_bodies_are_read() {
        let good = written(&sample());
        assert!(read(&good).is_some());
        let mut other_version = good.clone();
        other_version[0] = 2;
        assert_eq!(read(&other_version), None);
        let mut unknown_flag = good.clone();
        unknown_flag[FIXED_LEN - 1] = 4;
        assert_eq!(read(&unknown_flag), None);
        // A subject longer than what is left.
        let mut long_sub = good.clone();
        long_sub[FIXED_LEN] = 200;
        assert_eq!(read(&long_sub), None);
        let mut bad_utf8 = good.clone();
        bad_utf8[FIXED_LEN + 1] = 0xff;
        assert_eq!(read(&bad_utf8), None);
        let mut bad_scope = good.clone();
        bad_scope.push(0xc3);
        assert_eq!(read(&bad_scope), None);
        // A grant announced but missing.
        let mut no_grant = good.clone();
        no_grant[FIXED_LEN - 1] = GRANT_FOLLOWS;
        no_grant.truncate(FIXED_LEN + 1 + 32 + 10);
        assert_eq!(read(&no_grant), None);
        for cut in 0..FIXED_LEN + 1 {
            assert_eq!(read(&good[..cut]), None, "cut at {cut}");
        }
    }

    #[test]
    fn a_field_over_255_bytes_is_refused_when_written() {
        let mut claims = sample();
        claims.sub = "a".repeat(256).into();
        assert_eq!(claims.write(&mut Vec::new()), Err(TooLong("sub")));
        claims.sub = "a".repeat(255).into();
        claims.cid = Some("b".repeat(256).into());
        assert_eq!(claims.write(&mut Vec::new()), Err(TooLong("client_id")));
        claims.cid = Some("b".repeat(255).into());
        let body = written(&claims);
        assert_eq!(read(&body), Some(claims));
    }

    proptest! {
        #[test]
        fn what_is_written_is_read_back(
            sub in "\\PC{0,60}", cid in proptest::option::of("\\PC{0,60}"),
            iat in any::<i64>(), exp in any::<i64>(), jti in any::<u128>(),
            scope in "\\PC{0,80}", sid in proptest::option::of(any::<u128>()),
            jkt in proptest::option::of(any::<[u8; 32]>()),
        ) {
            let claims = OpaqueClaims {
                sub: sub.into(), cid: cid.map(Into::into), iat, exp,
                jti: Uuid::from_u128(jti), scope: scope.into(), sid: sid.map(Uuid::from_u128),
                jkt,
            };
            let body = written(&claims);
            prop_assert_eq!(read(&body), Some(claims));
        }

        #[test]
        fn any_bytes_are_read_without_panic(body in proptest::collection::vec(any::<u8>(), 0..120)) {
            if let Some(claims) = read(&body) {
                prop_assert_eq!(written(&claims), body);
            }
        }
    }
}

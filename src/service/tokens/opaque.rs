//! `opaque` access tokens: `consola_at_`, a compact body (see `opaque_body`) in base64url,
//! `.` and an HMAC tag bound to the issuer and audience. Older versions (JSON bodies, and
//! version 1 with its own issuer and audience) still open until they expire.

use super::access_token::Minted;
use super::opaque_body::{self, JsonBody, OpaqueClaims};
use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Prefix of `opaque` access tokens, so secret scanners can find a leaked one.
pub const OPAQUE_PREFIX: &str = "consola_at_";

impl Service {
    /// `consola_at_` + the version 3 body in base64url + `.` + its HMAC tag bound to the
    /// issuer and audience, written into one string sized for it: the token endpoint's
    /// busiest allocation.
    pub(super) fn seal_opaque(
        &self,
        consumer: &Consumer,
        minted: &Minted<'_>,
    ) -> Result<String, OAuthError> {
        let claims = OpaqueClaims {
            sub: minted.sub.into(),
            cid: (minted.sub != consumer.client_id).then(|| consumer.client_id.as_str().into()),
            iat: minted.iat,
            exp: minted.exp,
            jti: minted.jti,
            scope: minted.scope.into(),
            sid: minted.sid,
            jkt: match minted.jkt {
                Some(jkt) => Some(thumbprint_bytes(jkt)?),
                None => None,
            },
        };
        let mut body = Vec::with_capacity(claims.len());
        claims
            .write(&mut body)
            .map_err(|e| InternalError::caused("no se pudo escribir un token opaco", e))?;
        let encoded_len = body.len().div_ceil(3) * 4;
        let mut token = String::with_capacity(OPAQUE_PREFIX.len() + encoded_len + 1 + 43);
        token.push_str(OPAQUE_PREFIX);
        URL_SAFE_NO_PAD.encode_string(&body, &mut token);
        let tag = self.keys.bound_tag(
            self.issuer(),
            self.audience(),
            &token[OPAQUE_PREFIX.len()..],
        );
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(tag, &mut token);
        Ok(token)
    }

    /// The claims of an opaque token (what follows its prefix) whose tag checks, whatever
    /// their state.
    pub(super) fn open_opaque(&self, rest: &str) -> Option<AccessClaims> {
        let (body, tag) = rest.split_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        // Version 2 (bound to this issuer and audience), or a version 1 token from
        // before it, which names its own.
        let bound = self
            .keys
            .check_bound_tag(self.issuer(), self.audience(), body, &tag);
        if !bound && !self.keys.check_tag(body, &tag) {
            return None;
        }
        let body = URL_SAFE_NO_PAD.decode(body).ok()?;
        if body.first() == Some(&opaque_body::VERSION) {
            let claims = opaque_body::read(&body).filter(|_| bound)?;
            return Some(AccessClaims {
                iss: self.issuer().to_owned(),
                client_id: claims
                    .cid
                    .unwrap_or_else(|| claims.sub.clone())
                    .into_owned(),
                sub: claims.sub.into_owned(),
                aud: self.audience().to_owned(),
                iat: claims.iat,
                exp: claims.exp,
                jti: claims.jti.to_string(),
                scope: claims.scope.into_owned(),
                sid: claims.sid.map(|sid| sid.to_string()),
                cnf: claims.jkt.map(|jkt| Confirmation {
                    jkt: URL_SAFE_NO_PAD.encode(jkt),
                }),
            });
        }
        let body: JsonBody<'_> = serde_json::from_slice(&body).ok()?;
        let (iss, aud) = match (bound, body.v, body.iss, body.aud) {
            (true, 2, None, None) => (self.issuer().to_owned(), self.audience().to_owned()),
            (false, 1, Some(iss), Some(aud)) => (iss.into_owned(), aud.into_owned()),
            _ => return None,
        };
        Some(AccessClaims {
            iss,
            client_id: body.cid.unwrap_or_else(|| body.sub.clone()).into_owned(),
            sub: body.sub.into_owned(),
            aud,
            iat: body.iat,
            exp: body.exp,
            jti: body.jti.into_owned(),
            scope: body.scope.into_owned(),
            sid: body.sid.map(Cow::into_owned),
            cnf: None,
        })
    }
}

/// The 32 bytes of an RFC 7638 thumbprint (base64url of a SHA-256), as a body keeps it.
fn thumbprint_bytes(jkt: &str) -> Result<[u8; 32], OAuthError> {
    URL_SAFE_NO_PAD
        .decode(jkt)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| {
            OAuthError::Internal(InternalError::said(String::from("huella DPoP mal formada")))
        })
}

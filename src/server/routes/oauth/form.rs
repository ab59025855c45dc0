//! The form bodies of the token, introspection and revocation endpoints (RFC 6749 §3.2),
//! and the client's credentials in them or in `Authorization: Basic` (§2.3.1).

use crate::domain::client_keys::JWT_BEARER_ASSERTION;
use crate::domain::oauth::{form_decode, is_form_encoded};
use crate::domain::secret::SecretText;
use crate::service::{ClientAuth, OAuthError};
use axum::http::{HeaderMap, header};
use base64::Engine;
use bytes::Bytes;
use std::borrow::Cow;

/// The parameters of a form body: `application/x-www-form-urlencoded`, each at most once
/// (RFC 6749 §3.2).
pub(super) fn form_params<'a>(
    headers: &HeaderMap,
    body: &'a Bytes,
) -> Result<FormParams<'a>, OAuthError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !is_form {
        return Err(OAuthError::InvalidRequest(
            "El cuerpo debe ser application/x-www-form-urlencoded".into(),
        ));
    }
    FormParams::parse(body).map_err(|name| {
        OAuthError::InvalidRequest(format!("Parámetro repetido: {}", name.escape_debug()))
    })
}

/// A form's parameters sorted by name, borrowed from the body where no decoding was needed:
/// a token request has a handful, and hashing each name (as a `HashMap` would, for every
/// insert and every lookup) cost more than this.
pub(super) struct FormParams<'a>(Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>);

impl<'a> FormParams<'a> {
    /// The parameters, or the name of one that came twice. Decoded as `form_urlencoded`
    /// does (`+` a space, `%XX` a byte, invalid UTF-8 replaced); a pair with nothing to
    /// decode, as a token request's usually are, is only checked and borrowed.
    fn parse(body: &'a [u8]) -> Result<FormParams<'a>, Cow<'a, str>> {
        let mut params = Vec::with_capacity(4);
        for pair in body.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
            let (name, value) = if is_form_encoded(pair) {
                match form_urlencoded::parse(pair).next() {
                    Some(decoded) => decoded,
                    None => continue,
                }
            } else {
                let (name, value) = match pair.iter().position(|&b| b == b'=') {
                    Some(i) => (&pair[..i], &pair[i + 1..]),
                    None => (pair, &[][..]),
                };
                (
                    String::from_utf8_lossy(name),
                    String::from_utf8_lossy(value),
                )
            };
            params.push((name, Some(value)));
        }
        // Stable, so that the check below sees every repeated name next to its twin.
        params.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = params.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(pair[0].0.clone());
        }
        Ok(FormParams(params))
    }

    /// The parameter's value, once: a second call gets `None`.
    pub(super) fn remove(&mut self, name: &str) -> Option<String> {
        let index = self
            .0
            .binary_search_by(|(n, _)| n.as_ref().cmp(name))
            .ok()?;
        self.0[index].1.take().map(Cow::into_owned)
    }
}

pub(super) fn take(params: &mut FormParams<'_>, name: &str) -> Option<String> {
    params.remove(name).filter(|v| !v.is_empty())
}

/// The most bytes `client_id:client_secret` may decode to in Basic.
const BASIC_MAX: usize = 1024;

/// `Authorization: Basic` with the form-urlencoded id and secret (RFC 6749 §2.3.1).
pub(super) fn basic_credentials(headers: &HeaderMap) -> Result<Option<ClientAuth>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let Some(text) = value.to_str().ok() else {
        return Err(OAuthError::InvalidClient);
    };
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(OAuthError::InvalidClient);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    // Decoded on the stack: real credentials are far shorter, and longer ones are refused.
    let mut decoded = [0u8; BASIC_MAX];
    let parsed = base64::engine::general_purpose::STANDARD
        .decode_slice(encoded.trim(), &mut decoded)
        .ok()
        .and_then(|len| std::str::from_utf8(&decoded[..len]).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            Some((form_decode(id)?, form_decode(secret)?))
        });
    match parsed {
        Some((client_id, secret)) => Ok(Some(ClientAuth::Secret {
            client_id,
            client_secret: SecretText::new(secret),
        })),
        None => Err(OAuthError::InvalidClient),
    }
}

/// The client's credentials: Basic, the body's secret or a JWT assertion (RFC 7523 §2.2),
/// never two of them.
pub(super) fn client_auth(
    headers: &HeaderMap,
    params: &mut FormParams<'_>,
) -> Result<Option<ClientAuth>, OAuthError> {
    let basic = basic_credentials(headers)?;
    let post_id = take(params, "client_id");
    let post_secret = take(params, "client_secret");
    let assertion_type = take(params, "client_assertion_type");
    let assertion = take(params, "client_assertion");
    let one_method = || {
        OAuthError::InvalidRequest(
            "Use un solo método de autenticación del cliente (Basic, client_secret_post o \
             private_key_jwt)"
                .into(),
        )
    };
    if assertion.is_some() || assertion_type.is_some() {
        if basic.is_some() || post_secret.is_some() {
            return Err(one_method());
        }
        return match (assertion_type.as_deref(), assertion) {
            (Some(JWT_BEARER_ASSERTION), Some(assertion)) => Ok(Some(ClientAuth::Assertion {
                client_id: post_id,
                assertion: SecretText::new(assertion),
            })),
            (Some(JWT_BEARER_ASSERTION), None) => {
                Err(OAuthError::InvalidRequest("Falta client_assertion".into()))
            }
            (None, _) => Err(OAuthError::InvalidRequest(
                "Falta client_assertion_type".into(),
            )),
            (Some(_), _) => Err(OAuthError::InvalidRequest(format!(
                "client_assertion_type debe ser {JWT_BEARER_ASSERTION}"
            ))),
        };
    }
    match (basic, post_id, post_secret) {
        (Some(_), _, Some(_)) => Err(one_method()),
        (Some(ClientAuth::Secret { client_id, .. }), Some(id), None) if id != client_id => Err(
            OAuthError::InvalidRequest("client_id no coincide con la autenticación Basic".into()),
        ),
        (Some(basic), _, None) => Ok(Some(basic)),
        (None, Some(client_id), Some(secret)) => Ok(Some(ClientAuth::Secret {
            client_id,
            client_secret: SecretText::new(secret),
        })),
        (None, Some(client_id), None) => Ok(Some(ClientAuth::Public { client_id })),
        (None, None, _) => Ok(None),
    }
}

pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}
#[cfg(test)]
mod tests {
    use super::FormParams;

    #[test]
    fn form_params_refuse_a_repeated_name_and_give_each_value_once() {
        let mut params = FormParams::parse(b"scope=a+b&grant_type=client_credentials&x=%41")
            .unwrap_or_else(|name| panic!("refused {name}"));
        assert_eq!(
            params.remove("grant_type").as_deref(),
            Some("client_credentials")
        );
        assert_eq!(params.remove("grant_type"), None, "a value is taken once");
        assert_eq!(params.remove("scope").as_deref(), Some("a b"));
        assert_eq!(params.remove("x").as_deref(), Some("A"));
        assert_eq!(params.remove("missing"), None);
        for repeated in [&b"a=1&b=2&a=3"[..], b"b=&a=&b=", b"%61=1&a=2"] {
            assert_eq!(
                FormParams::parse(repeated).err().as_deref(),
                Some(if repeated[0] == b'b' { "b" } else { "a" })
            );
        }
    }

    proptest::proptest! {
        /// The borrowing parser reads every body as `form_urlencoded` does.
        #[test]
        fn form_params_read_what_form_urlencoded_reads(
            body in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b'&'), proptest::strategy::Just(b'='),
                    proptest::strategy::Just(b'%'), proptest::strategy::Just(b'+'),
                    proptest::strategy::Just(b'a'), proptest::strategy::Just(b'4'),
                    proptest::strategy::Just(0xc3u8), proptest::strategy::Just(0xb1u8),
                    proptest::prelude::any::<u8>(),
                ],
                0..40,
            )
        ) {
            let mut expected: Vec<_> = form_urlencoded::parse(&body).collect();
            expected.sort_by(|a, b| a.0.cmp(&b.0));
            let repeated = expected.windows(2).any(|pair| pair[0].0 == pair[1].0);
            match super::FormParams::parse(&body) {
                Ok(params) => {
                    proptest::prop_assert!(!repeated);
                    let got: Vec<_> = params.0.into_iter()
                        .map(|(name, value)| (name, value.unwrap_or_default()))
                        .collect();
                    proptest::prop_assert_eq!(got, expected);
                }
                Err(_) => proptest::prop_assert!(repeated),
            }
        }
    }
}

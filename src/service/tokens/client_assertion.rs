//! `private_key_jwt` (RFC 7523 §2.2 and §3, OpenID Connect Core §9): a consumer proves who
//! it is with a short-lived JWT signed by one of its registered keys, each usable once.
//! A failure is throttled, counted and audited as a wrong secret is.

use super::*;
use crate::domain::client_keys::ClientKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::Digest;

/// The longest assertion read: a JWT with a few claims and an RSA-8192 signature is far
/// shorter.
const MAX_ASSERTION_BYTES: usize = 8 * 1024;
/// The clock difference allowed between the client and the server.
const ASSERTION_SKEW_SECONDS: i64 = 60;
/// The furthest `exp` may be from now: the default of common client libraries (Authlib
/// signs for an hour), and the time its `jti` is kept.
pub(crate) const MAX_ASSERTION_LIFETIME_SECONDS: i64 = 3600;
/// The longest `jti` accepted.
const MAX_JTI_CHARS: usize = 256;

/// The JOSE header of an assertion: what selects the key.
#[derive(serde::Deserialize)]
struct AssertionHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    /// Extensions the signer requires us to understand: none are, so any is refused.
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// `aud`: one string or several (RFC 7519 §4.1.3).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &[&str]) -> bool {
        match self {
            Audience::One(aud) => wanted.contains(&aud.as_str()),
            Audience::Many(auds) => auds.iter().any(|aud| wanted.contains(&aud.as_str())),
        }
    }
}

/// The claims RFC 7523 §3 asks of a client assertion.
#[derive(serde::Deserialize)]
struct AssertionClaims {
    iss: String,
    sub: String,
    aud: Audience,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    jti: String,
}

/// An assertion split and read, before its signature is checked.
struct Assertion<'a> {
    header: AssertionHeader,
    claims: AssertionClaims,
    /// `header.payload`, what the signature covers.
    signing_input: &'a str,
    signature: Vec<u8>,
}

/// Why an assertion is refused, as the audit log says it (never the assertion itself).
type Refusal = &'static str;

fn read_assertion(text: &str) -> Result<Assertion<'_>, Refusal> {
    const MALFORMED: Refusal = "aserción de cliente mal formada";
    if text.len() > MAX_ASSERTION_BYTES {
        return Err("aserción de cliente demasiado larga");
    }
    let mut parts = text.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(MALFORMED);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| MALFORMED);
    let header: AssertionHeader =
        serde_json::from_slice(&decode(header)?).map_err(|_| MALFORMED)?;
    let claims: AssertionClaims = serde_json::from_slice(&decode(payload)?)
        .map_err(|_| "aserción de cliente sin iss, sub, aud, exp o jti")?;
    Ok(Assertion {
        header,
        claims,
        signing_input: &text[..text.len() - signature.len() - 1],
        signature: decode(signature)?,
    })
}

impl Assertion<'_> {
    /// The key of `keys` that signed it, if one did: named by `kid`, or, without one, any
    /// key of the header's algorithm. `none` and HMAC name no algorithm of ours.
    fn signed_by<'k>(&self, keys: &'k [ClientKey]) -> Result<&'k ClientKey, Refusal> {
        if self.header.crit.is_some() {
            return Err("aserción de cliente con «crit»");
        }
        let alg = crate::domain::client_keys::assertion_alg(&self.header.alg)
            .ok_or("aserción de cliente con un algoritmo no admitido")?;
        let kid = self.header.kid.as_deref();
        keys.iter()
            .filter(|key| key.key.alg() == alg && (kid.is_none() || key.kid.as_deref() == kid))
            .find(|key| {
                crate::service::token_keys::verifies_client_key(
                    &key.key,
                    self.signing_input.as_bytes(),
                    &self.signature,
                )
            })
            .ok_or("aserción de cliente con firma inválida")
    }

    /// The claims' checks besides `iss`/`sub`: audience, times and `jti`'s size.
    fn check_claims(&self, audiences: &[&str], now: i64) -> Result<(), Refusal> {
        let c = &self.claims;
        if !c.aud.contains(audiences) {
            return Err("aserción de cliente para otra audiencia");
        }
        if c.exp + ASSERTION_SKEW_SECONDS <= now {
            return Err("aserción de cliente vencida");
        }
        if c.exp > now + MAX_ASSERTION_LIFETIME_SECONDS + ASSERTION_SKEW_SECONDS {
            return Err("aserción de cliente con un exp demasiado lejano");
        }
        let future = |at: Option<i64>| at.is_some_and(|at| at > now + ASSERTION_SKEW_SECONDS);
        if future(c.nbf) || future(c.iat) {
            return Err("aserción de cliente emitida en el futuro");
        }
        if c.jti.is_empty() || c.jti.chars().count() > MAX_JTI_CHARS {
            return Err("aserción de cliente sin un jti válido");
        }
        Ok(())
    }
}

impl Service {
    /// The consumer a client assertion proves: signed by one of its keys, for this server,
    /// in its time, and never seen before on any replica.
    pub(super) async fn authenticate_assertion(
        &self,
        ip: IpAddr,
        form_client_id: Option<&str>,
        text: &str,
    ) -> Result<Arc<CachedClient>, OAuthError> {
        // A throttled address gets no database reads: only clients already in memory.
        let ip_throttled = if self.throttle.anything_blocked() {
            let ip_key = throttle::address_key("client-ip", ip);
            self.throttle.check(&ip_key).err()
        } else {
            None
        };
        let assertion = match read_assertion(text) {
            Ok(assertion) => assertion,
            Err(why) => {
                let named = form_client_id.unwrap_or("");
                return Err(self.refuse_client(ip, named, why, ip_throttled).await);
            }
        };
        let client_id = assertion.claims.sub.as_str();
        match self
            .check_assertion(&assertion, form_client_id, ip_throttled.is_some())
            .await
        {
            Ok(client) => Ok(client),
            Err(Refused::Client(why)) => {
                Err(self.refuse_client(ip, client_id, why, ip_throttled).await)
            }
            Err(Refused::Oauth(err)) => Err(err),
        }
    }

    async fn check_assertion(
        &self,
        assertion: &Assertion<'_>,
        form_client_id: Option<&str>,
        ip_throttled: bool,
    ) -> Result<Arc<CachedClient>, Refused> {
        let c = &assertion.claims;
        if c.iss != c.sub {
            return Err(Refused::Client(
                "aserción de cliente con iss distinto de sub",
            ));
        }
        if form_client_id.is_some_and(|id| id != c.sub) {
            return Err(Refused::Client(
                "aserción de cliente de otro client_id que el del formulario",
            ));
        }
        let client_id = c.sub.as_str();
        if client_id.is_empty() || client_id.len() > 64 {
            return Err(Refused::Client(
                "autenticación de cliente: Clave desconocida",
            ));
        }
        let client = match self.client_in_memory(client_id) {
            Some(client) => Some(client),
            None if ip_throttled => None,
            None => Box::pin(self.cached_client(client_id))
                .await
                .map_err(|err| Refused::Oauth(err.into()))?,
        };
        let Some(client) = client else {
            return Err(Refused::Client(
                "autenticación de cliente: Clave desconocida",
            ));
        };
        let consumer = &client.credentials.consumer;
        if consumer.auth_method != AuthMethod::PrivateKeyJwt {
            return Err(Refused::Client(
                "aserción de cliente para un consumidor que usa Secreto",
            ));
        }
        if !consumer.may_get_tokens() {
            return Err(Refused::Client(if consumer.enabled {
                "autenticación de cliente: cliente registrado sin aprobar"
            } else {
                "autenticación de cliente: consumidor deshabilitado"
            }));
        }
        match (&consumer.jwks, &consumer.jwks_uri) {
            (Some(keys), _) => {
                assertion.signed_by(keys.keys()).map_err(Refused::Client)?;
            }
            (None, Some(uri)) => {
                Box::pin(self.signed_by_published(assertion, uri)).await?;
            }
            (None, None) => {
                return Err(Refused::Client(
                    "aserción de cliente para un consumidor sin claves públicas",
                ));
            }
        }
        let issuer = self.issuer();
        let token_endpoint = format!("{issuer}/oauth/token");
        let now = self.now().timestamp();
        assertion
            .check_claims(&[issuer, &token_endpoint], now)
            .map_err(Refused::Client)?;
        // Once across every replica, for as long as it could pass the checks above.
        let digest: [u8; 32] = sha2::Sha256::digest(format!("jti:{client_id}:{}", c.jti)).into();
        let until = c.exp + ASSERTION_SKEW_SECONDS;
        match self.use_once(digest, until).await {
            Ok(true) => Ok(client),
            Ok(false) => Err(Refused::Client(
                "aserción de cliente ya usada (jti repetido)",
            )),
            Err(failed) => Err(Refused::Oauth(failed.into())),
        }
    }
}

impl Service {
    /// Checks the assertion against the keys the consumer publishes at `uri` (its
    /// `jwks_uri`), fetched as metadata documents are. A key the cached set lacks (a kid
    /// just rolled over) has the set fetched once more, within the fetch's per-host limit.
    async fn signed_by_published(
        &self,
        assertion: &Assertion<'_>,
        uri: &str,
    ) -> Result<(), Refused> {
        let fetcher = self.fetcher.as_ref().ok_or(Refused::Client(
            "las claves publicadas (jwks_uri) no están disponibles",
        ))?;
        for attempt in 0..2 {
            let document = fetcher.json(uri).await.map_err(|err| {
                tracing::info!(error = %err, "jwks_uri refused");
                Refused::Client("no se pudo obtener la JWKS de jwks_uri")
            })?;
            let keys = ClientKeys::parse(&document).map_err(|why| {
                tracing::info!(why = %why, "jwks_uri holds no usable JWKS");
                Refused::Client("la JWKS de jwks_uri no es válida")
            })?;
            let known_kid = match assertion.header.kid.as_deref() {
                Some(kid) => keys.keys().iter().any(|k| k.kid.as_deref() == Some(kid)),
                None => true,
            };
            if known_kid || attempt == 1 {
                assertion.signed_by(keys.keys()).map_err(Refused::Client)?;
                return Ok(());
            }
            fetcher.forget(uri);
        }
        Err(Refused::Client("aserción de cliente con firma inválida"))
    }
}

/// Why `check_assertion` refused: the client's fault (audited, throttled) or ours.
enum Refused {
    Client(Refusal),
    Oauth(OAuthError),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jws(header: serde_json::Value, claims: serde_json::Value) -> String {
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    fn claims(exp: i64, extra: serde_json::Value) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "iss": "c", "sub": "c", "aud": "https://as/oauth/token", "exp": exp, "jti": "j"
        });
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        claims
    }

    #[test]
    fn the_claims_must_be_for_us_in_time_and_named() {
        let now = 1_000_000;
        let audiences = ["https://as", "https://as/oauth/token"];
        let check = |claims: serde_json::Value| {
            let text = jws(serde_json::json!({"alg": "EdDSA"}), claims);
            read_assertion(&text).and_then(|a| a.check_claims(&audiences, now))
        };
        assert_eq!(check(claims(now + 60, serde_json::json!({}))), Ok(()));
        assert_eq!(
            check(claims(
                now + 60,
                serde_json::json!({"aud": ["x", "https://as"]})
            )),
            Ok(())
        );
        // At the edges of the skew and of the lifetime.
        assert_eq!(check(claims(now - 59, serde_json::json!({}))), Ok(()));
        assert_eq!(check(claims(now + 3660, serde_json::json!({}))), Ok(()));
        for (claims, why) in [
            (claims(now - 60, serde_json::json!({})), "vencida"),
            (claims(now + 3661, serde_json::json!({})), "lejano"),
            (
                claims(now + 60, serde_json::json!({"aud": "https://other"})),
                "audiencia",
            ),
            (
                claims(now + 60, serde_json::json!({"aud": ["a", "b"]})),
                "audiencia",
            ),
            (
                claims(now + 60, serde_json::json!({"iat": now + 61})),
                "futuro",
            ),
            (
                claims(now + 60, serde_json::json!({"nbf": now + 61})),
                "futuro",
            ),
            (claims(now + 60, serde_json::json!({"jti": ""})), "jti"),
            (
                claims(now + 60, serde_json::json!({"jti": "j".repeat(257)})),
                "jti",
            ),
            (
                serde_json::json!({"iss": "c", "sub": "c", "aud": "x", "exp": now}),
                "sin iss",
            ),
        ] {
            let err = check(claims.clone()).unwrap_err();
            assert!(err.contains(why), "{claims}: {err}");
        }
        assert_eq!(
            check(claims(
                now + 60,
                serde_json::json!({"iat": now + 60, "nbf": now})
            )),
            Ok(())
        );
    }

    #[test]
    fn malformed_or_oversized_assertions_are_refused_before_any_lookup() {
        for text in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.c2ln",
            &"a".repeat(MAX_ASSERTION_BYTES + 1),
        ] {
            assert!(read_assertion(text).is_err(), "{text:.20}");
            // (An `Assertion` has no Debug: it holds a credential.)
        }
        let header_only = jws(serde_json::json!({"alg": "EdDSA"}), serde_json::json!({}));
        assert!(
            read_assertion(&header_only)
                .err()
                .is_some_and(|why| why.contains("sin iss"))
        );
    }

    #[test]
    fn none_hmac_and_critical_headers_select_no_key() {
        let key = crate::domain::client_keys::ClientKeys::parse(&serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        }))
        .unwrap();
        for (header, why) in [
            (serde_json::json!({"alg": "none"}), "algoritmo"),
            (serde_json::json!({"alg": "HS256"}), "algoritmo"),
            (serde_json::json!({"alg": "EdDSA", "crit": ["b64"]}), "crit"),
            (serde_json::json!({"alg": "EdDSA"}), "firma"),
            (serde_json::json!({"alg": "EdDSA", "kid": "other"}), "firma"),
        ] {
            let text = jws(header.clone(), claims(1, serde_json::json!({})));
            let assertion = read_assertion(&text).unwrap();
            let err = assertion.signed_by(key.keys()).unwrap_err();
            assert!(err.contains(why), "{header}: {err}");
        }
    }
}

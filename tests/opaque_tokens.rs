//! Opaque access tokens: those issued now (version 3, a body of bytes) leave the issuer and
//! audience out of their body and bind them through their tag, so a token is valid only
//! under the public URL that issued it; version 1 and 2 tokens (JSON bodies), from before,
//! still pass until they expire.

mod common;
mod oauth_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consola::domain::TokenFormat;
use consola::domain::secret::SecretText;
use consola::service::ServiceConfig;
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn with_issuer(issuer: &str) -> ServiceConfig {
    ServiceConfig {
        issuer: Some(issuer.into()),
        ..ServiceConfig::default()
    }
}

/// The body of an opaque token (`consola_at_` body `.` tag), in bytes.
fn body_of(token: &str) -> Vec<u8> {
    let rest = token.strip_prefix("consola_at_").expect("an opaque token");
    let (body, _) = rest.split_once('.').expect("body and tag");
    URL_SAFE_NO_PAD.decode(body).expect("base64url")
}

/// What a version 3 body says that the tests below reuse, read apart from the server's
/// code: (sub, iat, exp, scope) of a client_credentials token (no consumer or grant
/// follows the subject).
fn read_version_3(body: &[u8]) -> (String, i64, i64, String) {
    assert_eq!(body[0], 3, "version");
    let iat = i64::from_be_bytes(body[1..9].try_into().unwrap());
    let exp = i64::from_be_bytes(body[9..17].try_into().unwrap());
    assert_eq!(body[33], 0, "flags of a client_credentials token");
    let sub_len = usize::from(body[34]);
    let sub = String::from_utf8(body[35..35 + sub_len].to_vec()).unwrap();
    let scope = String::from_utf8(body[35 + sub_len..].to_vec()).unwrap();
    (sub, iat, exp, scope)
}

#[tokio::test]
async fn an_opaque_token_is_valid_only_under_the_issuer_that_issued_it() {
    let first = "https://auth.consola.test";
    let h = oauth_support::start_with(with_issuer(first)).await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = oauth_support::creds(&c);
    let token = h.token(&c).await.access_token;
    let (sub, iat, exp, scope) = read_version_3(&body_of(token.expose()));
    assert_eq!(sub, id);
    assert_eq!(exp - iat, 3600);
    assert!(scope.split(' ').any(|s| s == "reports:view"), "{scope}");
    // Nothing of the issuer or the audience is in the body.
    assert!(token.expose().len() < 200, "{}", token.expose().len());
    assert!(h.anon.module_access(&token, "reports").await.is_ok());
    let seen = h.anon.introspect(token.expose(), Some((id, secret))).await;
    let seen = seen.expect("introspection");
    assert!(seen.active);
    assert_eq!(seen.iss.as_deref(), Some(first));

    // The same data directory (same keys) under another public URL refuses it.
    let h = h.restart(with_issuer("https://otro.consola.test")).await;
    let refused = h.anon.module_access(&token, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    let seen = h.anon.introspect(token.expose(), Some((id, secret))).await;
    assert!(!seen.expect("introspection").active);

    // Back under the first, it passes again.
    let h = h.restart(with_issuer(first)).await;
    assert!(h.anon.module_access(&token, "reports").await.is_ok());
    h.server.shutdown().await;
}

/// A JSON opaque token as the server issued it before version 3. Version 1 (`bound` to
/// nothing): the issuer and the audience in the body, the tag over the body alone.
/// Version 2 (`bound` to the issuer and audience): the tag covers them, each
/// length-prefixed, before the body.
fn json_token(key: &[u8], bound: Option<(&str, &str)>, claims: &serde_json::Value) -> SecretText {
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("JSON"));
    tagged(key, bound, &body)
}

/// `consola_at_` + `body` (base64url) + `.` + its tag, bound to an issuer and audience or
/// (version 1) to nothing.
fn tagged(key: &[u8], bound: Option<(&str, &str)>, body: &str) -> SecretText {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new_from_slice(&block).expect("key");
    mac.update(b"consola opaque access token v1\n");
    if let Some((issuer, audience)) = bound {
        for part in [issuer, audience] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
    }
    mac.update(body.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    SecretText::new(format!("consola_at_{body}.{tag}"))
}

fn version_1(key: &[u8], claims: &serde_json::Value) -> SecretText {
    json_token(key, None, claims)
}

#[tokio::test]
async fn a_version_1_opaque_token_from_before_still_passes() {
    let h = oauth_support::start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = oauth_support::creds(&c);
    let (sub, iat, exp, scope) = read_version_3(&body_of(h.token(&c).await.access_token.expose()));
    let key = common::database::token_hmac_key(&h.server, h.dir.path()).await;
    let mut claims = serde_json::json!({
        "v": 1,
        "iss": h.url(),
        "sub": sub,
        "aud": format!("{}/api/v1", h.url()),
        "iat": iat,
        "exp": exp,
        "jti": "01930000-0000-7000-8000-000000000001",
        "scope": scope,
    });
    let old = version_1(&key, &claims);
    assert!(h.anon.module_access(&old, "reports").await.is_ok());
    let seen = h.anon.introspect(old.expose(), Some((id, secret))).await;
    let seen = seen.expect("introspection");
    assert!(seen.active);
    assert_eq!(seen.iss.as_deref(), Some(h.url().as_str()));

    // Its own issuer is still checked, and a version 1 tag does not pass as version 2.
    claims["iss"] = "https://otro.consola.test".into();
    let elsewhere = version_1(&key, &claims);
    let refused = h.anon.module_access(&elsewhere, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    claims["iss"] = h.url().into();
    claims["v"] = 2.into();
    let relabelled = version_1(&key, &claims);
    let refused = h.anon.module_access(&relabelled, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_version_2_opaque_token_from_before_still_passes() {
    let h = oauth_support::start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = oauth_support::creds(&c);
    let (sub, iat, exp, scope) = read_version_3(&body_of(h.token(&c).await.access_token.expose()));
    let key = common::database::token_hmac_key(&h.server, h.dir.path()).await;
    let issuer = h.url();
    let audience = format!("{issuer}/api/v1");
    let mut claims = serde_json::json!({
        "v": 2,
        "sub": sub,
        "iat": iat,
        "exp": exp,
        "jti": "01930000-0000-7000-8000-000000000002",
        "scope": scope,
    });
    let old = json_token(&key, Some((&issuer, &audience)), &claims);
    assert!(h.anon.module_access(&old, "reports").await.is_ok());
    let seen = h.anon.introspect(old.expose(), Some((id, secret))).await;
    let seen = seen.expect("introspection");
    assert!(seen.active);
    assert_eq!(
        seen.jti.as_deref(),
        Some("01930000-0000-7000-8000-000000000002")
    );
    assert_eq!(seen.client_id.as_deref(), Some(id));

    // Bound to another issuer, or tagged as version 1, it is refused.
    let elsewhere = json_token(
        &key,
        Some(("https://otro.consola.test", &audience)),
        &claims,
    );
    let refused = h.anon.module_access(&elsewhere, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    let unbound = version_1(&key, &claims);
    let refused = h.anon.module_access(&unbound, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    // A version 2 body that names an issuer is not one the server wrote.
    claims["iss"] = issuer.clone().into();
    let named = json_token(&key, Some((&issuer, &audience)), &claims);
    let refused = h.anon.module_access(&named, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    h.server.shutdown().await;
}

#[tokio::test]
async fn a_version_3_body_under_a_version_1_tag_is_refused() {
    let h = oauth_support::start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let token = h.token(&c).await.access_token;
    let key = common::database::token_hmac_key(&h.server, h.dir.path()).await;
    let body = URL_SAFE_NO_PAD.encode(body_of(token.expose()));
    let unbound = tagged(&key, None, &body);
    assert!(h.anon.module_access(&token, "reports").await.is_ok());
    let refused = h.anon.module_access(&unbound, "reports").await;
    assert_eq!(common::status_of(refused), 401);
    h.server.shutdown().await;
}

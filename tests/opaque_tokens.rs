//! Opaque access tokens: those issued now (version 2) leave the issuer and audience out of
//! their body and bind them through their tag, so a token is valid only under the public
//! URL that issued it; version 1 tokens, from before, still pass until they expire.

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

/// The JSON body of an opaque token (`consola_at_` body `.` tag).
fn body_of(token: &str) -> serde_json::Value {
    let rest = token.strip_prefix("consola_at_").expect("an opaque token");
    let (body, _) = rest.split_once('.').expect("body and tag");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn an_opaque_token_is_valid_only_under_the_issuer_that_issued_it() {
    let first = "https://auth.consola.test";
    let h = oauth_support::start_with(with_issuer(first)).await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = oauth_support::creds(&c);
    let token = h.token(&c).await.access_token;
    let body = body_of(token.expose());
    assert_eq!(body["v"], 2);
    assert!(
        body.get("iss").is_none() && body.get("aud").is_none(),
        "{body}"
    );
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

/// A version 1 opaque token as the server issued it before version 2: the issuer and the
/// audience in the body, the tag over the body alone.
fn version_1(key: &[u8], claims: &serde_json::Value) -> SecretText {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new_from_slice(&block).expect("key");
    mac.update(b"consola opaque access token v1\n");
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("JSON"));
    mac.update(body.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    SecretText::new(format!("consola_at_{body}.{tag}"))
}

#[tokio::test]
async fn a_version_1_opaque_token_from_before_still_passes() {
    let h = oauth_support::start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = oauth_support::creds(&c);
    let issued = body_of(h.token(&c).await.access_token.expose());
    let key = common::database::token_hmac_key(&h.server, h.dir.path()).await;
    let mut claims = serde_json::json!({
        "v": 1,
        "iss": h.url(),
        "sub": issued["sub"],
        "aud": format!("{}/api/v1", h.url()),
        "iat": issued["iat"],
        "exp": issued["exp"],
        "jti": "01930000-0000-7000-8000-000000000001",
        "scope": issued["scope"],
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

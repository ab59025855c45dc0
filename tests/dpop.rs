//! DPoP (RFC 9449) against a real server (SQLite, or PostgreSQL with
//! `CONSOLA_TEST_POSTGRES`): a token request with a proof gets a token bound to the proof's
//! key (`token_type: DPoP`, `cnf.jkt`), which the API then takes only with a proof of the
//! same key for that request and that token; every proof is used once. Real client
//! libraries do the same in `private_key_jwt_clients`.

mod common;
mod key_support;
mod oauth_support;

use base64::Engine;
use consola::domain::*;
use consola::service::ServiceConfig;
use key_support::TestKey;
use oauth_support::*;
use serde_json::{Value, json};

const RESOURCE: &str = "/api/v1/modules/reports/access";

/// A consumer of reports with a Secreto.
async fn consumer(h: &Harness, format: TokenFormat, require_dpop: bool) -> CreatedConsumer {
    let group = h
        .group(
            &format!("Grupo {}", consola::domain::secret::generate_client_id()),
            &[("reports", &[Action::View])],
        )
        .await;
    let mut new = common::new_consumer(
        &format!("App {}", consola::domain::secret::generate_client_id()),
        group.id,
    );
    new.token_format = format;
    new.require_dpop = require_dpop;
    h.consumer_with(new).await
}

/// The token endpoint's status, JSON and `DPoP-Nonce` for `c` with these DPoP headers.
async fn token_with(
    h: &Harness,
    c: &CreatedConsumer,
    proofs: &[&str],
) -> (u16, Value, Option<String>) {
    let (id, secret) = creds(c);
    let mut request = raw()
        .post(format!("{}/oauth/token", h.url()))
        .basic_auth(id, Some(secret.expose()))
        .form(&[("grant_type", "client_credentials")]);
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let response = request.send().await.expect("token endpoint");
    let status = response.status().as_u16();
    let nonce = response
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_string());
    (status, response.json().await.unwrap_or(Value::Null), nonce)
}

/// The API's status, `WWW-Authenticate` and `DPoP-Nonce` for `Authorization: {scheme}
/// {token}` with these DPoP headers.
async fn resource_with(
    h: &Harness,
    scheme: &str,
    token: &str,
    proofs: &[&str],
) -> (u16, String, Option<String>) {
    let mut request = raw()
        .get(format!("{}{RESOURCE}", h.url()))
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("DPoP", *proof);
    }
    let response = request.send().await.expect("API");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (challenge, nonce) = (
        header("www-authenticate").unwrap_or_default(),
        header("dpop-nonce"),
    );
    (response.status().as_u16(), challenge, nonce)
}

fn token_url(h: &Harness) -> String {
    format!("{}/oauth/token", h.url())
}

fn resource_url(h: &Harness) -> String {
    format!("{}{RESOURCE}", h.url())
}

#[tokio::test]
async fn a_proof_binds_the_token_to_its_key_in_both_formats() {
    let h = start().await;
    for format in [TokenFormat::Opaque, TokenFormat::Jwt] {
        let c = consumer(&h, format, false).await;
        let key = TestKey::new("ES256", "dpop");
        let proof = key.dpop_proof("POST", &token_url(&h), None, None);
        let (status, body, nonce) = token_with(&h, &c, &[&proof]).await;
        assert_eq!(status, 200, "{format:?}: {body}");
        assert_eq!(body["token_type"], "DPoP");
        assert!(nonce.is_some(), "a nonce is offered");
        let token = body["access_token"].as_str().unwrap().to_string();
        if format == TokenFormat::Jwt {
            let payload = token.split('.').nth(1).unwrap();
            let claims: Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .unwrap(),
            )
            .unwrap();
            assert_eq!(claims["cnf"]["jkt"], key.thumbprint(), "RFC 9449 §6.1");
        }
        // Introspection reports the binding (§6.2).
        let (id, secret) = creds(&c);
        let introspected: Value = raw()
            .post(format!("{}/oauth/introspect", h.url()))
            .basic_auth(id, Some(secret.expose()))
            .form(&[("token", token.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(introspected["active"], true);
        assert_eq!(introspected["token_type"], "DPoP");
        assert_eq!(introspected["cnf"]["jkt"], key.thumbprint());

        // The API: with a proof of the key for this request and token, and only so.
        let url = resource_url(&h);
        let good = key.dpop_proof("GET", &url, Some(&token), None);
        assert_eq!(resource_with(&h, "DPoP", &token, &[&good]).await.0, 200);
        let (status, challenge, _) = resource_with(&h, "Bearer", &token, &[]).await;
        assert_eq!(status, 401, "a bound token without its proof");
        assert!(challenge.starts_with("DPoP "), "{challenge}");
        let other_key = TestKey::new("ES256", "other");
        for (what, proof) in [
            ("replayed", good.clone()),
            (
                "another key",
                other_key.dpop_proof("GET", &url, Some(&token), None),
            ),
            (
                "another URL",
                key.dpop_proof("GET", &token_url(&h), Some(&token), None),
            ),
            (
                "another method",
                key.dpop_proof("POST", &url, Some(&token), None),
            ),
            (
                "another token",
                key.dpop_proof("GET", &url, Some("consola_at_x.y"), None),
            ),
            ("no ath", key.dpop_proof("GET", &url, None, None)),
        ] {
            let (status, challenge, _) = resource_with(&h, "DPoP", &token, &[&proof]).await;
            assert_eq!(status, 401, "{what}");
            assert!(
                challenge.contains("invalid_dpop_proof"),
                "{what}: {challenge}"
            );
        }
        assert_eq!(
            resource_with(&h, "DPoP", &token, &[]).await.0,
            401,
            "no proof"
        );
        // A query string is not part of htu.
        let with_query = key.dpop_proof("GET", &url, Some(&token), None);
        let status = raw()
            .get(format!("{url}?x=1"))
            .header("authorization", format!("DPoP {token}"))
            .header("DPoP", with_query)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    // A bearer token stays a bearer token: not takeable as DPoP.
    let c = consumer(&h, TokenFormat::Opaque, false).await;
    let bearer = h.token(&c).await.access_token;
    let key = TestKey::new("EdDSA", "k");
    let proof = key.dpop_proof("GET", &resource_url(&h), Some(bearer.expose()), None);
    assert_eq!(
        resource_with(&h, "DPoP", bearer.expose(), &[&proof])
            .await
            .0,
        401
    );
    assert_eq!(
        resource_with(&h, "Bearer", bearer.expose(), &[]).await.0,
        200
    );
}

#[tokio::test]
async fn proofs_that_are_replayed_misdirected_stale_or_malformed_are_refused() {
    let h = start().await;
    let c = consumer(&h, TokenFormat::Opaque, false).await;
    let key = TestKey::new("EdDSA", "dpop");
    let url = token_url(&h);
    let once = key.dpop_proof("POST", &url, None, None);
    assert_eq!(token_with(&h, &c, &[&once]).await.0, 200);
    let now = chrono::Utc::now().timestamp();
    let claims = |changes: Value| {
        let mut claims =
            json!({"jti": uuid::Uuid::now_v7().to_string(), "htm": "POST", "htu": url, "iat": now});
        for (name, value) in changes.as_object().unwrap() {
            claims[name] = value.clone();
        }
        claims
    };
    let mut private = key.proof_jwk();
    private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let header_body = |header: Value| {
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}", b64(&header), b64(&claims(json!({}))))
    };
    let refused: Vec<(&str, String)> = vec![
        ("replayed", once.clone()),
        ("another URL", key.dpop_proof("POST", &format!("{}/oauth/revoke", h.url()), None, None)),
        ("another method", key.dpop_proof("GET", &url, None, None)),
        ("ten minutes old", key.dpop_proof_of(&claims(json!({"iat": now - 600})))),
        ("from the future", key.dpop_proof_of(&claims(json!({"iat": now + 600})))),
        ("no jti", key.dpop_proof_of(&json!({"htm": "POST", "htu": url, "iat": now}))),
        (
            "typ JWT",
            key.jws(&json!({"typ": "JWT", "alg": "EdDSA", "jwk": key.proof_jwk()}), &claims(json!({}))),
        ),
        (
            "a private jwk",
            key.jws(&json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": private}), &claims(json!({}))),
        ),
        (
            "another key's jwk",
            key.jws(
                &json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": TestKey::new("EdDSA", "x").proof_jwk()}),
                &claims(json!({})),
            ),
        ),
        (
            "alg none",
            format!("{}.", header_body(json!({"typ": "dpop+jwt", "alg": "none", "jwk": key.proof_jwk()}))),
        ),
        ("not a JWT", "dpop".to_string()),
    ];
    for (what, proof) in &refused {
        let (status, body, _) = token_with(&h, &c, &[proof]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{what}: {body}"
        );
    }
    let fresh = key.dpop_proof("POST", &url, None, None);
    let (status, body, _) = token_with(&h, &c, &[&fresh, &fresh]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "two headers"
    );
}

#[tokio::test]
async fn a_consumer_set_to_require_dpop_gets_no_bearer_token() {
    let h = start().await;
    let c = consumer(&h, TokenFormat::Jwt, true).await;
    assert!(c.consumer.require_dpop);
    let (status, body, _) = token_with(&h, &c, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let key = TestKey::new("RS256", "k");
    let proof = key.dpop_proof("POST", &token_url(&h), None, None);
    assert_eq!(token_with(&h, &c, &[&proof]).await.0, 200);
    // Set back, it takes bearer requests again.
    let updated = h
        .admin
        .update_consumer(
            c.consumer.id,
            &ConsumerPatch {
                require_dpop: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    assert!(!updated.require_dpop);
    assert_eq!(token_with(&h, &c, &[]).await.0, 200);
}

#[tokio::test]
async fn a_required_nonce_is_given_then_taken_at_the_token_endpoint_and_the_api() {
    let h = start_with(ServiceConfig {
        dpop_nonce_required: true,
        ..Default::default()
    })
    .await;
    let c = consumer(&h, TokenFormat::Opaque, false).await;
    let key = TestKey::new("ES256", "k");
    let url = token_url(&h);
    let (status, body, nonce) =
        token_with(&h, &c, &[&key.dpop_proof("POST", &url, None, None)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let nonce = nonce.expect("the nonce to use");
    let wrong = key.dpop_proof("POST", &url, None, Some("not-the-nonce"));
    assert_eq!(
        token_with(&h, &c, &[&wrong]).await.1["error"],
        "use_dpop_nonce"
    );
    let (status, body, _) =
        token_with(&h, &c, &[&key.dpop_proof("POST", &url, None, Some(&nonce))]).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let api = resource_url(&h);
    let (status, challenge, offered) = resource_with(
        &h,
        "DPoP",
        &token,
        &[&key.dpop_proof("GET", &api, Some(&token), None)],
    )
    .await;
    assert_eq!(status, 401);
    assert!(challenge.contains("use_dpop_nonce"), "{challenge}");
    let offered = offered.expect("a nonce");
    let proof = key.dpop_proof("GET", &api, Some(&token), Some(&offered));
    assert_eq!(resource_with(&h, "DPoP", &token, &[&proof]).await.0, 200);
}

#[tokio::test]
async fn the_metadata_names_the_proof_algorithms() {
    let h = start().await;
    let metadata: Value = raw()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            h.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        metadata["dpop_signing_alg_values_supported"],
        json!(["EdDSA", "Ed25519", "ES256", "RS256"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proofs_sent_at_once_are_each_taken_once_however_they_are_grouped() {
    let h = start().await;
    let c = consumer(&h, TokenFormat::Opaque, false).await;
    let key = TestKey::new("EdDSA", "k");
    let url = token_url(&h);
    // Forty different proofs at once: every one gets its token.
    let fresh: Vec<String> = (0..40)
        .map(|_| key.dpop_proof("POST", &url, None, None))
        .collect();
    let answers = futures::future::join_all(fresh.iter().map(|p| {
        let (h, c) = (&h, &c);
        async move { token_with(h, c, &[p.as_str()]).await }
    }))
    .await;
    assert!(
        answers.iter().all(|(status, _, _)| *status == 200),
        "{answers:?}"
    );
    // One proof twenty times at once: one token, nineteen refusals, whatever the groups.
    let once = key.dpop_proof("POST", &url, None, None);
    let answers = futures::future::join_all((0..20).map(|_| {
        let (h, c, once) = (&h, &c, once.as_str());
        async move { token_with(h, c, &[once]).await }
    }))
    .await;
    let taken = answers
        .iter()
        .filter(|(status, _, _)| *status == 200)
        .count();
    assert_eq!(taken, 1, "{answers:?}");
    assert!(
        answers
            .iter()
            .all(|(status, body, _)| *status == 200 || body["error"] == "invalid_dpop_proof")
    );
}

//! `private_key_jwt` (RFC 7523 §2.2, §3): a consumer registers public keys instead of
//! getting a Secreto, and proves who it is at the token endpoint with a short-lived JWT
//! signed by one of them, each usable once. Against a real server (SQLite, or PostgreSQL
//! with `CONSOLA_TEST_POSTGRES`); the assertions are signed here with AWS-LC, and by real
//! client libraries in `private_key_jwt_clients`.

mod common;
mod key_support;
mod oauth_support;

use consola::domain::client_keys::JWT_BEARER_ASSERTION;
use consola::domain::*;
use consola::service::ServiceConfig;
use key_support::TestKey;
use oauth_support::*;
use serde_json::{Value, json};

/// A client-credentials consumer of reports that authenticates with `keys`.
async fn key_consumer(h: &Harness, keys: &[&TestKey]) -> CreatedConsumer {
    let group = h
        .group(
            &format!("Grupo {}", consola::domain::secret::generate_client_id()),
            &[("reports", &[Action::View])],
        )
        .await;
    let mut new = common::new_consumer(
        &format!("Máquina {}", consola::domain::secret::generate_client_id()),
        group.id,
    );
    new.auth_method = AuthMethod::PrivateKeyJwt;
    new.jwks = Some(TestKey::jwks(keys));
    h.consumer_with(new).await
}

fn token_url(h: &Harness) -> String {
    format!("{}/oauth/token", h.url())
}

/// The token endpoint's status and JSON for a client_credentials request with `form`.
async fn post_token(h: &Harness, form: &[(&str, &str)]) -> (u16, Value) {
    let mut fields = vec![("grant_type", "client_credentials")];
    fields.extend_from_slice(form);
    let response = raw()
        .post(token_url(h))
        .form(&fields)
        .send()
        .await
        .expect("token endpoint answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn with_assertion(h: &Harness, assertion: &str) -> (u16, Value) {
    post_token(
        h,
        &[
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", assertion),
        ],
    )
    .await
}

#[tokio::test]
async fn a_key_pair_consumer_has_no_secret_and_gets_tokens_with_each_algorithm() {
    let h = start().await;
    for alg in ["EdDSA", "ES256", "RS256"] {
        let key = TestKey::new(alg, &format!("{alg}-1"));
        let created = key_consumer(&h, &[&key]).await;
        let c = &created.consumer;
        assert!(created.client_secret.is_none(), "{alg}: no Secreto is made");
        assert_eq!(c.secret_last_four, "");
        assert_eq!(c.auth_method, AuthMethod::PrivateKeyJwt);
        let keys = c.jwks.as_ref().expect("its keys");
        assert_eq!(keys.keys().len(), 1);
        assert_eq!(
            keys.keys()[0].kid.as_deref(),
            Some(format!("{alg}-1").as_str())
        );
        // Reads give the public keys back, never anything private.
        let read = h.admin.consumer(c.id).await.unwrap();
        assert_eq!(read.jwks, c.jwks);
        let stored = serde_json::to_value(&read).unwrap();
        assert!(stored["jwks"]["keys"][0].get("d").is_none());

        let (status, body) = with_assertion(&h, &key.assertion(&c.client_id, &token_url(&h))).await;
        assert_eq!(status, 200, "{alg}: {body}");
        assert_eq!(body["token_type"], "Bearer");
        let token = body["access_token"].as_str().unwrap().to_string();
        let access = h
            .anon
            .module_access(&token.into(), "reports")
            .await
            .expect("the token reaches its group's module");
        assert_eq!(access.module, "reports");
        // The issuer is an audience too (OpenID Connect Core §9), and a client_id sent
        // beside the assertion must be the assertion's own.
        let (status, _) = post_token(
            &h,
            &[
                ("client_id", &c.client_id),
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", &key.assertion(&c.client_id, &h.url())),
            ],
        )
        .await;
        assert_eq!(status, 200, "{alg}: aud = issuer");
    }
}

#[tokio::test]
async fn replayed_forged_late_or_misaddressed_assertions_are_refused() {
    // Room for every refusal below before the throttle answers instead (tested apart).
    let h = start_with(ServiceConfig {
        client_failures_per_client: 1000,
        client_failures_per_ip: 1000,
        ..Default::default()
    })
    .await;
    let key = TestKey::new("ES256", "k1");
    let created = key_consumer(&h, &[&key]).await;
    let id = created.consumer.client_id.clone();
    let aud = token_url(&h);
    let now = chrono::Utc::now().timestamp();

    let once = key.assertion(&id, &aud);
    assert_eq!(with_assertion(&h, &once).await.0, 200);
    let (status, body) = with_assertion(&h, &once).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "replayed"
    );

    let stranger = TestKey::new("ES256", "k1");
    let other = key_consumer(&h, &[&TestKey::new("EdDSA", "x")]).await;
    let unsigned = format!(
        "{}.{}.",
        base64_url(&json!({"alg": "none"})),
        base64_url(&json!({"iss": id, "sub": id, "aud": aud, "exp": now + 60, "jti": "n"}))
    );
    let refused = [
        ("another key, same kid", stranger.assertion(&id, &aud)),
        (
            "another audience",
            key.assertion(&id, "https://elsewhere.example/token"),
        ),
        (
            "expired",
            key.assertion_with(&id, &aud, json!({"exp": now - 120})),
        ),
        (
            "exp two hours away",
            key.assertion_with(&id, &aud, json!({"exp": now + 7200})),
        ),
        (
            "issued in the future",
            key.assertion_with(&id, &aud, json!({"iat": now + 600})),
        ),
        (
            "iss is not sub",
            key.assertion_with(&id, &aud, json!({"iss": "someone"})),
        ),
        ("no jti", key.assertion_with(&id, &aud, json!({"jti": ""}))),
        ("unsigned (alg none)", unsigned),
        (
            "HS256",
            key.jws(
                &json!({"alg": "HS256", "kid": "k1"}),
                &json!({"iss": id, "sub": id, "aud": aud, "exp": now + 60, "jti": "h"}),
            ),
        ),
        (
            "a kid it does not have",
            key.jws(
                &json!({"alg": "ES256", "kid": "k2"}),
                &json!({"iss": id, "sub": id, "aud": aud, "exp": now + 60, "jti": "k"}),
            ),
        ),
        (
            "signed as another consumer",
            key.assertion(&other.consumer.client_id, &aud),
        ),
        ("not a JWT", "eyJhbGciOiJFUzI1NiJ9.e30".to_string()),
    ];
    for (what, assertion) in &refused {
        let (status, body) = with_assertion(&h, assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{what}: {body}"
        );
    }
    // A client_id beside the assertion that is not the assertion's.
    let (status, _) = post_token(
        &h,
        &[
            ("client_id", &other.consumer.client_id),
            ("client_assertion_type", JWT_BEARER_ASSERTION),
            ("client_assertion", &key.assertion(&id, &aud)),
        ],
    )
    .await;
    assert_eq!(status, 401, "client_id of another consumer");
    // A well-formed secret is refused for a consumer that has none.
    let guess =
        consola::domain::secret::generate(consola::domain::secret::SecretKind::ClientSecret);
    let (status, _) = post_token(&h, &[("client_id", &id), ("client_secret", &guess)]).await;
    assert_eq!(status, 401, "a secret for a key pair's consumer");
    // The request's shape: one method at a time, the RFC 7523 assertion type.
    for (form, what) in [
        (
            vec![
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ),
                ("client_assertion", once.as_str()),
            ],
            "saml2-bearer",
        ),
        (vec![("client_assertion", once.as_str())], "no type"),
        (
            vec![("client_assertion_type", JWT_BEARER_ASSERTION)],
            "no assertion",
        ),
        (
            vec![
                ("client_assertion_type", JWT_BEARER_ASSERTION),
                ("client_assertion", once.as_str()),
                ("client_secret", guess.as_str()),
            ],
            "two methods",
        ),
    ] {
        let (status, body) = post_token(&h, &form).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_request")),
            "{what}"
        );
    }
    // Each refusal is audited with its reason, never with the assertion.
    let audit = h
        .admin
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap();
    let descriptions: Vec<&str> = audit.items.iter().map(|e| e.description.as_str()).collect();
    for reason in [
        "jti repetido",
        "firma inválida",
        "otra audiencia",
        "vencida",
        "algoritmo",
    ] {
        assert!(
            descriptions.iter().any(|d| d.contains(reason)),
            "no audit entry says {reason}: {descriptions:?}"
        );
    }
    let all = serde_json::to_string(&audit.items).unwrap();
    for (_, assertion) in &refused {
        let signature = assertion.rsplit('.').next().unwrap_or_default();
        assert!(signature.len() < 8 || !all.contains(signature));
    }
    assert!(!all.contains(&once));
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn keys_roll_over_by_kid_and_there_is_no_secret_to_rotate() {
    let h = start().await;
    let (a, b) = (
        TestKey::new("EdDSA", "2026-a"),
        TestKey::new("RS256", "2026-b"),
    );
    let created = key_consumer(&h, &[&a]).await;
    let c = &created.consumer;
    let aud = token_url(&h);
    let both = h
        .admin
        .update_consumer(
            c.id,
            &ConsumerPatch {
                jwks: Some(TestKey::jwks(&[&a, &b])),
                ..Default::default()
            },
            Some(c.version),
        )
        .await
        .unwrap();
    for key in [&a, &b] {
        assert_eq!(
            with_assertion(&h, &key.assertion(&c.client_id, &aud))
                .await
                .0,
            200
        );
    }
    let only_b = h
        .admin
        .update_consumer(
            c.id,
            &ConsumerPatch {
                jwks: Some(TestKey::jwks(&[&b])),
                ..Default::default()
            },
            Some(both.version),
        )
        .await
        .unwrap();
    assert_eq!(only_b.jwks.as_ref().unwrap().keys().len(), 1);
    assert_eq!(
        with_assertion(&h, &a.assertion(&c.client_id, &aud)).await.0,
        401,
        "a is gone"
    );
    assert_eq!(
        with_assertion(&h, &b.assertion(&c.client_id, &aud)).await.0,
        200
    );
    // The audit names the keys by thumbprint.
    let thumbprint = only_b.jwks.as_ref().unwrap().keys()[0].thumbprint.clone();
    let audit = h.admin.audit(&AuditQuery::default()).await.unwrap();
    assert!(
        audit
            .items
            .iter()
            .any(|e| e.description.contains(&thumbprint)),
        "the edit names the new key's thumbprint"
    );
    let err = h
        .admin
        .rotate_secret(c.id, &RotateSecret::default())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409));
    assert_eq!(code(&err), Some("no_secret"));
}

#[tokio::test]
async fn keys_that_cannot_serve_are_refused_beside_their_field() {
    let h = start().await;
    let group = h.group("Claves", &[("reports", &[Action::View])]).await;
    let key = TestKey::new("EdDSA", "k");
    let mut private = key.public_jwk();
    private["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    let cases = [
        (AuthMethod::PrivateKeyJwt, None, "necesita"),
        (
            AuthMethod::PrivateKeyJwt,
            Some(json!({"keys": [private]})),
            "privada",
        ),
        (
            AuthMethod::PrivateKeyJwt,
            Some(json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})),
            "simétricas",
        ),
        (AuthMethod::PrivateKeyJwt, Some(json!("not a jwks")), "JWKS"),
        (
            AuthMethod::ClientSecret,
            Some(TestKey::jwks(&[&key])),
            "Solo",
        ),
    ];
    for (method, jwks, reason) in cases {
        let mut new = common::new_consumer("Con claves", group.id);
        new.auth_method = method;
        new.jwks = jwks.clone();
        let err = h.admin.create_consumer(&new).await.unwrap_err();
        assert_eq!(err.status(), Some(422), "{jwks:?}");
        let message = err
            .field_errors()
            .get("jwks")
            .unwrap_or_default()
            .to_string();
        assert!(message.contains(reason), "{jwks:?}: {message}");
    }
    let created = key_consumer(&h, &[&key]).await;
    let err = h
        .admin
        .update_consumer(
            created.consumer.id,
            &ConsumerPatch {
                jwks: Some(json!({"keys": []})),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    assert!(err.field_errors().get("jwks").is_some());
    // Nothing was half written: the key still works.
    let aud = token_url(&h);
    let id = &created.consumer.client_id;
    assert_eq!(with_assertion(&h, &key.assertion(id, &aud)).await.0, 200);
}

#[tokio::test]
async fn the_metadata_offers_private_key_jwt_and_its_algorithms() {
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
    assert!(
        metadata["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("private_key_jwt"))
    );
    assert_eq!(
        metadata["token_endpoint_auth_signing_alg_values_supported"],
        json!(["EdDSA", "Ed25519", "ES256", "RS256"])
    );
}

#[tokio::test]
async fn failed_assertions_are_throttled_as_wrong_secrets_are_and_the_right_key_still_passes() {
    let h = start_with(ServiceConfig {
        client_failures_per_client: 3,
        ..Default::default()
    })
    .await;
    let key = TestKey::new("EdDSA", "k");
    let created = key_consumer(&h, &[&key]).await;
    let id = &created.consumer.client_id;
    let aud = token_url(&h);
    let forger = TestKey::new("EdDSA", "k");
    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(with_assertion(&h, &forger.assertion(id, &aud)).await.0);
    }
    assert_eq!(
        answers,
        [401, 401, 401, 429],
        "blocked after the third failure"
    );
    // Whoever hammers a Clave cannot lock its owner out.
    assert_eq!(with_assertion(&h, &key.assertion(id, &aud)).await.0, 200);
}

//! Access tokens after issue: the protected endpoint, introspection, revocation, metadata,
//! JWKS and key rotation, validation without the database, the "Reportes" story and a
//! standard OAuth2 client library.

mod common;
mod oauth_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use consola::domain::oauth::AccessClaims;
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::service::ServiceConfig;
use oauth_support::*;
use std::time::Duration;

#[tokio::test]
async fn reportes_story_reads_reports_and_nothing_else() {
    let h = start().await;
    let group = h.group("Reportes", &[("reports", &[Action::View])]).await;
    assert_eq!(
        group.scopes().into_iter().collect::<Vec<_>>(),
        vec!["reports:view".to_string()]
    );
    let c = h
        .consumer(
            "Tablero",
            &group,
            GrantType::ClientCredentials,
            TokenFormat::Opaque,
        )
        .await;
    let token = h.token(&c).await;
    assert_eq!(token.scope, "reports:view");
    let access = h
        .anon
        .module_access(&token.access_token, "reports")
        .await
        .unwrap();
    assert_eq!(access.module, "reports");
    assert_eq!(access.actions, vec![Action::View]);
    let refused = h
        .anon
        .module_access(&token.access_token, "work_orders")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403));
    assert_eq!(code(&refused), Some("insufficient_scope"));
}

#[tokio::test]
async fn protected_endpoint_answers_rfc_6750() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let token = h.token(&c).await;
    let url = |m: &str| format!("{}/api/v1/modules/{m}/access", h.url());
    let http = raw();

    let none = http.get(url("reports")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(
        none.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );

    let mut forged = token.access_token.expose().to_string();
    forged.insert(20, 'x');
    for bad in [forged.as_str(), "consola_at_nada.nada", "a.b.c"] {
        let response = http
            .get(url("reports"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let challenge = response.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    }

    let ok = http
        .get(url("reports"))
        .bearer_auth(token.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"module": "reports", "actions": ["view", "report"]})
    );

    let scant = http
        .get(url("work_orders"))
        .bearer_auth(token.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(scant.status(), 403);
    let challenge = scant.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );

    let unknown = http
        .get(url("no_such_module"))
        .bearer_auth(token.access_token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn expired_tokens_are_refused_and_inactive() {
    // Three seconds: `exp` is in whole seconds, so a token lives between two and three,
    // long enough to be used once at first even on a busy machine.
    let h = start_with(ServiceConfig {
        access_token_ttl: chrono::Duration::seconds(3),
        ..ServiceConfig::default()
    })
    .await;
    let c = h.reports_consumer(TokenFormat::Jwt).await;
    let (id, secret) = creds(&c);
    let token = h.token(&c).await;
    assert!(
        h.anon
            .module_access(&token.access_token, "reports")
            .await
            .is_ok()
    );
    eventually("the token expires", Duration::from_secs(15), || async {
        h.anon
            .module_access(&token.access_token, "reports")
            .await
            .is_err_and(|e| e.status() == Some(401))
    })
    .await;
    let seen = h
        .anon
        .introspect(token.access_token.expose(), Some((id, secret)))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&seen).unwrap(),
        serde_json::json!({"active": false})
    );
}

async fn introspect_raw(
    h: &Harness,
    token: &str,
    auth: Option<String>,
    bearer: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = raw()
        .post(format!("{}/oauth/introspect", h.url()))
        .form(&[("token", token)]);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

#[tokio::test]
async fn introspection_shapes() {
    let h = start().await;
    let a = h.reports_consumer(TokenFormat::Opaque).await;
    let b = h.reports_consumer(TokenFormat::Jwt).await;
    let (a_id, a_secret) = creds(&a);
    let (b_id, b_secret) = creds(&b);
    let a_token = h.token(&a).await;
    let a_basic = consola::client::Client::basic_header(a_id, a_secret);
    let b_basic = consola::client::Client::basic_header(b_id, b_secret);

    let (status, active) = introspect_raw(
        &h,
        a_token.access_token.expose(),
        Some(a_basic.clone()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let keys: Vec<&str> = active
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "active",
        "scope",
        "client_id",
        "token_type",
        "exp",
        "iat",
        "sub",
        "aud",
        "iss",
        "jti",
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    assert_eq!(active["active"], true);
    assert_eq!(active["client_id"], a_id);
    assert_eq!(active["sub"], a_id);
    assert_eq!(active["iss"], h.url());
    assert_eq!(active["scope"], "assets:view reports:report reports:view");

    let inactive = serde_json::json!({"active": false});
    // Foreign: b may not see a's token.
    let (status, body) =
        introspect_raw(&h, a_token.access_token.expose(), Some(b_basic), None).await;
    assert_eq!((status, body), (200, inactive.clone()));
    // Garbage.
    let (status, body) =
        introspect_raw(&h, "consola_at_garbage.x", Some(a_basic.clone()), None).await;
    assert_eq!((status, body), (200, inactive.clone()));

    // An admin session sees every token.
    let admin_token = h.admin.token().unwrap().expose().to_string();
    let (status, body) =
        introspect_raw(&h, a_token.access_token.expose(), None, Some(&admin_token)).await;
    assert_eq!(
        (status, body["active"].clone()),
        (200, serde_json::json!(true))
    );
    // A read-only session may not.
    h.admin
        .create_user(&NewUser {
            username: "lectora".into(),
            display_name: "Lectora".into(),
            password: PASSWORD.into(),
            role: Role::ReadOnly,
        })
        .await
        .unwrap();
    let reader = h.anon.login("lectora", PASSWORD).await.unwrap();
    let (status, body) = introspect_raw(
        &h,
        a_token.access_token.expose(),
        None,
        Some(reader.token.expose()),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "access_denied");
    // No caller, a wrong secret, no token.
    let (status, body) = introspect_raw(&h, a_token.access_token.expose(), None, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let wrong =
        consola::client::Client::basic_header(a_id, &SecretText::new("consola_cs_x".into()));
    let (status, _) = introspect_raw(&h, a_token.access_token.expose(), Some(wrong), None).await;
    assert_eq!(status, 401);
    let missing = raw()
        .post(format!("{}/oauth/introspect", h.url()))
        .header("authorization", a_basic)
        .form(&[("nothing", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
}

#[tokio::test]
async fn revocation_is_immediate_durable_and_quiet_about_unknown_tokens() {
    let h = start().await;
    let a = h.reports_consumer(TokenFormat::Opaque).await;
    let b = h.reports_consumer(TokenFormat::Opaque).await;
    let (a_id, a_secret) = creds(&a);
    let (b_id, b_secret) = creds(&b);
    let first = h.token(&a).await;
    let second = h.token(&a).await;

    // Unknown tokens: 200.
    h.anon
        .revoke("consola_at_nada.nada", Some((a_id, a_secret)))
        .await
        .unwrap();
    h.anon
        .revoke("whatever", Some((a_id, a_secret)))
        .await
        .unwrap();
    // A foreign token is left alone.
    h.anon
        .revoke(first.access_token.expose(), Some((b_id, b_secret)))
        .await
        .unwrap();
    assert!(
        h.anon
            .module_access(&first.access_token, "reports")
            .await
            .is_ok()
    );
    // No credentials: invalid_client.
    let err = h
        .anon
        .revoke(first.access_token.expose(), None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));

    h.anon
        .revoke(first.access_token.expose(), Some((a_id, a_secret)))
        .await
        .unwrap();
    let err = h
        .anon
        .module_access(&first.access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let seen = h
        .anon
        .introspect(first.access_token.expose(), Some((a_id, a_secret)))
        .await
        .unwrap();
    assert!(!seen.active);
    assert!(
        h.anon
            .module_access(&second.access_token, "reports")
            .await
            .is_ok()
    );

    // An admin session may revoke any token.
    let third = h.token(&a).await;
    h.admin
        .revoke(third.access_token.expose(), None)
        .await
        .unwrap();
    assert!(
        h.anon
            .module_access(&third.access_token, "reports")
            .await
            .is_err()
    );

    let first_token = first.access_token.clone();
    let second_token = second.access_token.clone();
    let h = h.restart(ServiceConfig::default()).await;
    let err = h
        .anon
        .module_access(&first_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "revocation survives a restart");
    assert!(h.anon.module_access(&second_token, "reports").await.is_ok());
}

#[tokio::test]
async fn metadata_lists_the_rfc_8414_fields() {
    let h = start().await;
    let response = raw()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            h.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let m: serde_json::Value = response.json().await.unwrap();
    let base = h.url();
    assert_eq!(m["issuer"], base);
    assert_eq!(m["token_endpoint"], format!("{base}/oauth/token"));
    assert_eq!(
        m["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(
        m["introspection_endpoint"],
        format!("{base}/oauth/introspect")
    );
    assert_eq!(m["revocation_endpoint"], format!("{base}/oauth/revoke"));
    assert_eq!(m["jwks_uri"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(
        m["grant_types_supported"],
        serde_json::json!(["client_credentials", "authorization_code", "refresh_token"])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(m["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(m["response_modes_supported"], serde_json::json!(["query"]));
    for field in [
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
    ] {
        assert_eq!(
            m[field],
            serde_json::json!([
                "client_secret_basic",
                "client_secret_post",
                "private_key_jwt"
            ]),
            "{field}"
        );
    }
    // The algorithms of private_key_jwt assertions (RFC 8414 §2), at each endpoint that
    // authenticates clients; never HMAC or none.
    let fields = m.as_object().unwrap();
    let signing: Vec<&String> = fields
        .keys()
        .filter(|k| k.contains("signing_alg"))
        .collect();
    assert_eq!(signing.len(), 4, "{fields:?}");
    for field in signing {
        assert_eq!(
            m[field],
            serde_json::json!(["EdDSA", "Ed25519", "ES256", "RS256"]),
            "{field}"
        );
    }
    // Every endpoint it names answers.
    for field in [
        "authorization_endpoint",
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "jwks_uri",
    ] {
        let url = m[field].as_str().unwrap();
        let status = raw().get(url).send().await.unwrap().status();
        assert_ne!(status, 404, "{field}");
    }
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert!(
        m["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("reports:view"))
    );
    // The typed client reads the same document.
    assert_eq!(h.anon.metadata().await.unwrap().issuer, base);
    // The OAuth routes are in the OpenAPI document, each with its own operation id.
    let spec = h.anon.openapi().await.unwrap();
    for (path, method, id) in [
        ("/oauth/token", "post", "oauth_token"),
        ("/oauth/introspect", "post", "oauth_introspect"),
        ("/oauth/revoke", "post", "oauth_revoke"),
        ("/oauth/authorize", "get", "oauth_authorize_page"),
        (
            "/.well-known/oauth-authorization-server",
            "get",
            "oauth_metadata",
        ),
        ("/.well-known/jwks.json", "get", "oauth_jwks"),
        ("/api/v1/modules/{module}/access", "get", "modules_access"),
    ] {
        assert_eq!(spec["paths"][path][method]["operationId"], id, "{path}");
    }
}

/// Verifies a JWT against the published JWKS, as an outside resource server would.
async fn verify_with_jwks(h: &Harness, token: &str) -> (String, AccessClaims) {
    let jwks = h.anon.jwks().await.unwrap();
    let mut parts = token.split('.');
    let (header, payload, signature) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "at+jwt");
    let kid = header["kid"].as_str().unwrap().to_string();
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .expect("kid published");
    assert_eq!(
        (jwk.kty.as_str(), jwk.crv.as_deref()),
        ("OKP", Some("Ed25519"))
    );
    let x: [u8; 32] = URL_SAFE_NO_PAD
        .decode(jwk.x.as_deref().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).unwrap();
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .unwrap()
        .try_into()
        .unwrap();
    let signed = &token[..token.rfind('.').unwrap()];
    key.verify_strict(
        signed.as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&signature),
    )
    .expect("signature verifies with the JWKS key");
    let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    (kid, claims)
}

#[tokio::test]
async fn jwt_tokens_verify_with_jwks_and_survive_key_rotation() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Jwt).await;
    let (id, secret) = creds(&c);
    let first = h
        .anon
        .token_client_credentials(id, secret, Some("reports:view"))
        .await
        .unwrap();
    let (kid1, claims) = verify_with_jwks(&h, first.access_token.expose()).await;
    assert_eq!(claims.iss, h.url());
    assert_eq!(claims.sub, id);
    assert_eq!(claims.client_id, id);
    assert_eq!(claims.aud, format!("{}/api/v1", h.url()));
    assert_eq!(claims.scope, "reports:view");
    assert_eq!(claims.exp - claims.iat, 3600);
    assert!(!claims.jti.is_empty());

    // Through the API, as the Súper Administrador does: the rotation persists wherever the
    // keys live (the data directory, or the database with a system secret).
    let kid2 = h
        .admin
        .rotate_signing_key()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.current && k.alg == AccessTokenAlg::EdDSA)
        .unwrap()
        .kid;
    assert_ne!(kid1, kid2);
    let jwks = h.anon.jwks().await.unwrap();
    let kids: Vec<&str> = jwks
        .keys
        .iter()
        .filter(|k| k.alg == "EdDSA")
        .map(|k| k.kid.as_str())
        .collect();
    assert_eq!(
        kids,
        vec![kid2.as_str(), kid1.as_str()],
        "new key first, old kept"
    );
    let second = h.token(&c).await;
    let (kid, _) = verify_with_jwks(&h, second.access_token.expose()).await;
    assert_eq!(kid, kid2);
    assert!(
        h.anon
            .module_access(&first.access_token, "reports")
            .await
            .is_ok()
    );
    assert!(
        h.anon
            .module_access(&second.access_token, "reports")
            .await
            .is_ok()
    );

    // The key files, when the keys live in files (no system secret: SQLite).
    #[cfg(unix)]
    for file in ["jwt-signing-keys.json", "token.key"]
        .into_iter()
        .filter(|_| h.server.service.sealed_keys().is_none())
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(h.dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
    let (first_token, second_token) = (first.access_token.clone(), second.access_token.clone());
    let h = h.restart(ServiceConfig::default()).await;
    assert!(
        h.anon.module_access(&first_token, "reports").await.is_ok(),
        "keys persist"
    );
    assert!(h.anon.module_access(&second_token, "reports").await.is_ok());

    // The service exposes rotation to the Súper Administrador only.
    let caller = consola::service::Caller::anonymous("127.0.0.1".parse().unwrap());
    assert!(h.server.service.rotate_signing_key(&caller).await.is_err());
}

#[tokio::test]
async fn opaque_tokens_validate_without_the_database() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    let token = h.token(&c).await;
    let jwt_consumer = h.reports_consumer(TokenFormat::Jwt).await;
    let jwt = h.token(&jwt_consumer).await;

    h.server.store().close().await;
    // The database is gone for real: anything that reads it fails now.
    assert!(h.admin.me().await.is_err());

    let access = h
        .anon
        .module_access(&token.access_token, "reports")
        .await
        .unwrap();
    assert_eq!(access.module, "reports");
    assert!(
        h.anon
            .module_access(&jwt.access_token, "reports")
            .await
            .is_ok()
    );
    let seen = h
        .anon
        .introspect(token.access_token.expose(), Some((id, secret)))
        .await
        .unwrap();
    assert!(seen.active);
    // Issuing more tokens needs no database either.
    let again = h.token(&c).await;
    assert!(
        h.anon
            .module_access(&again.access_token, "reports")
            .await
            .is_ok()
    );
    let mut forged = token.access_token.expose().to_string();
    forged.pop();
    let forged = SecretText::new(forged);
    assert_eq!(
        h.anon
            .module_access(&forged, "reports")
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn a_standard_oauth2_client_gets_a_token_that_works() {
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};

    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let http = reqwest::Client::new();
    let send = |request: oauth2::HttpRequest| {
        let http = http.clone();
        async move {
            let (parts, body) = request.into_parts();
            let response = http
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let mut builder = axum::http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let bytes = response
                .bytes()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            builder
                .body(bytes.to_vec())
                .map_err(|e| std::io::Error::other(e.to_string()))
        }
    };
    let client = BasicClient::new(ClientId::new(c.consumer.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            c.client_secret
                .as_ref()
                .expect("a secret")
                .expose()
                .to_string(),
        ))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", h.url())).unwrap());
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("reports:view".into()))
        .request_async(&send)
        .await
        .expect("the oauth2 crate gets a token");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    let access = SecretText::new(token.access_token().secret().clone());
    let granted = h.anon.module_access(&access, "reports").await.unwrap();
    assert_eq!(granted.actions, vec![Action::View]);

    // And it reads our errors too.
    let wrong = BasicClient::new(ClientId::new(c.consumer.client_id.clone()))
        .set_client_secret(ClientSecret::new("consola_cs_wrong".into()))
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", h.url())).unwrap());
    let err = wrong
        .exchange_client_credentials()
        .request_async(&send)
        .await
        .unwrap_err();
    match err {
        oauth2::RequestTokenError::ServerResponse(body) => {
            assert_eq!(body.error().as_ref(), "invalid_client")
        }
        other => panic!("unexpected error kind: {other:?}"),
    }
}

#[tokio::test]
async fn signing_keys_rotate_over_http_for_the_super_admin_only_and_are_audited() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Jwt).await;
    let (id, secret) = creds(&c);
    let before = h.admin.signing_keys().await.unwrap();
    let algs: Vec<AccessTokenAlg> = before.iter().map(|k| k.alg).collect();
    assert_eq!(algs, AccessTokenAlg::ALL, "one key of each algorithm");
    assert!(before.iter().all(|k| k.current));
    let old_token = h
        .anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap()
        .access_token;

    // An admin sees the keys but may not rotate them; nobody signed out sees them.
    h.admin
        .create_user(&NewUser {
            username: "beto".into(),
            display_name: "Beto".into(),
            password: PASSWORD.into(),
            role: Role::Admin,
        })
        .await
        .unwrap();
    let beto = h
        .anon
        .with_token(h.anon.login("beto", PASSWORD).await.unwrap().token);
    assert_eq!(beto.signing_keys().await.unwrap(), before);
    let err = beto.rotate_signing_key().await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(h.anon.signing_keys().await.unwrap_err().status(), Some(401));
    assert_eq!(
        h.admin.signing_keys().await.unwrap(),
        before,
        "nothing rotated"
    );

    let after = h.admin.rotate_signing_key().await.unwrap();
    assert_eq!(after.len(), 6, "every algorithm rotated");
    for (i, alg) in AccessTokenAlg::ALL.into_iter().enumerate() {
        let pair = &after[2 * i..2 * i + 2];
        assert!(pair.iter().all(|k| k.alg == alg));
        assert!(pair[0].current && !pair[1].current);
        assert_eq!(pair[1].kid, before[i].kid);
    }
    let jwks: Vec<String> = h
        .anon
        .jwks()
        .await
        .unwrap()
        .keys
        .into_iter()
        .map(|k| k.kid)
        .collect();
    let listed: Vec<String> = after.iter().map(|k| k.kid.clone()).collect();
    assert_eq!(jwks, listed, "the list is what the JWKS publishes");
    let new_token = h
        .anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap()
        .access_token;
    let (kid, _) = verify_with_jwks(&h, new_token.expose()).await;
    assert_eq!(kid, after[0].kid, "new tokens are signed with the new key");
    assert!(h.anon.module_access(&old_token, "reports").await.is_ok());

    // Rotating again within a token's lifetime keeps every key whose tokens may be alive:
    // the credentials an integration holds keep working. (Retirement after that lifetime
    // is checked beside TokenKeys.)
    h.admin.rotate_signing_key().await.unwrap();
    let kept = h.admin.rotate_signing_key().await.unwrap();
    assert_eq!(kept.len(), 12);
    assert_eq!(kept[3].kid, before[0].kid);
    assert_eq!(kept[7].kid, before[1].kid);
    assert_eq!(kept[11].kid, before[2].kid);
    assert!(h.anon.module_access(&old_token, "reports").await.is_ok());
    assert!(h.anon.module_access(&new_token, "reports").await.is_ok());

    // Each rotation is in the log under the new keys' ids, and nothing of the keys.
    let log = h
        .admin
        .audit(&AuditQuery {
            action: Some(AuditAction::Rotate),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let mut targets: Vec<String> = log
        .items
        .iter()
        .filter(|e| e.module == "OAuth")
        .map(|e| e.target.clone())
        .collect();
    targets.reverse();
    let mut rotated: Vec<String> = (0..3)
        .map(|age| {
            [0, 4, 8]
                .map(|first| kept[first + age].kid.clone())
                .join(" ")
        })
        .collect();
    rotated.reverse();
    assert_eq!(targets, rotated);
    assert!(log.items.iter().all(|e| e.actor == Actor::user("ana")));
}

#[tokio::test]
async fn a_group_that_loses_a_module_takes_it_from_live_tokens() {
    let h = start().await;
    let group = h
        .group(
            "Mantenimiento",
            &[
                ("reports", &[Action::View]),
                ("work_orders", &[Action::View, Action::Edit]),
            ],
        )
        .await;
    let c = h
        .consumer(
            "Planificador",
            &group,
            GrantType::ClientCredentials,
            TokenFormat::Opaque,
        )
        .await;
    let (id, secret) = creds(&c);
    let token = h
        .anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap()
        .access_token;
    assert!(h.anon.module_access(&token, "work_orders").await.is_ok());

    // Órdenes de trabajo leaves the group; assets comes in.
    h.admin
        .update_permission_group(
            group.id,
            &PermissionGroupPatch {
                permissions: Some(vec![
                    ModulePermission {
                        module: "reports".into(),
                        actions: vec![Action::View],
                    },
                    ModulePermission {
                        module: "assets".into(),
                        actions: vec![Action::View],
                    },
                ]),
                ..PermissionGroupPatch::default()
            },
        )
        .await
        .unwrap();
    let err = h
        .anon
        .module_access(&token, "work_orders")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "taken from the live token at once");
    assert!(h.anon.module_access(&token, "reports").await.is_ok());
    let err = h.anon.module_access(&token, "assets").await.unwrap_err();
    assert_eq!(
        err.status(),
        Some(403),
        "a module the group gains does not widen a token issued before"
    );
    let seen = h
        .anon
        .introspect(token.expose(), Some((id, secret)))
        .await
        .unwrap();
    assert_eq!(seen.scope.as_deref(), Some("reports:view"));
    // A new token gets the group as it is now.
    let fresh = h.token(&c).await;
    assert_eq!(fresh.scope, "assets:view reports:view");
}

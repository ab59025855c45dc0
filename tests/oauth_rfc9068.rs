//! Tokens every library accepts: JWT access tokens checked by an independent implementation
//! (the `jsonwebtoken` crate) as a strict RFC 9068 resource server checks them — `typ`, the
//! required claims, and the signature through the published JWKS — for both grants and all
//! three algorithms; redirect URIs on loopback ports (RFC 8252 §7.3); and a standard OAuth2
//! client (the `oauth2` crate) through the code flow with PKCE on a random loopback port.

mod common;
mod oauth_support;

use consola::domain::oauth::pkce_s256;
use consola::domain::secret::SecretText;
use consola::domain::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth_support::*;
use std::collections::HashMap;
use std::time::Duration;

/// The claims RFC 9068 §2.2 requires: decoding fails when any is missing.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Rfc9068Claims {
    iss: String,
    exp: i64,
    aud: String,
    sub: String,
    client_id: String,
    iat: i64,
    jti: String,
    scope: String,
}

fn jose(alg: AccessTokenAlg) -> Algorithm {
    match alg {
        AccessTokenAlg::EdDSA => Algorithm::EdDSA,
        AccessTokenAlg::ES256 => Algorithm::ES256,
        AccessTokenAlg::RS256 => Algorithm::RS256,
    }
}

/// Validates `token` as a strict RFC 9068 resource server: the header's `typ` and `alg`,
/// the key found by `kid` in the JWKS fetched over HTTP, `iss`, `aud`, `exp` without
/// leeway, and every required claim.
async fn validate(h: &Harness, token: &str, alg: AccessTokenAlg) -> Rfc9068Claims {
    let header = jsonwebtoken::decode_header(token).expect("a JWS header");
    assert_eq!(header.typ.as_deref(), Some("at+jwt"), "RFC 9068 §2.1");
    assert_eq!(header.alg, jose(alg));
    let kid = header.kid.expect("a kid");
    let jwks: JwkSet = raw()
        .get(format!("{}/.well-known/jwks.json", h.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .expect("a JWK Set jsonwebtoken reads");
    let jwk = jwks.find(&kid).expect("the kid is published");
    let key = DecodingKey::from_jwk(jwk).expect("a usable public key");
    let mut validation = Validation::new(jose(alg));
    validation.set_issuer(&[h.url()]);
    validation.set_audience(&[format!("{}/api/v1", h.url())]);
    validation.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    validation.leeway = 0;
    jsonwebtoken::decode::<Rfc9068Claims>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("{alg:?} token refused: {e}"))
        .claims
}

fn jwt_consumer(
    name: &str,
    group: &PermissionGroup,
    grant_type: GrantType,
    alg: AccessTokenAlg,
    redirect_uris: &[&str],
) -> NewConsumer {
    NewConsumer {
        name: format!("{name} {}", alg.as_str()),
        description: String::new(),
        grant_type,
        permission_group_id: group.id,
        hub_enabled: false,
        redirect_uris: redirect_uris.iter().map(|u| u.to_string()).collect(),
        token_format: TokenFormat::Jwt,
        access_token_alg: alg,
        auth_method: Default::default(),
        jwks: None,
        jwks_uri: None,
        require_dpop: false,
    }
}

async fn introspect(h: &Harness, c: &CreatedConsumer, token: &str) -> serde_json::Value {
    raw()
        .post(format!("{}/oauth/introspect", h.url()))
        .header(
            "authorization",
            consola::client::Client::basic_header(
                &c.consumer.client_id,
                c.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn client_credentials_jwts_pass_a_strict_validator_with_every_alg() {
    let h = start().await;
    let group = h.group("Lectores", &[("reports", &[Action::View])]).await;
    for alg in AccessTokenAlg::ALL {
        let c = h
            .consumer_with(jwt_consumer(
                "ERP",
                &group,
                GrantType::ClientCredentials,
                alg,
                &[],
            ))
            .await;
        assert_eq!(c.consumer.access_token_alg, alg);
        let token = h.token(&c).await;
        let claims = validate(&h, token.access_token.expose(), alg).await;
        assert_eq!(
            claims.sub, c.consumer.client_id,
            "the client is the subject"
        );
        assert_eq!(claims.client_id, c.consumer.client_id);
        assert_eq!(claims.scope, "reports:view");
        assert_eq!(claims.exp - claims.iat, 3600);
        assert!(!claims.jti.is_empty());
        assert!(
            h.anon
                .module_access(&token.access_token, "reports")
                .await
                .is_ok()
        );
        let answer = introspect(&h, &c, token.access_token.expose()).await;
        assert_eq!(answer["active"], true);
        assert_eq!(answer["client_id"], c.consumer.client_id.as_str());
    }
}

#[tokio::test]
async fn the_alg_is_kept_changed_and_validated_through_the_api() {
    let h = start().await;
    let group = h.group("Lectores", &[("reports", &[Action::View])]).await;
    let c = h
        .consumer_with(jwt_consumer(
            "ERP",
            &group,
            GrantType::ClientCredentials,
            AccessTokenAlg::EdDSA,
            &[],
        ))
        .await;
    let read = h.admin.consumer(c.consumer.id).await.unwrap();
    assert_eq!(read.access_token_alg, AccessTokenAlg::EdDSA);
    let changed = h
        .admin
        .update_consumer(
            c.consumer.id,
            &ConsumerPatch {
                access_token_alg: Some(AccessTokenAlg::RS256),
                ..Default::default()
            },
            Some(read.version),
        )
        .await
        .unwrap();
    assert_eq!(changed.access_token_alg, AccessTokenAlg::RS256);
    let token = h.token(&c).await;
    validate(&h, token.access_token.expose(), AccessTokenAlg::RS256).await;

    // The wire names, and nothing else.
    let json = serde_json::to_value(&changed).unwrap();
    assert_eq!(json["access_token_alg"], "RS256");
    let response = raw()
        .post(format!("{}/api/v1/consumers", h.url()))
        .header(
            "authorization",
            format!("Bearer {}", h.admin.token().unwrap().expose()),
        )
        .json(&serde_json::json!({
            "name": "HS", "grant_type": "client_credentials",
            "permission_group_id": group.id, "token_format": "jwt",
            "access_token_alg": "HS256",
        }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());

    // The OpenAPI document names the three.
    let spec = h.anon.openapi().await.unwrap();
    let schema = &spec["components"]["schemas"]["AccessTokenAlg"];
    assert_eq!(
        schema["enum"],
        serde_json::json!(["EdDSA", "ES256", "RS256"])
    );
    for shape in ["Consumer", "NewConsumer", "ConsumerPatch"] {
        assert!(
            spec["components"]["schemas"][shape]["properties"]
                .get("access_token_alg")
                .is_some(),
            "{shape}"
        );
    }
}

/// Logs in as the Súper Administrador on the consent page and approves: the response is
/// the redirect (or the error page).
async fn consent(
    h: &Harness,
    app: &CreatedConsumer,
    redirect_uri: &str,
    challenge: &str,
) -> reqwest::Response {
    let form = [
        ("response_type", "code"),
        ("client_id", app.consumer.client_id.as_str()),
        ("redirect_uri", redirect_uri),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("username", "ana"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    raw()
        .post(format!("{}/oauth/authorize", h.url()))
        .form(&form)
        .send()
        .await
        .unwrap()
}

fn code_of(response: &reqwest::Response, redirect_uri: &str) -> String {
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(redirect_uri), "{location}");
    let query: HashMap<String, String> = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    query["code"].clone()
}

async fn exchange(
    h: &Harness,
    app: &CreatedConsumer,
    form: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let response = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header(
            "authorization",
            consola::client::Client::basic_header(
                &app.consumer.client_id,
                app.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn code_flow_jwts_name_the_user_and_the_client_with_every_alg() {
    let h = start().await;
    let user = h.admin.me().await.unwrap();
    let group = h.group("Portal", &[("assets", &[Action::View])]).await;
    for alg in AccessTokenAlg::ALL {
        let app = h
            .consumer_with(jwt_consumer(
                "App",
                &group,
                GrantType::AuthorizationCode,
                alg,
                &["http://127.0.0.1/callback"],
            ))
            .await;
        let redirect_uri = "http://127.0.0.1:51234/callback";
        let v = verifier();
        let answer = consent(&h, &app, redirect_uri, &pkce_s256(&v)).await;
        let code = code_of(&answer, redirect_uri);
        let (status, body) = exchange(
            &h,
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &v),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let access = body["access_token"].as_str().unwrap();
        let claims = validate(&h, access, alg).await;
        assert_eq!(claims.sub, user.id.to_string(), "the consenting user");
        assert_eq!(claims.client_id, app.consumer.client_id);
        assert_eq!(claims.scope, "assets:view");
        let answer = introspect(&h, &app, access).await;
        assert_eq!(answer["active"], true);
        assert_eq!(answer["sub"], user.id.to_string());
        assert_eq!(answer["client_id"], app.consumer.client_id.as_str());
        assert!(
            h.anon
                .module_access(&SecretText::new(access.into()), "assets")
                .await
                .is_ok()
        );

        // The refreshed token is about the same user.
        let refresh = body["refresh_token"].as_str().unwrap();
        let (status, body) = exchange(
            &h,
            &app,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let claims = validate(&h, body["access_token"].as_str().unwrap(), alg).await;
        assert_eq!(claims.sub, user.id.to_string());
        assert_eq!(claims.client_id, app.consumer.client_id);
        let answer = introspect(&h, &app, body["refresh_token"].as_str().unwrap()).await;
        assert_eq!(answer["sub"], user.id.to_string());
    }
}

/// The opaque tokens of the code flow carry the same subject and client.
#[tokio::test]
async fn code_flow_opaque_tokens_name_the_user_and_the_client() {
    let h = start().await;
    let user = h.admin.me().await.unwrap();
    let group = h.group("Portal", &[("assets", &[Action::View])]).await;
    let app = h
        .consumer(
            "Portal opaco",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    let redirect_uri = "http://127.0.0.1:9/callback";
    let v = verifier();
    let code = code_of(
        &consent(&h, &app, redirect_uri, &pkce_s256(&v)).await,
        redirect_uri,
    );
    let (status, body) = exchange(
        &h,
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &v),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let answer = introspect(&h, &app, access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["sub"], user.id.to_string());
    assert_eq!(answer["client_id"], app.consumer.client_id.as_str());
    // Its consumer still owns it: revocation by the consumer works.
    let revoked = raw()
        .post(format!("{}/oauth/revoke", h.url()))
        .header(
            "authorization",
            consola::client::Client::basic_header(
                &app.consumer.client_id,
                app.client_secret.as_ref().expect("a secret"),
            ),
        )
        .form(&[("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    assert_eq!(introspect(&h, &app, access).await["active"], false);
}

#[tokio::test]
async fn loopback_redirects_match_on_any_port_and_nothing_else() {
    let h = start().await;
    let group = h.group("Nativas", &[("assets", &[Action::View])]).await;
    let app = h
        .consumer_with(NewConsumer {
            token_format: TokenFormat::Opaque,
            ..jwt_consumer(
                "Nativa",
                &group,
                GrantType::AuthorizationCode,
                AccessTokenAlg::EdDSA,
                &[
                    "http://127.0.0.1/callback",
                    "http://[::1]:8080/cb",
                    "http://localhost:8080/cb",
                ],
            )
        })
        .await;
    for redirect_uri in [
        "http://127.0.0.1:49200/callback",
        "http://127.0.0.1/callback",
        "http://[::1]:40000/cb",
        "http://localhost:8080/cb",
    ] {
        let v = verifier();
        let answer = consent(&h, &app, redirect_uri, &pkce_s256(&v)).await;
        let code = code_of(&answer, redirect_uri);
        let (status, body) = exchange(
            &h,
            &app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
                ("code_verifier", &v),
            ],
        )
        .await;
        assert_eq!(status, 200, "{redirect_uri}: {body}");
    }
    for redirect_uri in [
        "http://127.0.0.2:49200/callback",
        "http://127.0.0.1:49200/other",
        "https://127.0.0.1:49200/callback",
        "http://127.0.0.1:49200/callback?x=1",
        "http://localhost:49200/cb",
        "http://[::1]:40000/other",
    ] {
        let answer = consent(&h, &app, redirect_uri, &pkce_s256(&verifier())).await;
        assert_eq!(answer.status(), 400, "{redirect_uri}");
        assert!(answer.headers().get("location").is_none(), "{redirect_uri}");
    }
    // The token request names the very URI of the authorization, port included.
    let v = verifier();
    let authorized = "http://127.0.0.1:49201/callback";
    let code = code_of(
        &consent(&h, &app, authorized, &pkce_s256(&v)).await,
        authorized,
    );
    let (status, body) = exchange(
        &h,
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:49202/callback"),
            ("code_verifier", &v),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// The `oauth2` crate's HTTP hook, over reqwest, without following redirects.
async fn send(request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, std::io::Error> {
    let (parts, body) = request.into_parts();
    let response = raw()
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

/// A native app as RFC 8252 describes it: it listens on a random loopback port, sends the
/// user to the authorization page with PKCE, receives the code at its port, and exchanges
/// it with the `oauth2` crate; then refreshes.
#[tokio::test]
async fn a_standard_oauth2_client_completes_the_code_flow_on_a_random_loopback_port() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let h = start().await;
    let group = h.group("Nativas", &[("assets", &[Action::View])]).await;
    let app = h
        .consumer_with(jwt_consumer(
            "Escritorio",
            &group,
            GrantType::AuthorizationCode,
            AccessTokenAlg::RS256,
            &["http://127.0.0.1/callback"],
        ))
        .await;

    // The app's own listener on whatever port the system gives.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = socket.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .await
            .unwrap();
        let head = String::from_utf8_lossy(&head).into_owned();
        head.split(' ').nth(1).unwrap_or_default().to_string()
    });

    let redirect = format!("http://127.0.0.1:{port}/callback");
    let client = BasicClient::new(ClientId::new(app.consumer.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            app.client_secret
                .as_ref()
                .expect("a secret")
                .expose()
                .to_string(),
        ))
        .set_auth_uri(AuthUrl::new(format!("{}/oauth/authorize", h.url())).unwrap())
        .set_token_uri(TokenUrl::new(format!("{}/oauth/token", h.url())).unwrap())
        .set_redirect_uri(RedirectUrl::new(redirect.clone()).unwrap());
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (authorize_url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("assets:view".into()))
        .set_pkce_challenge(challenge)
        .url();

    // The user's browser: the page, the consent, then the redirect to the app's port.
    let page = raw().get(authorize_url.as_str()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let mut form: Vec<(String, String)> = authorize_url.query_pairs().into_owned().collect();
    form.extend([
        ("username".to_string(), "ana".to_string()),
        ("password".to_string(), PASSWORD.to_string()),
        ("decision".to_string(), "approve".to_string()),
    ]);
    let answer = raw()
        .post(format!("{}/oauth/authorize", h.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&redirect), "{location}");
    let delivered = raw().get(&location).send().await.unwrap();
    assert_eq!(delivered.status(), 200);
    let target = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .expect("the app got the redirect")
        .unwrap();
    let query: HashMap<String, String> = url::Url::parse(&format!("http://127.0.0.1{target}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(query["state"], *state.secret());

    let token = client
        .exchange_code(AuthorizationCode::new(query["code"].clone()))
        .set_pkce_verifier(pkce_verifier)
        .request_async(&send)
        .await
        .expect("the oauth2 crate exchanges the code");
    assert_eq!(token.expires_in(), Some(Duration::from_secs(3600)));
    let access = token.access_token().secret().clone();
    let claims = validate(&h, &access, AccessTokenAlg::RS256).await;
    assert_eq!(claims.client_id, app.consumer.client_id);
    assert!(
        h.anon
            .module_access(&SecretText::new(access), "assets")
            .await
            .is_ok()
    );
    let refresh = token.refresh_token().expect("a refresh token").secret();
    let refreshed = client
        .exchange_refresh_token(&RefreshToken::new(refresh.clone()))
        .request_async(&send)
        .await
        .expect("the oauth2 crate refreshes");
    assert_ne!(
        refreshed.access_token().secret(),
        token.access_token().secret()
    );
}

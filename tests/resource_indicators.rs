//! Resource indicators (RFC 8707): a token for one protected resource of the list is a JWT
//! whose `aud` is that resource, for client credentials and along the code flow; an unknown
//! resource, or another than the grant's, is `invalid_target`; without `resource`, tokens
//! stay as they were.

mod common;
mod oauth_support;

use base64::Engine;
use consola::domain::oauth::pkce_s256;
use consola::domain::resource::NewProtectedResource;
use consola::domain::secret::SecretText;
use consola::domain::*;
use oauth_support::*;
use serde_json::Value;
use std::collections::HashMap;

const CALLBACK: &str = "http://127.0.0.1:9/callback";
const MCP: &str = "https://mcp.example.com/mcp";

async fn with_resource() -> Harness {
    let h = start().await;
    h.admin
        .create_resource(&NewProtectedResource {
            name: "Servidor MCP".into(),
            url: MCP.into(),
        })
        .await
        .expect("resource listed");
    h
}

/// The claims of a JWT, unverified (the signature is the JWKS's business, checked elsewhere).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn token(h: &Harness, c: &CreatedConsumer, form: &[(&str, &str)]) -> (u16, Value) {
    let response = raw()
        .post(format!("{}/oauth/token", h.url()))
        .basic_auth(
            &c.consumer.client_id,
            Some(c.client_secret.as_ref().unwrap().expose()),
        )
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_for_a_resource_get_a_jwt_for_it_and_only_for_it() {
    let h = with_resource().await;
    let erp = h.reports_consumer(TokenFormat::Opaque).await;
    let (status, body) = token(
        &h,
        &erp,
        &[("grant_type", "client_credentials"), ("resource", MCP)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let access = body["access_token"].as_str().unwrap();
    let claims = claims(access);
    assert_eq!(claims["aud"], MCP, "{claims}");
    assert_eq!(claims["iss"], h.url());
    assert_eq!(claims["client_id"], erp.consumer.client_id);

    // Not a key to consola's own API.
    let err = h
        .anon
        .module_access(&SecretText::new(access.into()), "reports")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    // Introspection reports the audience.
    let seen = h.admin.introspect(access, None).await.unwrap();
    assert!(seen.active);
    assert_eq!(seen.aud.as_deref(), Some(MCP));

    // Unknown: invalid_target. Without resource: as before, opaque, for the API.
    let (status, body) = token(
        &h,
        &erp,
        &[
            ("grant_type", "client_credentials"),
            ("resource", "https://otro.example/api"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body) = token(&h, &erp, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200);
    let plain = body["access_token"].as_str().unwrap();
    assert!(plain.starts_with(consola::service::tokens::OPAQUE_PREFIX));
    let seen = h.admin.introspect(plain, None).await.unwrap();
    assert_eq!(seen.aud, Some(format!("{}/api/v1", h.url())));
}

#[tokio::test]
async fn a_code_grant_for_a_resource_keeps_it_through_refresh_and_refuses_another() {
    let h = with_resource().await;
    let group = h.group("Agentes", &[("assets", &[Action::View])]).await;
    let app = h
        .consumer(
            "Agente",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    let v = verifier();
    let params = vec![
        ("response_type", "code".to_string()),
        ("client_id", app.consumer.client_id.clone()),
        ("redirect_uri", CALLBACK.into()),
        ("state", "s".into()),
        ("code_challenge", pkce_s256(&v)),
        ("code_challenge_method", "S256".into()),
        ("resource", MCP.into()),
    ];
    let page = raw()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Servidor MCP") && html.contains(MCP),
        "{html}"
    );
    assert!(
        html.contains("Volverá a <strong>127.0.0.1</strong>"),
        "{html}"
    );
    assert!(html.contains("name=\"resource\""), "the form carries it");

    let mut form: Vec<(&str, String)> = params.clone();
    form.push(("username", "ana".into()));
    form.push(("password", PASSWORD.into()));
    form.push(("decision", "approve".into()));
    let answer = raw()
        .post(format!("{}/oauth/authorize", h.url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    let code = query["code"].clone();

    let exchange = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", v.as_str()),
    ];
    let mut other = exchange.to_vec();
    other.push(("resource", "https://otro.example/api"));
    let (status, body) = token(&h, &app, &other).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, body) = token(&h, &app, &exchange).await;
    assert_eq!(status, 200, "the code is still good: {body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], MCP);

    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, body) = token(
        &h,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], MCP);

    // Another listed resource than the grant's: refused too.
    h.admin
        .create_resource(&NewProtectedResource {
            name: "Otro".into(),
            url: "https://otro.example/api".into(),
        })
        .await
        .unwrap();
    let refresh = body["refresh_token"].as_str().unwrap();
    let (status, body) = token(
        &h,
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("resource", "https://otro.example/api"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target"))
    );
    // A client's mistake does not spend the token: the grant goes on.
    let (status, body) = token(
        &h,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "the refresh token is still good: {body}");
    assert_eq!(claims(body["access_token"].as_str().unwrap())["aud"], MCP);
}

#[tokio::test]
async fn an_authorization_request_for_an_unknown_resource_goes_back_as_invalid_target() {
    let h = with_resource().await;
    let group = h.group("Agentes", &[("assets", &[Action::View])]).await;
    let app = h
        .consumer(
            "Agente",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    let v = verifier();
    let response = raw()
        .get(format!("{}/oauth/authorize", h.url()))
        .query(&[
            ("response_type", "code"),
            ("client_id", &app.consumer.client_id),
            ("redirect_uri", CALLBACK),
            ("state", "s"),
            ("code_challenge", &pkce_s256(&v)),
            ("code_challenge_method", "S256"),
            ("resource", "https://desconocido.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let query: HashMap<String, String> = location.query_pairs().into_owned().collect();
    assert_eq!(query["error"], "invalid_target");
    assert_eq!(query["state"], "s");
}

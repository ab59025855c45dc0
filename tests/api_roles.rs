//! The authorization matrix: every route × {anonymous, expired session, read_only, admin,
//! super_admin, consumer access token, Hawk-signed legacy key} gives the documented status.
//! Destructive routes get fresh objects for every caller.

mod common;

use common::*;
use consola::domain::*;
use reqwest::Method;
use serde_json::json;

struct Route {
    method: Method,
    path: &'static str,
    body: Option<serde_json::Value>,
    /// A form body (the OAuth endpoints), sent as application/x-www-form-urlencoded.
    form: Option<&'static str>,
    /// Expected status for anonymous, read_only, admin, super_admin; the expired session,
    /// the consumer's access token and the Hawk signature answer as `others`.
    expect: [u16; 4],
    others: [u16; 3],
}

/// A console route: the expired session, an access token and Hawk are all refused (401).
fn route(method: Method, path: &'static str, expect: [u16; 4]) -> Route {
    let others = if expect[0] == 401 {
        [401; 3]
    } else {
        [expect[0]; 3]
    };
    Route {
        method,
        path,
        body: None,
        form: None,
        expect,
        others,
    }
}

fn oauth(path: &'static str, form: &'static str, expect: [u16; 4], others: [u16; 3]) -> Route {
    Route {
        form: Some(form),
        ..special(Method::POST, path, expect, others)
    }
}

fn special(method: Method, path: &'static str, expect: [u16; 4], others: [u16; 3]) -> Route {
    Route {
        method,
        path,
        body: None,
        form: None,
        expect,
        others,
    }
}

fn with_body(
    method: Method,
    path: &'static str,
    body: serde_json::Value,
    expect: [u16; 4],
) -> Route {
    Route {
        body: Some(body),
        ..route(method, path, expect)
    }
}

/// How a caller authenticates.
#[derive(Clone)]
enum Auth {
    None,
    Bearer(String),
    Hawk { key: String, secret: String },
}

const CALLERS: [&str; 7] = [
    "anonymous",
    "read_only",
    "admin",
    "super_admin",
    "expired session",
    "consumer token",
    "hawk",
];

#[tokio::test]
async fn every_route_answers_each_caller_as_documented() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    // A session that will have expired: signed in, then the clock moves past its 12 hours.
    let expired = t.user(&sup, "caducado", Role::ReadOnly).await;
    t.clock.advance(chrono::Duration::hours(13));
    let sup = t.login("superadmin").await;
    assert_eq!(status_of(expired.me().await), 401);
    let ro = t.user(&sup, "lector", Role::ReadOnly).await;
    let adm = t.user(&sup, "admin", Role::Admin).await;
    let base_group = group(&sup, "Base", "reports").await;
    let consumer = sup
        .create_consumer(&new_consumer("Integración", base_group.id))
        .await
        .unwrap();
    let access = t
        .anonymous
        .token_client_credentials(
            &consumer.consumer.client_id,
            consumer.client_secret.as_ref().expect("a secret"),
            None,
        )
        .await
        .unwrap();
    let legacy = sup.api_key_secret().await.unwrap();
    let bearer =
        |c: &consola::client::Client| Auth::Bearer(c.token().unwrap().expose().to_string());
    let callers: [Auth; 7] = [
        Auth::None,
        bearer(&ro),
        bearer(&adm),
        bearer(&sup),
        bearer(&expired),
        Auth::Bearer(access.access_token.expose().to_string()),
        Auth::Hawk {
            key: legacy.key.clone(),
            secret: legacy.secret.expose().to_string(),
        },
    ];

    let routes = vec![
        route(Method::GET, "/healthz", [200, 200, 200, 200]),
        route(Method::GET, "/api/v1/openapi.json", [200, 200, 200, 200]),
        route(
            Method::GET,
            "/.well-known/oauth-authorization-server",
            [200, 200, 200, 200],
        ),
        route(Method::GET, "/.well-known/jwks.json", [200, 200, 200, 200]),
        route(Method::GET, "/api/v1/setup", [200, 200, 200, 200]),
        with_body(
            Method::POST,
            "/api/v1/setup",
            json!({"account_name": "x", "username": "otro", "display_name": "x", "password": "12345678"}),
            [409, 409, 409, 409],
        ),
        with_body(
            Method::POST,
            "/api/v1/session",
            json!({"username": "nadie{n}", "password": "no es esta"}),
            [401, 401, 401, 401],
        ),
        route(Method::GET, "/api/v1/me", [401, 200, 200, 200]),
        with_body(
            Method::PUT,
            "/api/v1/me/password",
            json!({"current_password": "no es esta", "new_password": "nueva contraseña"}),
            [401, 422, 422, 422],
        ),
        route(Method::GET, "/api/v1/modules", [401, 200, 200, 200]),
        // The protected endpoint takes access tokens and Hawk, never console sessions.
        special(
            Method::GET,
            "/api/v1/modules/reports/access",
            [401, 401, 401, 401],
            [401, 200, 200],
        ),
        special(
            Method::GET,
            "/api/v1/modules/work_orders/access",
            [401, 401, 401, 401],
            [401, 403, 200],
        ),
        route(Method::GET, "/api/v1/account", [401, 200, 200, 200]),
        with_body(
            Method::PATCH,
            "/api/v1/account",
            json!({"name": "FRACTTAL - Activación"}),
            [401, 403, 403, 200],
        ),
        route(Method::GET, "/api/v1/api-key", [401, 403, 200, 200]),
        route(Method::GET, "/api/v1/api-key/secret", [401, 403, 403, 200]),
        route(Method::GET, "/api/v1/audit", [401, 403, 200, 200]),
        route(Method::GET, "/api/v1/signing-keys", [401, 200, 200, 200]),
        route(
            Method::POST,
            "/api/v1/signing-keys/rotate",
            [401, 403, 403, 200],
        ),
        route(Method::GET, "/api/v1/dashboard", [401, 200, 200, 200]),
        route(Method::GET, "/api/v1/users", [401, 403, 200, 200]),
        with_body(
            Method::POST,
            "/api/v1/users",
            json!({"username": "nuevo{n}", "display_name": "Nuevo", "password": "12345678", "role": "read_only"}),
            [401, 403, 403, 201],
        ),
        route(Method::GET, "/api/v1/users/{user}", [401, 403, 200, 200]),
        with_body(
            Method::PATCH,
            "/api/v1/users/{user}",
            json!({"display_name": "Cambiado"}),
            [401, 403, 403, 200],
        ),
        route(Method::DELETE, "/api/v1/users/{user}", [401, 403, 403, 204]),
        route(
            Method::GET,
            "/api/v1/permission-groups",
            [401, 200, 200, 200],
        ),
        with_body(
            Method::POST,
            "/api/v1/permission-groups",
            json!({"name": "Grupo {n}", "permissions": [{"module": "assets", "actions": ["view"]}]}),
            [401, 403, 201, 201],
        ),
        route(
            Method::GET,
            "/api/v1/permission-groups/{group}",
            [401, 200, 200, 200],
        ),
        with_body(
            Method::PATCH,
            "/api/v1/permission-groups/{group}",
            json!({"description": "cambiada"}),
            [401, 403, 200, 200],
        ),
        route(
            Method::DELETE,
            "/api/v1/permission-groups/{group}",
            [401, 403, 204, 204],
        ),
        route(Method::GET, "/api/v1/consumers", [401, 200, 200, 200]),
        with_body(
            Method::POST,
            "/api/v1/consumers",
            json!({"name": "Consumidor {n}", "grant_type": "client_credentials", "permission_group_id": "{base_group}"}),
            [401, 403, 403, 201],
        ),
        route(
            Method::GET,
            "/api/v1/consumers/{consumer}",
            [401, 200, 200, 200],
        ),
        with_body(
            Method::PATCH,
            "/api/v1/consumers/{consumer}",
            json!({"hub_enabled": true}),
            [401, 403, 403, 200],
        ),
        route(
            Method::DELETE,
            "/api/v1/consumers/{consumer}",
            [401, 403, 403, 204],
        ),
        with_body(
            Method::POST,
            "/api/v1/consumers/{consumer}/rotate-secret",
            json!({"grace_seconds": 0}),
            [401, 403, 403, 200],
        ),
        // The OAuth endpoints authenticate consumers by their credentials (RFC 6749); a
        // console session or an access token is not client authentication.
        oauth(
            "/oauth/token",
            "grant_type=client_credentials",
            [401, 401, 401, 401],
            [401, 401, 401],
        ),
        // Introspection: consumers, or an admin session (RFC 7662 §2.1).
        oauth(
            "/oauth/introspect",
            "token=consola_at_desconocido",
            [401, 403, 200, 200],
            [401, 401, 401],
        ),
        oauth(
            "/oauth/revoke",
            "token=consola_at_desconocido",
            [401, 403, 200, 200],
            [401, 401, 401],
        ),
        // Last: these end or replace what other rows rely on.
        route(
            Method::POST,
            "/api/v1/api-key/regenerate",
            [401, 403, 403, 200],
        ),
        route(Method::DELETE, "/api/v1/session", [401, 204, 204, 204]),
    ];

    let http = reqwest::Client::new();
    let base = t.server.url();
    let port = t.server.addr.port();
    let mut n = 0;
    let mut checked = 0;
    for r in &routes {
        for (who, caller) in callers.iter().enumerate() {
            n += 1;
            let mut path = r.path.to_string();
            if path.contains("{user}") {
                let u = sup
                    .create_user(&NewUser {
                        username: format!("objetivo{n}"),
                        display_name: "Objetivo".into(),
                        password: PASSWORD.into(),
                        role: Role::ReadOnly,
                    })
                    .await
                    .unwrap();
                path = path.replace("{user}", &u.id.to_string());
            }
            if path.contains("{group}") {
                let g = group(&sup, &format!("Objetivo {n}"), "assets").await;
                path = path.replace("{group}", &g.id.to_string());
            }
            if path.contains("{consumer}") {
                let c = sup
                    .create_consumer(&new_consumer(&format!("Objetivo {n}"), base_group.id))
                    .await
                    .unwrap();
                path = path.replace("{consumer}", &c.consumer.id.to_string());
            }
            let mut request = http.request(r.method.clone(), format!("{base}{path}"));
            match caller {
                Auth::None => {}
                Auth::Bearer(token) => request = request.bearer_auth(token),
                Auth::Hawk { key, secret } => {
                    let nonce = format!("n{n}");
                    let (_, header) = consola::domain::hawk::sign(
                        key,
                        secret,
                        t.clock.now_for_tests().timestamp(),
                        &nonce,
                        &consola::domain::hawk::HawkRequest {
                            method: r.method.as_str(),
                            resource: &path,
                            host: "127.0.0.1",
                            port,
                        },
                    );
                    request = request.header("authorization", header);
                }
            }
            if let Some(form) = r.form {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
            }
            if let Some(body) = &r.body {
                let text = body
                    .to_string()
                    .replace("{n}", &n.to_string())
                    .replace("{base_group}", &base_group.id.to_string());
                request = request
                    .header("content-type", "application/json")
                    .body(text);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let expected = if who < 4 {
                r.expect[who]
            } else {
                r.others[who - 4]
            };
            assert_eq!(
                status,
                expected,
                "{} {} as {}: {}",
                r.method,
                r.path,
                CALLERS[who],
                response.text().await.unwrap_or_default()
            );
            checked += 1;
        }
    }
    assert_eq!(checked, routes.len() * CALLERS.len());
}

#[tokio::test]
async fn refusals_are_problems_with_a_reason() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let ro = t.user(&sup, "lector", Role::ReadOnly).await;
    let g = group(&sup, "Base", "reports").await;
    let err = ro
        .create_consumer(&new_consumer("x", g.id))
        .await
        .unwrap_err();
    let problem = err.problem().unwrap();
    assert_eq!(problem.status, 403);
    assert!(problem.detail.contains("Súper Administrador"));
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/me", t.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    // Unknown ids and non-ids are simply not found, never data.
    for path in [
        "/api/v1/consumers/not-an-id",
        "/api/v1/users/00000000-0000-0000-0000-000000000000",
    ] {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", t.server.url()))
            .bearer_auth(sup.token().unwrap().expose())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    let unknown = reqwest::Client::new()
        .get(format!("{}/api/v1/nope", t.server.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.headers()["content-type"],
        "application/problem+json"
    );
}

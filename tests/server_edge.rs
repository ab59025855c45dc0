//! The server's edge under hostile requests: dates far outside the calendar, oversized
//! OAuth bodies, and the headers every response carries.

mod common;

use common::*;

fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest")
}

/// A set-up server and a Súper Administrador's bearer token.
async fn signed_in() -> (TestServer, String) {
    let t = TestServer::start().await;
    t.setup().await;
    let answer = t
        .anonymous
        .login("superadmin", PASSWORD)
        .await
        .expect("login");
    let token = answer.token.expose().to_string();
    (t, token)
}

async fn problem(response: reqwest::Response) -> serde_json::Value {
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(kind, "application/problem+json");
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn dates_outside_the_sane_range_get_422_not_a_dropped_connection() {
    let (t, token) = signed_in().await;
    let url = t.server.url();
    let cases = [
        ("/api/v1/dashboard?until=-262143-01-01T00:00:00Z", "until"),
        ("/api/v1/dashboard?since=+262142-12-31T23:59:59Z", "since"),
        ("/api/v1/dashboard?since=0001-01-01T00:00:00Z", "since"),
        ("/api/v1/audit?until=-262143-01-01T00:00:00Z", "until"),
        ("/api/v1/audit?since=+262142-12-31T23:59:59Z", "since"),
    ];
    for (path, field) in cases {
        let response = raw()
            .get(format!("{url}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap_or_else(|err| panic!("{path}: no answer ({err})"));
        assert_eq!(response.status(), 422, "{path}");
        let body = problem(response).await;
        assert!(
            body["errors"][field].is_array() || body["errors"][field].is_string(),
            "{path}: {body}"
        );
    }
    // Dates inside the range still work.
    let response = raw()
        .get(format!(
            "{url}/api/v1/dashboard?since=2025-01-01T00:00:00Z&until=2025-06-30T00:00:00Z"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn oversized_oauth_bodies_get_413_as_problem_json() {
    let t = TestServer::start().await;
    t.setup().await;
    let url = t.server.url();
    let body = format!(
        "grant_type=client_credentials&client_id={}",
        "a".repeat(70 * 1024)
    );
    for path in [
        "/oauth/token",
        "/oauth/introspect",
        "/oauth/revoke",
        "/oauth/authorize",
    ] {
        let response = raw()
            .post(format!("{url}{path}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.clone())
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 413, "{path}");
        let problem = problem(response).await;
        assert_eq!(problem["type"], "urn:consola:body_too_large", "{path}");
        assert_eq!(problem["status"], 413, "{path}");
    }
}

#[tokio::test]
async fn every_response_carries_nosniff_and_no_referrer() {
    let (t, token) = signed_in().await;
    let url = t.server.url();
    let client = raw();
    let requests = [
        client.get(format!("{url}/healthz")),
        client.get(format!("{url}/api/v1/me")).bearer_auth(&token),
        client.get(format!("{url}/api/v1/me")),
        client.get(format!("{url}/no-such-route")),
        client.delete(format!("{url}/healthz")),
        client.get(format!("{url}/oauth/authorize?client_id=nadie")),
        client
            .post(format!("{url}/oauth/token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials"),
        client.get(format!("{url}/.well-known/jwks.json")),
        client.get(format!("{url}/api/v1/openapi.json")),
    ];
    for request in requests {
        let response = request.send().await.expect("answer");
        let what = format!("{} {}", response.status(), response.url());
        assert_eq!(
            response
                .headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "{what}"
        );
        assert_eq!(
            response
                .headers()
                .get("referrer-policy")
                .map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..]),
            "{what}"
        );
    }
}

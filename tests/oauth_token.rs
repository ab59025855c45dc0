//! Conformance of `POST /oauth/token` (RFC 6749): client authentication, grants, scopes,
//! errors and their headers, grace windows, disable, delete, throttling and the dashboard.

mod common;
mod oauth_support;

use base64::Engine;
use consola::domain::secret::SecretText;
use consola::domain::*;
use consola::service::{ManualClock, ServiceConfig};
use oauth_support::*;
use std::sync::Arc;
use std::time::Duration;

fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// Every character percent-encoded: what a form-urlencoding client may send.
fn percent_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn success_body_and_headers_follow_rfc_6749_5_1() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let response = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header(
            "authorization",
            basic(
                &c.consumer.client_id,
                c.client_secret.as_ref().expect("a secret").expose(),
            ),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "assets:view reports:report reports:view");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("consola_at_"));
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn basic_credentials_are_form_decoded_and_post_auth_works() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let id = &c.consumer.client_id;
    let secret = c.client_secret.as_ref().expect("a secret").expose();
    let encoded = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header(
            "authorization",
            basic(&percent_all(id), &percent_all(secret)),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(encoded.status(), 200, "percent-encoded Basic halves decode");

    let post = raw()
        .post(format!("{}/oauth/token", h.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200, "client_secret_post");

    let both = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header("authorization", basic(id, secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400);
    let body: serde_json::Value = both.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

async fn error_of(
    response: reqwest::Response,
) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn each_error_code_has_its_status_and_shape() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = (
        c.consumer.client_id.as_str(),
        c.client_secret.as_ref().expect("a secret").expose(),
    );
    let url = format!("{}/oauth/token", h.url());
    let http = raw();

    // invalid_client: no credentials, a wrong secret, an unknown client.
    for auth in [
        None,
        Some(basic(id, "consola_cs_wrong")),
        Some(basic("nadie", secret)),
    ] {
        let mut request = http
            .post(&url)
            .form(&[("grant_type", "client_credentials")]);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let (status, headers, body) = error_of(request.send().await.unwrap()).await;
        assert_eq!(status, 401);
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_eq!(headers["cache-control"], "no-store");
        assert_eq!(body["error"], "invalid_client");
        assert!(body["error_description"].is_string());
        assert!(!body.to_string().contains(secret), "no secret in errors");
    }

    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        (vec![("grant_type", "password")], "unsupported_grant_type"),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            "unauthorized_client",
        ),
        (vec![("grant_type", "refresh_token")], "unauthorized_client"),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "work_orders:view"),
            ],
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("scope", "reports:view reports:delete"),
            ],
            "invalid_scope",
        ),
    ];
    for (form, expected) in cases {
        let (status, headers, body) = error_of(
            http.post(&url)
                .header("authorization", basic(id, secret))
                .form(&form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str().unwrap()),
            (400, expected),
            "{form:?}"
        );
        assert_eq!(headers["content-type"], "application/json");
    }

    // A repeated parameter and a body that is not a form.
    let (status, _, body) = error_of(
        http.post(&url)
            .header("authorization", basic(id, secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&grant_type=client_credentials")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_request")
    );
    let (status, _, body) = error_of(
        http.post(&url)
            .header("authorization", basic(id, secret))
            .json(&serde_json::json!({"grant_type": "client_credentials"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "invalid_request")
    );

    // A code-flow consumer may not use client_credentials.
    let group = h.group("Código", &[("assets", &[Action::View])]).await;
    let coder = h
        .consumer(
            "Web",
            &group,
            GrantType::AuthorizationCode,
            TokenFormat::Opaque,
        )
        .await;
    let err = h
        .anon
        .token_client_credentials(
            &coder.consumer.client_id,
            coder.client_secret.as_ref().expect("a secret"),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some("unauthorized_client"));
}

#[tokio::test]
async fn scopes_default_to_the_group_and_narrow_on_request() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    let all = h.token(&c).await;
    assert_eq!(all.scope, "assets:view reports:report reports:view");
    let narrow = h
        .anon
        .token_client_credentials(id, secret, Some("reports:view"))
        .await
        .unwrap();
    assert_eq!(narrow.scope, "reports:view");
    let access = h
        .anon
        .module_access(&narrow.access_token, "reports")
        .await
        .unwrap();
    assert_eq!(
        access.actions,
        vec![Action::View],
        "the narrowed token has no report"
    );
    let refused = h
        .anon
        .module_access(&narrow.access_token, "assets")
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(403));
}

#[tokio::test]
async fn grace_window_accepts_both_secrets_then_only_the_new_one() {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let h = start_with_clock(ServiceConfig::default(), clock.clone()).await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let id = c.consumer.client_id.clone();
    let old = c.client_secret.clone().expect("a secret");
    let rotated = h
        .admin
        .rotate_secret(
            c.consumer.id,
            &RotateSecret {
                grace_seconds: 2,
                revoke_tokens: false,
            },
        )
        .await
        .unwrap();
    let new = rotated.client_secret.clone();
    assert!(
        h.anon
            .token_client_credentials(&id, &old, None)
            .await
            .is_ok()
    );
    assert!(
        h.anon
            .token_client_credentials(&id, &new, None)
            .await
            .is_ok()
    );
    // The window is the two seconds asked for: both secrets to its last millisecond, then
    // the new one alone.
    let until = rotated.previous_secret_valid_until.unwrap();
    assert_eq!(until, clock.now_for_tests() + chrono::Duration::seconds(2));
    clock.advance(chrono::Duration::milliseconds(1999));
    assert!(
        h.anon
            .token_client_credentials(&id, &old, None)
            .await
            .is_ok()
    );
    clock.advance(chrono::Duration::milliseconds(2));
    let err = h
        .anon
        .token_client_credentials(&id, &old, None)
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some("invalid_client"));
    assert!(
        h.anon
            .token_client_credentials(&id, &new, None)
            .await
            .is_ok()
    );

    // Without grace the old secret stops at once.
    let again = h
        .admin
        .rotate_secret(c.consumer.id, &RotateSecret::default())
        .await
        .unwrap();
    let err = h
        .anon
        .token_client_credentials(&id, &new, None)
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some("invalid_client"));
    assert!(
        h.anon
            .token_client_credentials(&id, &again.client_secret, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rotation_keeps_tokens_unless_told_to_revoke_them() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Jwt).await;
    let kept = h.token(&c).await;
    let rotated = h
        .admin
        .rotate_secret(c.consumer.id, &RotateSecret::default())
        .await
        .unwrap();
    assert!(
        h.anon
            .module_access(&kept.access_token, "reports")
            .await
            .is_ok()
    );
    h.admin
        .rotate_secret(
            c.consumer.id,
            &RotateSecret {
                grace_seconds: 0,
                revoke_tokens: true,
            },
        )
        .await
        .unwrap();
    let err = h
        .anon
        .module_access(&kept.access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
    let _ = rotated;
}

#[tokio::test]
async fn disabling_and_deleting_cut_credentials_and_tokens_at_once() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    let token = h.token(&c).await;
    let off = h
        .admin
        .update_consumer(
            c.consumer.id,
            &ConsumerPatch {
                enabled: Some(false),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let err = h
        .anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some("invalid_client"));
    assert_eq!(err.status(), Some(401));
    let denied = h
        .anon
        .module_access(&token.access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(401));
    let seen = h
        .admin
        .introspect(token.access_token.expose(), None)
        .await
        .unwrap();
    assert!(!seen.active);

    h.admin
        .update_consumer(
            c.consumer.id,
            &ConsumerPatch {
                enabled: Some(true),
                ..Default::default()
            },
            Some(off.version),
        )
        .await
        .unwrap();
    // Enabled again: new tokens work, the ones from before the disable stay dead.
    let err = h
        .anon
        .module_access(&token.access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(
        err.status(),
        Some(401),
        "a re-enabled consumer revives nothing"
    );
    let fresh = h.token(&c).await;
    assert!(
        h.anon
            .module_access(&fresh.access_token, "reports")
            .await
            .is_ok()
    );

    h.admin.delete_consumer(c.consumer.id).await.unwrap();
    let err = h
        .anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some("invalid_client"));
    let denied = h
        .anon
        .module_access(&token.access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(401));

    // Still void after a restart.
    let access_token = token.access_token.clone();
    let h = h.restart(ServiceConfig::default()).await;
    let denied = h
        .anon
        .module_access(&access_token, "reports")
        .await
        .unwrap_err();
    assert_eq!(denied.status(), Some(401));
}

#[tokio::test]
async fn failures_are_throttled_per_client_and_audited() {
    let h = start_with(ServiceConfig {
        client_failures_per_client: 3,
        ..ServiceConfig::default()
    })
    .await;
    let victim = h.reports_consumer(TokenFormat::Opaque).await;
    let other = h.reports_consumer(TokenFormat::Opaque).await;
    let wrong = SecretText::new(consola::domain::secret::generate(
        consola::domain::secret::SecretKind::ClientSecret,
    ));
    for _ in 0..3 {
        let err = h
            .anon
            .token_client_credentials(&victim.consumer.client_id, &wrong, None)
            .await
            .unwrap_err();
        assert_eq!(code(&err), Some("invalid_client"));
    }
    // Further guesses are refused at once…
    let response = raw()
        .post(format!("{}/oauth/token", h.url()))
        .header(
            "authorization",
            basic(&victim.consumer.client_id, wrong.expose()),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    // …while the owner of the Clave, with the right secret, is not locked out.
    let (id, secret) = creds(&victim);
    assert!(
        h.anon
            .token_client_credentials(id, secret, None)
            .await
            .is_ok()
    );
    // Another client is not slowed down.
    let (id, secret) = creds(&other);
    assert!(
        h.anon
            .token_client_credentials(id, secret, None)
            .await
            .is_ok()
    );

    let log = h
        .admin
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            ..Default::default()
        })
        .await
        .unwrap();
    let oauth_denials = log
        .items
        .iter()
        .filter(|e| e.module == "OAuth" && e.target == victim.consumer.client_id)
        .count();
    assert!(
        oauth_denials >= 4,
        "each denial is audited ({oauth_denials})"
    );
    for event in &log.items {
        assert!(!event.description.contains(wrong.expose()));
        assert!(
            !event
                .description
                .contains(victim.client_secret.as_ref().expect("a secret").expose())
        );
    }
}

#[tokio::test]
async fn failures_are_throttled_per_address() {
    let h = start_with(ServiceConfig {
        client_failures_per_ip: 4,
        ..ServiceConfig::default()
    })
    .await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    // The integration has been at work from this address.
    h.anon
        .token_client_credentials(id, secret, None)
        .await
        .unwrap();
    let wrong = SecretText::new(consola::domain::secret::generate(
        consola::domain::secret::SecretKind::ClientSecret,
    ));
    for i in 0..4 {
        let _ = h
            .anon
            .token_client_credentials(&format!("desconocido{i}"), &wrong, None)
            .await;
    }
    // The address's further failures are refused, whatever Clave they name…
    for client_id in ["desconocido9", id] {
        let err = h
            .anon
            .token_client_credentials(client_id, &wrong, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(429), "{client_id}");
    }
    // …but the integration sharing it still gets its tokens.
    assert!(
        h.anon
            .token_client_credentials(id, secret, None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn dashboard_counts_tokens_and_failures_and_they_survive_a_restart() {
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    for _ in 0..3 {
        h.anon
            .token_client_credentials(id, secret, None)
            .await
            .unwrap();
    }
    let wrong = SecretText::new("consola_cs_nope".into());
    let _ = h.anon.token_client_credentials(id, &wrong, None).await;
    let figures = h.admin.dashboard(&DashboardQuery::default()).await.unwrap();
    assert_eq!(figures.tokens_issued, 3);
    assert_eq!(figures.failed_authentications, 1);
    assert_eq!(
        figures.series.iter().map(|p| p.tokens_issued).sum::<u64>(),
        3
    );
    let h = h.restart(ServiceConfig::default()).await;
    let figures = h.admin.dashboard(&DashboardQuery::default()).await.unwrap();
    assert_eq!(
        (figures.tokens_issued, figures.failed_authentications),
        (3, 1)
    );
}

#[tokio::test]
async fn expires_in_is_configurable() {
    let h = start_with(ServiceConfig {
        access_token_ttl: chrono::Duration::seconds(120),
        ..ServiceConfig::default()
    })
    .await;
    let c = h.reports_consumer(TokenFormat::Jwt).await;
    let token = h.token(&c).await;
    assert_eq!(token.expires_in, 120);
    let seen = h
        .admin
        .introspect(token.access_token.expose(), None)
        .await
        .unwrap();
    assert_eq!(seen.exp.unwrap() - seen.iat.unwrap(), 120);
}

#[tokio::test]
async fn the_revocation_list_in_memory_keeps_the_operators_bound() {
    let h = start_with(ServiceConfig {
        max_revocations_in_memory: 2,
        ..ServiceConfig::default()
    })
    .await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let (id, secret) = creds(&c);
    let mut tokens = Vec::new();
    for _ in 0..4 {
        tokens.push(h.token(&c).await.access_token);
    }
    for token in &tokens {
        h.anon
            .revoke(token.expose(), Some((id, secret)))
            .await
            .unwrap();
    }
    assert!(
        h.server.service.revocations_in_memory() <= 2,
        "{} kept",
        h.server.service.revocations_in_memory()
    );
    // Beyond the bound, revoking still works: it cuts the consumer's earlier tokens.
    for token in &tokens {
        let err = h.anon.module_access(token, "reports").await.unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
    // Tokens issued after the cut work (the cut is at the millisecond after it).
    eventually("a fresh token works", Duration::from_secs(5), || async {
        let fresh = h.token(&c).await;
        h.anon
            .module_access(&fresh.access_token, "reports")
            .await
            .is_ok()
    })
    .await;
    // And the cut holds after a restart.
    let h = h.restart(ServiceConfig::default()).await;
    for token in &tokens {
        let err = h.anon.module_access(token, "reports").await.unwrap_err();
        assert_eq!(err.status(), Some(401));
    }
}

/// A form body that arrives in pieces (here three writes, apart in time) is read whole.
#[tokio::test]
async fn a_body_sent_in_pieces_is_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let h = start().await;
    let c = h.reports_consumer(TokenFormat::Opaque).await;
    let body = "grant_type=client_credentials&scope=reports%3Aview";
    let head = format!(
        "POST /oauth/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Authorization: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n",
        basic(
            &c.consumer.client_id,
            c.client_secret.as_ref().expect("a secret").expose()
        ),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(h.server.addr)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    for piece in [&body[..7], &body[7..30], &body[30..]] {
        tokio::time::sleep(Duration::from_millis(30)).await;
        stream.write_all(piece.as_bytes()).await.expect("piece");
    }
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"scope\":\"reports:view\""), "{answer}");
}

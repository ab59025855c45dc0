//! Guessing is slowed down and then refused per user and per address, without refusing
//! others; an unknown username costs the same time as a wrong password.

mod common;

use common::*;
use consola::domain::*;
use consola::service::{Caller, ServiceError};
use std::time::{Duration, Instant};

fn login(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: password.into(),
    }
}

#[tokio::test]
async fn one_address_guessing_many_names_is_refused_while_others_get_in() {
    let t = TestServer::start().await;
    let _ = t.setup().await;
    let service = &t.server.service;
    let attacker = Caller::anonymous("198.51.100.7".parse().unwrap());
    let colleague = Caller::anonymous("198.51.100.8".parse().unwrap());
    let mut refused_after = None;
    for i in 0..60 {
        match service
            .login(&attacker, login(&format!("nadie{i}"), "x"))
            .await
        {
            Err(ServiceError::Unauthenticated) => {}
            Err(ServiceError::TooManyRequests { retry_after }) => {
                assert!(retry_after >= 1);
                refused_after = Some(i);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        refused_after,
        Some(50),
        "the address is refused after 50 failures"
    );
    // Even the right password from that address waits…
    assert!(matches!(
        service
            .login(&attacker, login("superadmin", PASSWORD))
            .await,
        Err(ServiceError::TooManyRequests { .. })
    ));
    // …while the same user from elsewhere gets in.
    assert!(
        service
            .login(&colleague, login("superadmin", PASSWORD))
            .await
            .is_ok()
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn unknown_usernames_take_as_long_as_wrong_passwords() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    for i in 0..8 {
        sup.create_user(&NewUser {
            username: format!("real{i}"),
            display_name: "Real".into(),
            password: PASSWORD.into(),
            role: Role::ReadOnly,
        })
        .await
        .unwrap();
    }
    let service = &t.server.service;
    let mut unknown = Vec::new();
    let mut wrong = Vec::new();
    // Interleaved, from distinct addresses, and each name tried as often on both sides
    // (failures of one name slow down), so neither the throttle nor machine load favours
    // one side.
    for round in 0..3 {
        for i in 0..8u8 {
            let caller =
                Caller::anonymous(format!("203.0.113.{}", round * 10 + i).parse().unwrap());
            let started = Instant::now();
            let _ = service
                .login(&caller, login(&format!("fantasma{i}"), "x"))
                .await;
            unknown.push(started.elapsed());
            let started = Instant::now();
            let _ = service
                .login(&caller, login(&format!("real{i}"), "x"))
                .await;
            wrong.push(started.elapsed());
        }
    }
    let (u, w) = (median(unknown), median(wrong));
    let ratio = u.as_secs_f64() / w.as_secs_f64();
    assert!(
        (0.5..2.0).contains(&ratio),
        "unknown {u:?} vs wrong password {w:?} (ratio {ratio:.2})"
    );
}

#[tokio::test]
async fn failures_slow_down_before_they_are_refused() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Reportes", "reports").await;
    let created = sup
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    let wrong = secret::SecretText::new(secret::generate(secret::SecretKind::ClientSecret));
    // Each further failure of the same user or client is answered 100 ms later than the one
    // before; the fifth is refused outright.
    for attempt in 0..4u64 {
        let started = Instant::now();
        assert_eq!(
            status_of(t.anonymous.login("superadmin", "incorrecta").await),
            401
        );
        assert!(
            started.elapsed() >= Duration::from_millis(100 * attempt),
            "login {attempt}"
        );
        let started = Instant::now();
        let err = t
            .anonymous
            .token_client_credentials(&created.consumer.client_id, &wrong, None)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(401));
        assert!(
            started.elapsed() >= Duration::from_millis(100 * attempt),
            "token {attempt}"
        );
    }
    assert_eq!(
        status_of(t.anonymous.login("superadmin", "incorrecta").await),
        401
    );
    assert_eq!(
        status_of(t.anonymous.login("superadmin", PASSWORD).await),
        429
    );
    for _ in 0..20 {
        let err = t
            .anonymous
            .token_client_credentials(&created.consumer.client_id, &wrong, None)
            .await
            .unwrap_err();
        if err.status() == Some(429) {
            return;
        }
    }
    panic!("the token endpoint never refused the client");
}

/// Wrong-password refusals written one by one (throttled ones are summarized).
async fn wrong_password_rows(sup: &consola::client::Client, what: &str) -> usize {
    sup.audit(&AuditQuery {
        action: Some(AuditAction::Denied),
        limit: Some(500),
        ..AuditQuery::default()
    })
    .await
    .unwrap()
    .items
    .iter()
    .filter(|e| e.description == what)
    .count()
}

#[tokio::test]
async fn a_burst_of_guesses_gets_at_most_the_limit_checked_and_no_session() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let service = t.server.service.clone();
    let attacker = Caller::anonymous("198.51.100.20".parse().unwrap());
    // Twenty wrong passwords at once, then the right one in the same burst: each is
    // polled (and so reaches the throttle) before any argon2 check ends.
    let wrong = futures::future::join_all((0..20).map(|i| {
        let (service, attacker) = (service.clone(), attacker.clone());
        async move {
            service
                .login(&attacker, login("superadmin", &format!("incorrecta {i}")))
                .await
        }
    }));
    let right = service.login(&attacker, login("superadmin", PASSWORD));
    let (wrong, right) = futures::future::join(wrong, right).await;
    let checked = wrong
        .iter()
        .filter(|r| matches!(r, Err(ServiceError::Unauthenticated)))
        .count();
    assert!(
        wrong.iter().all(|r| matches!(
            r,
            Err(ServiceError::Unauthenticated | ServiceError::TooManyRequests { .. })
        )),
        "{wrong:?}"
    );
    assert!(
        checked <= 5,
        "{checked} guesses were checked; the limit is 5"
    );
    assert!(
        matches!(right, Err(ServiceError::TooManyRequests { .. })),
        "the right password inside the burst gets no session: {right:?}"
    );
    assert!(wrong_password_rows(&sup, "usuario o contraseña incorrectos").await <= 5);
    // The refusals are one summary row with their count, not fifteen rows.
    let log = sup
        .audit(&AuditQuery {
            action: Some(AuditAction::Denied),
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    let summaries: Vec<_> = log
        .items
        .iter()
        .filter(|e| e.description.starts_with("inicio de sesión frenado"))
        .collect();
    assert!(
        (1..=2).contains(&summaries.len()),
        "one row per key and minute: {summaries:?}"
    );
    assert!(
        summaries
            .iter()
            .any(|e| e.description.contains("rechazos en este minuto")),
        "{summaries:?}"
    );
}

#[tokio::test]
async fn a_burst_on_the_authorization_page_gets_no_code() {
    let t = TestServer::start().await;
    let sup = t.setup().await;
    let g = group(&sup, "Portal", "reports").await;
    let app = sup
        .create_consumer(&NewConsumer {
            grant_type: GrantType::AuthorizationCode,
            redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
            ..new_consumer("Portal", g.id)
        })
        .await
        .unwrap();
    let request = consola::service::AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(app.consumer.client_id.clone()),
        redirect_uri: Some("http://127.0.0.1:9/callback".into()),
        scope: None,
        state: Some("xyz".into()),
        code_challenge: Some(consola::domain::oauth::pkce_s256(&"v".repeat(43))),
        code_challenge_method: Some("S256".into()),
        resource: None,
    };
    let service = t.server.service.clone();
    // The client is in memory before the burst, so each attempt reaches the throttle on
    // its first poll, in order.
    let ip = std::net::IpAddr::from([127, 0, 0, 1]);
    assert!(service.check_authorize(ip, &request).await.is_ok());
    let ip: std::net::IpAddr = "198.51.100.21".parse().unwrap();
    let wrong = futures::future::join_all((0..20).map(|i| {
        let (service, request) = (service.clone(), request.clone());
        async move {
            service
                .authorize(ip, &request, "superadmin", format!("incorrecta {i}"), true)
                .await
        }
    }));
    let right = service.authorize(ip, &request, "superadmin", PASSWORD.to_string(), true);
    let (wrong, right) = futures::future::join(wrong, right).await;
    assert!(
        !wrong
            .iter()
            .any(|r| matches!(r, Ok(consola::service::AuthorizeOutcome::Redirect(_)))),
        "{wrong:?}"
    );
    assert!(
        matches!(
            right,
            Err(consola::service::AuthorizeError::TooManyRequests { .. })
        ),
        "the right password inside the burst gets no code: {right:?}"
    );
    assert!(wrong_password_rows(&sup, "autorización: usuario o contraseña incorrectos").await <= 5);
}

#[tokio::test]
async fn password_checks_beyond_the_cap_and_its_queue_get_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut config =
        consola::server::ServerConfig::new(dir.path().join("data"), "127.0.0.1:0".parse().unwrap());
    config.database_url = database::url_for(&config.data_dir);
    config.system_secret = database::system_secret_for(config.database_url.as_deref());
    config.service.password_hashing_concurrency = 1;
    config.service.password_hashing_queue = 1;
    let server = consola::server::start(config).await.unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/api/v1/session", server.url());
    let answers = futures::future::join_all((0..12).map(|i| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(&url)
                .json(&serde_json::json!({"username": format!("nadie{i}"), "password": "x"}))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_string();
            (status, retry_after, kind)
        }
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(
        busy.iter()
            .all(|a| a.1.as_deref() == Some("1") && a.2 == "application/problem+json"),
        "{busy:?}"
    );
    assert!(
        answers.iter().all(|a| [401, 503].contains(&a.0)),
        "{answers:?}"
    );
    assert!(answers.iter().any(|a| a.0 == 401), "some were checked");
    // A refusal for being busy is no failed guess: the address is not throttled for it.
    let sup = http
        .post(&url)
        .json(&serde_json::json!({"username": "nadie0", "password": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(sup.status(), 401);
    server.shutdown().await;
}

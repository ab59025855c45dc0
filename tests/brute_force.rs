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

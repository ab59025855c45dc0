//! Setup, login, sessions, passwords and the login throttle, through the HTTP API.

mod common;

use chrono::Duration;
use common::*;
use consola::domain::*;
use consola::service::Caller;

fn setup_request() -> SetupRequest {
    SetupRequest {
        account_name: "FRACTTAL - Activación".into(),
        username: "superadmin".into(),
        display_name: "Sara Súper".into(),
        password: PASSWORD.into(),
    }
}

#[tokio::test]
async fn setup_once_then_conflict() {
    let t = TestServer::start().await;
    assert!(t.anonymous.setup_status().await.unwrap().needed);
    // Field errors come back together and nothing is created.
    let err = t
        .anonymous
        .setup(
            &SetupRequest {
                account_name: " ".into(),
                username: "a b".into(),
                display_name: "".into(),
                password: "corta".into(),
            },
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(422));
    let fields = err.field_errors();
    for field in ["account_name", "username", "display_name", "password"] {
        assert!(fields.get(field).is_some(), "{field}");
    }
    assert!(t.anonymous.setup_status().await.unwrap().needed);

    let user = t.anonymous.setup(&setup_request(), None).await.unwrap();
    assert_eq!(user.role, Role::SuperAdmin);
    assert!(!t.anonymous.setup_status().await.unwrap().needed);
    assert_eq!(
        status_of(t.anonymous.setup(&setup_request(), None).await),
        409
    );
    let admin = t.login("superadmin").await;
    assert_eq!(admin.account().await.unwrap().name, "FRACTTAL - Activación");
    // The legacy key exists from setup on.
    assert_eq!(admin.api_key().await.unwrap().key.len(), 32);
}

#[tokio::test]
async fn setup_from_beyond_loopback_needs_the_one_time_token() {
    let t = TestServer::start().await;
    let service = &t.server.service;
    let remote = Caller::anonymous("192.0.2.10".parse().unwrap());
    let token = service
        .issue_setup_token()
        .await
        .unwrap()
        .expect("token while not set up");
    let refused = service
        .setup(&remote, setup_request(), None)
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        consola::service::ServiceError::Forbidden(_)
    ));
    let wrong = service
        .setup(&remote, setup_request(), Some("consola_su_wrong"))
        .await
        .unwrap_err();
    assert!(matches!(
        wrong,
        consola::service::ServiceError::Forbidden(_)
    ));
    assert!(t.anonymous.setup_status().await.unwrap().needed);
    service
        .setup(&remote, setup_request(), Some(&token))
        .await
        .unwrap();
    assert!(!t.anonymous.setup_status().await.unwrap().needed);
    assert!(service.issue_setup_token().await.unwrap().is_none());
}

#[tokio::test]
async fn login_logout_and_me() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let me = admin.me().await.unwrap();
    assert_eq!(me.username, "superadmin");
    assert_eq!(me.display_name, "Sara Súper");
    // Usernames are not case-sensitive at login.
    let answer = t.anonymous.login("SuperAdmin", PASSWORD).await.unwrap();
    assert!(answer.expires_at > t.clock.now_for_tests() + Duration::hours(11));
    assert_eq!(
        status_of(t.anonymous.login("superadmin", "incorrecta").await),
        401
    );
    assert_eq!(status_of(t.anonymous.login("nadie", PASSWORD).await), 401);
    assert_eq!(status_of(t.anonymous.me().await), 401);
    admin.logout().await.unwrap();
    assert_eq!(status_of(admin.me().await), 401, "the token ends at logout");
    let other = t.anonymous.with_token(answer.token);
    assert!(other.me().await.is_ok(), "other sessions go on");
    let log = other.audit(&AuditQuery::default()).await.unwrap();
    let actions: Vec<_> = log.items.iter().map(|e| e.action).collect();
    assert!(actions.contains(&AuditAction::Logout));
    assert!(
        actions.contains(&AuditAction::Denied),
        "failed logins are logged"
    );
}

#[tokio::test]
async fn sessions_expire() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    t.clock.advance(Duration::hours(12) + Duration::seconds(1));
    assert_eq!(status_of(admin.me().await), 401);
}

#[tokio::test]
async fn repeated_failures_are_refused_with_retry_after_for_that_user_only() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    t.user(&admin, "operador", Role::ReadOnly).await;
    for _ in 0..5 {
        assert_eq!(
            status_of(t.anonymous.login("superadmin", "incorrecta").await),
            401
        );
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/session", t.server.url()))
        .json(&serde_json::json!({"username": "superadmin", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429, "even the right password waits");
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry));
    // Another user from the same address still gets in.
    assert!(t.anonymous.login("operador", PASSWORD).await.is_ok());
}

#[tokio::test]
async fn change_own_password_ends_other_sessions() {
    let t = TestServer::start().await;
    let admin = t.setup().await;
    let second = t.login("superadmin").await;
    let wrong = admin
        .change_password(&PasswordChange {
            current_password: "incorrecta".into(),
            new_password: "otra contraseña".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.status(), Some(422));
    assert!(wrong.field_errors().get("current_password").is_some());
    let short = admin
        .change_password(&PasswordChange {
            current_password: PASSWORD.into(),
            new_password: "corta".into(),
        })
        .await
        .unwrap_err();
    assert!(short.field_errors().get("new_password").is_some());
    admin
        .change_password(&PasswordChange {
            current_password: PASSWORD.into(),
            new_password: "otra contraseña".into(),
        })
        .await
        .unwrap();
    assert!(admin.me().await.is_ok());
    assert_eq!(status_of(second.me().await), 401);
    assert_eq!(
        status_of(t.anonymous.login("superadmin", PASSWORD).await),
        401
    );
    assert!(
        t.anonymous
            .login("superadmin", "otra contraseña")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn restart_on_the_same_data_directory_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start_server(data.clone(), None).await;
    let client = consola::client::Client::new(&server.url()).unwrap();
    client.setup(&setup_request(), None).await.unwrap();
    let login = client.login("superadmin", PASSWORD).await.unwrap();
    let admin = client.with_token(login.token.clone());
    let g = group(&admin, "Reportes", "reports").await;
    let created = admin
        .create_consumer(&new_consumer("ERP", g.id))
        .await
        .unwrap();
    let legacy = admin.api_key_secret().await.unwrap();
    server.shutdown().await;

    let server = start_server(data, None).await;
    let client = consola::client::Client::new(&server.url()).unwrap();
    assert!(!client.setup_status().await.unwrap().needed);
    let admin = client.with_token(login.token);
    assert_eq!(
        admin.me().await.unwrap().username,
        "superadmin",
        "sessions survive"
    );
    let again = admin.consumer(created.consumer.id).await.unwrap();
    assert_eq!(again, created.consumer);
    assert_eq!(admin.permission_groups().await.unwrap()[0].id, g.id);
    let legacy_again = admin.api_key_secret().await.unwrap();
    assert_eq!(
        legacy_again.secret, legacy.secret,
        "the key file opens the sealed secret"
    );
    assert!(
        token_endpoint_accepts(
            &server,
            &created.consumer.client_id,
            created.client_secret.as_ref().expect("a secret").expose()
        )
        .await
    );
    server.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn data_directory_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestServer::start().await;
    let _ = t.setup().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&t.data_dir()), 0o700);
    for entry in std::fs::read_dir(t.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
